"""The customer-facing kiosk (`/kiosk/`), for kiosk accounts only."""

import uuid

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from inventory import aisle
from kiosk import proof, services
from orders import pickup
from orders.models import Order
from orders.services import OrderError
from retail import access
from retail.access import Area, area_required
from retail.models import Store


@area_required(Area.KIOSK)
def kiosk_home(request: HttpRequest) -> HttpResponse:
    return render(request, "kiosk/home.html", {"store": access.current_store(request)})


@area_required(Area.KIOSK)
@require_POST
def check_in(request: HttpRequest) -> HttpResponse:
    """The customer checks in for a pickup with its code (typed, or read from the QR by
    the kiosk's scanner). The kiosk shows the first name only."""
    store = access.current_store(request)
    if store is None:
        return render(request, "kiosk/home.html", {"store": None}, status=403)
    try:
        f = pickup.pickup_check_in(store=store, text=request.POST.get("code", ""), by=request.user)
    except OrderError as exc:
        context = {"store": store, "message": exc.detail}
        return render(request, "kiosk/home.html", context, status=exc.status)
    first_name = f.order.customer.first_name if f.order.customer else ""
    return render(request, "kiosk/checked_in.html", {"store": store, "first_name": first_name})


# --- Reserve and collect: the endless aisle for customers themselves -------------------
# No staff powers and no customer profile on screen: the kiosk shows products and stock
# only. A reservation attaches to the customer's profile only after they prove it with
# a one-time code e-mailed to the profile's address (`kiosk.proof`); otherwise it is a
# guest reservation the associate links after checking ID. Idle pages return to the
# start screen.


def _kiosk_store(request: HttpRequest):
    return access.current_store(request)


@area_required(Area.KIOSK)
@require_GET
def aisle_search(request: HttpRequest) -> HttpResponse:
    store = _kiosk_store(request)
    if store is None:
        return render(request, "kiosk/home.html", {"store": None}, status=403)
    query = request.GET.get("q", "")
    page, message, status = None, "", 200
    if query.strip():
        try:
            page = aisle.catalog_search(query=query, store=store)
        except aisle.SearchError as exc:
            message, status = str(exc), 400
    context = {"store": store, "query": query[: aisle.MAX_QUERY], "page": page, "message": message}
    return render(request, "kiosk/aisle.html", context, status=status)


def _product_page(request, store, entry, *, message="", status=200, given=None, level="error"):
    rows = aisle.product_availability(product=entry, store=store)
    context = {
        "store": store,
        "product": entry,
        "rows": [r for r in rows if r.here > 0 or r.ready_here is not None],
        "message": message,
        "level": level,
        "given": given or {},
        "nonce": uuid.uuid4().hex,
        "pickup_stores": list(
            Store.objects.filter(pickup_enabled=True, is_open=True)
            .exclude(pk=store.pk)
            .order_by("code")
            .values_list("code", "name")
        ),
    }
    return render(request, "kiosk/product.html", context, status=status)


@area_required(Area.KIOSK)
@require_GET
def aisle_product(request: HttpRequest, style_code: str) -> HttpResponse:
    store = _kiosk_store(request)
    entry = aisle.product_by_style(style_code)
    if store is None or entry is None:
        raise Http404(_("This product is not in the catalog, or no longer sold."))
    return _product_page(request, store, entry)


def _given(post) -> dict:
    given = {k: post.get(k, "")[:254] for k in ("sku", "email", "collect_at")}
    given["nonce"] = post.get("nonce", "")[:32]
    return given


@area_required(Area.KIOSK)
@require_POST
def send_code(request: HttpRequest, style_code: str) -> HttpResponse:
    """E-mail a one-time code to the profile with the typed address (if any): the
    kiosk answers the same whether the address is known or not."""
    store = _kiosk_store(request)
    entry = aisle.product_by_style(style_code)
    if store is None or entry is None:
        raise Http404(_("This product is not in the catalog, or no longer sold."))
    given = _given(request.POST)
    try:
        proof.send_code(request, store=store, email=given["email"])
    except ValidationError as exc:
        return _product_page(
            request, store, entry, message=" ".join(exc.messages), status=400, given=given
        )
    except proof.TooManyCodes as exc:
        return _product_page(request, store, entry, message=str(exc), status=429, given=given)
    given["code_sent"] = True
    message = _(
        "If a customer profile has this e-mail address, we sent a code to it. Type the "
        "code below to reserve in your name."
    )
    return _product_page(request, store, entry, message=message, given=given, level="info")


@area_required(Area.KIOSK)
@require_POST
def reserve(request: HttpRequest, style_code: str) -> HttpResponse:
    """Reserve one size of a product for pickup, paid at the counter: in the name of
    the profile the customer proved with the e-mailed code, or as a guest."""
    store = _kiosk_store(request)
    entry = aisle.product_by_style(style_code)
    if store is None or entry is None:
        raise Http404(_("This product is not in the catalog, or no longer sold."))
    post = request.POST
    given = _given(post)
    nonce = post.get("nonce", "")
    if len(nonce) == 32 and nonce.isalnum():
        # A double tap or a replayed POST: the reservation it made, once.
        done = Order.objects.filter(
            order_ref=f"K-{store.code}-{nonce[:12].upper()}", channel="kiosk"
        ).first()
        if done is not None:
            return redirect(reverse("kiosk:reserved") + f"?order={done.order_ref}")
    customer = None
    if given["email"].strip() or post.get("code", "").strip():
        try:
            customer = proof.proven_customer(
                request, email=given["email"], code=post.get("code", "")
            )
        except proof.NotProven as exc:
            given["code_sent"] = True
            return _product_page(request, store, entry, message=str(exc), status=400, given=given)
    try:
        order = services.kiosk_reserve(
            kiosk_store=store,
            product=entry,
            sku=given["sku"],
            collect_at=given["collect_at"],
            nonce=post.get("nonce", ""),
            customer=customer,
            kiosk_user=request.user,
        )
    except ValidationError as exc:
        return _product_page(
            request, store, entry, message=" ".join(exc.messages), status=400, given=given
        )
    except services.TooManyReservations as exc:
        return _product_page(request, store, entry, message=str(exc), status=429, given=given)
    except OrderError as exc:
        return _product_page(
            request, store, entry, message=exc.detail, status=exc.status, given=given
        )
    proof.forget(request)
    return redirect(reverse("kiosk:reserved") + f"?order={order.order_ref}")


@area_required(Area.KIOSK)
@require_GET
def reserved(request: HttpRequest) -> HttpResponse:
    """What the kiosk shows after reserving: the order reference only, no personal data."""
    store = _kiosk_store(request)
    ref = request.GET.get("order", "")[:40]
    order = (
        Order.objects.filter(order_ref=ref, channel="kiosk")
        .filter(order_ref__startswith=f"K-{store.code}-")
        .select_related("store")
        .first()
    )
    if order is None:
        return redirect("kiosk:home")
    return render(request, "kiosk/reserved.html", {"store": store, "order": order})
