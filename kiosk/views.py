"""The customer-facing kiosk (`/kiosk/`), for kiosk accounts only."""

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from inventory import aisle
from orders import pickup
from orders.models import Order
from orders.services import LineInput, OrderError, OrderInput, order_place
from retail import access, messaging
from retail import services as retail_services
from retail.access import Area, area_required
from retail.models import Store, Variant


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
# No staff powers and no customer profile: the kiosk shows products and stock only,
# takes the customer's own e-mail or phone for the confirmation, and reserves for
# pickup (paid at the counter at hand-over). Idle pages return to the start screen.


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


def _product_page(request, store, entry, *, message="", status=200, given=None):
    rows = aisle.product_availability(product=entry, store=store)
    context = {
        "store": store,
        "product": entry,
        "rows": [r for r in rows if r.here > 0 or r.ready_here is not None],
        "message": message,
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


@area_required(Area.KIOSK)
@require_POST
def reserve(request: HttpRequest, style_code: str) -> HttpResponse:
    """Reserve one size of a product for pickup in this store, paid at the counter."""
    store = _kiosk_store(request)
    entry = aisle.product_by_style(style_code)
    if store is None or entry is None:
        raise Http404(_("This product is not in the catalog, or no longer sold."))
    post = request.POST
    given = {k: post.get(k, "") for k in ("sku", "email", "phone", "collect_at")}
    variant = next((v for v in entry.variants if v.sku == given["sku"]), None)
    nonce = post.get("nonce", "")
    try:
        if variant is None:
            raise ValidationError(_("Choose a size."))
        if not (len(nonce) == 32 and nonce.isalnum()):
            raise ValidationError(_("The page is out of date: start again."))
        collect_at = store
        if given["collect_at"] and given["collect_at"] != store.code:
            collect_at = Store.objects.filter(
                code=given["collect_at"][:16], pickup_enabled=True, is_open=True
            ).first()
            if collect_at is None:
                raise ValidationError(_("Choose a store that offers pickup."))
        order = _reserve(collect_at, variant.id, given, nonce, kiosk_store=store)
    except ValidationError as exc:
        return _product_page(
            request, store, entry, message=" ".join(exc.messages), status=400, given=given
        )
    except OrderError as exc:
        return _product_page(
            request, store, entry, message=exc.detail, status=exc.status, given=given
        )
    return redirect(reverse("kiosk:reserved") + f"?order={order.order_ref}")


def _reserve(store, variant_id: int, given: dict, nonce: str, *, kiosk_store):
    """One unit reserved to collect at `store` (the kiosk's own, or another)."""
    with transaction.atomic():
        customer, _created = retail_services.customer_find_or_create_walk_in(
            name="", email=given["email"], phone=given["phone"], store=kiosk_store, by=None
        )
        variant = Variant.objects.select_related("product").get(pk=variant_id)
        order, created = order_place(
            OrderInput(
                order_ref=f"K-{kiosk_store.code}-{nonce[:12].upper()}",
                channel="kiosk",
                customer=customer,
                lines=[LineInput(variant, 1, variant.price)],
                method="pickup",
                store=store,
                pay_at_pickup=True,
                fingerprint=f"{variant.pk}|{customer.pk}",
            )
        )
        if created:
            messaging.message_send(
                customer=customer,
                template="order_confirmation",
                context={
                    "first_name": ""
                    if customer.name in (customer.email, customer.phone)
                    else customer.first_name,
                    "order_ref": order.order_ref,
                    "store": store.name,
                    "total": f"{order.total} {order.currency}",
                    "lines": [f"1 × {variant.product.name} ({variant.sku})"],
                    "delivery": "pickup_here",
                    "pickup_store": store.name,
                    "pay_at_pickup": True,
                },
                key=f"order-confirmation:{order.order_ref}",
            )
    return order


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
