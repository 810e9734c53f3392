"""The endless aisle's cart on the tablet (`/store/cart/`): lines, the customer (or a
walk-in guest), delivery, the sourcing plan before placing, and the order."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clienteling import cart as carts
from clienteling.models import Cart, CartState, Delivery
from orders import credit
from orders.models import Method, Order
from retail import access, catalogue
from retail.access import Area, area_required
from retail.models import Store
from retail.views import store_or_choose


def _cart(request: HttpRequest):
    """(store, the associate's open cart in it, None), or (None, None, a redirect)."""
    store, choose = store_or_choose(request)
    if choose:
        return None, None, choose
    return store, carts.cart_for(associate=request.user, store=store), None


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("cart:detail")
    return redirect(target or reverse("cart:detail"))


def _refused(request: HttpRequest, exc: carts.CartError) -> HttpResponse:
    """The cart page again, with what was refused (400); nothing was changed."""
    store, cart, choose = _cart(request)
    if choose:
        return choose
    return _render(
        request,
        store,
        cart,
        error=str(exc),
        status=403 if exc.explanation is not None else 400,
        explanation=exc.explanation,
    )


@area_required(Area.STORE)
@require_GET
def detail(request: HttpRequest) -> HttpResponse:
    store, cart, choose = _cart(request)
    if choose:
        return choose
    return _render(request, store, cart)


def _render(
    request: HttpRequest, store, cart, *, error: str = "", status: int = 200, explanation=None
):
    preview = carts.cart_preview(cart)
    how = dict(Method.choices)
    plan_rows = [
        {
            "location": pl.location,
            "how": how.get(pl.fulfilment, pl.fulfilment),
            "items": [(qty, preview.labels[v]) for v, qty in pl.quantities.items()],
            "ready_by": pl.ready_by,
            "why": pl.explanation,
        }
        for pl in (preview.plan.lines if preview.plan else [])
    ]
    pickup_stores = Store.objects.filter(pickup_enabled=True).exclude(pk=store.pk).order_by("code")
    # Store credit is offered when the cart's customer has some (its balance shown).
    balance = credit.credit_balance(cart.customer)
    with timezone.override(store.tz):
        return render(
            request,
            "clienteling/cart.html",
            {
                "store": store,
                "nav": "cart",
                "cart": cart,
                "customer": cart.customer,
                "preview": preview,
                "plan_rows": plan_rows,
                "deliveries": Delivery.choices,
                "pickup_stores": pickup_stores,
                "tenders": [t for t in carts.TENDERS if t != credit.TENDER or balance > 0],
                "credit_balance": balance,
                "error": error,
                "explanation": explanation,
            },
            status=status,
        )


@area_required(Area.STORE)
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    _store, cart, choose = _cart(request)
    if choose:
        return choose
    source = request.POST.get("source", "cart")
    customer_pk = request.POST.get("customer", "")
    customer = None
    if customer_pk.isdigit():  # one tap on a customer's page: the cart is for them
        customer = get_object_or_404(access.customers_for(request.user), pk=customer_pk)
    try:
        added = carts.cart_add(
            cart=cart,
            sku=request.POST.get("sku", ""),
            quantity=request.POST.get("quantity", 1),
            action="recommendation" if source == "recommendation" else "cart",
            customer=customer,
            nonce=request.POST.get("nonce", ""),
        )
    except carts.CartError as exc:
        if request.htmx:  # one tap on the customer's page: the answer replaces the button
            return HttpResponse(format_html('<span class="error" role="alert">{}</span>', exc))
        return _refused(request, exc)
    text = _("Added to the cart: %(item)s.") % {
        "item": catalogue.product_name(added.variant.product)
    }
    if request.htmx:
        link = format_html('<a href="{}">{}</a>', reverse("cart:detail"), _("Open the cart"))
        return HttpResponse(format_html('<span class="pill pill-good">{}</span> {}', text, link))
    messages.success(request, text)
    return _back(request)


def _change(request: HttpRequest, change) -> HttpResponse:
    """Apply `change(cart)` to the associate's open cart, then show the cart; a refusal
    shows it again with the message (400), nothing changed."""
    store, cart, choose = _cart(request)
    if choose:
        return choose
    try:
        change(cart)
    except carts.CartError as exc:
        return _render(request, store, cart, error=str(exc), status=400)
    return redirect("cart:detail")


@area_required(Area.STORE)
@require_POST
def line(request: HttpRequest, line_id: int) -> HttpResponse:
    quantity = request.POST.get("quantity")
    return _change(
        request, lambda cart: carts.cart_set_quantity(cart=cart, line_id=line_id, quantity=quantity)
    )


@area_required(Area.STORE)
@require_POST
def for_customer(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Serve this customer": the cart is theirs (from the customer's page)."""
    customer = get_object_or_404(access.customers_for(request.user), pk=pk)
    return _change(request, lambda cart: carts.cart_set_customer(cart=cart, customer=customer))


@area_required(Area.STORE)
@require_POST
def guest(request: HttpRequest) -> HttpResponse:
    given = {k: request.POST.get(k, "") for k in ("name", "email", "phone")}
    return _change(request, lambda cart: carts.cart_set_guest(cart=cart, by=request.user, **given))


@area_required(Area.STORE)
@require_POST
def delivery(request: HttpRequest) -> HttpResponse:
    post = request.POST
    return _change(
        request,
        lambda cart: carts.cart_set_delivery(
            cart=cart,
            delivery=post.get("delivery", ""),
            pickup_store=post.get("pickup_store", ""),
            address={k: post.get(k, "") for k in carts.ADDRESS_FIELDS},
        ),
    )


@area_required(Area.STORE)
@require_POST
def place(request: HttpRequest) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    # The open cart, or (a double tap) the one this associate placed a moment ago.
    cart = (
        Cart.objects.filter(associate=request.user, store=store, state=CartState.OPEN).first()
        or Cart.objects.filter(associate=request.user, store=store, state=CartState.PLACED)
        .order_by("-updated_at")
        .first()
    )
    if cart is None:
        return redirect("cart:detail")
    try:
        order = carts.cart_place(
            cart=cart,
            tender=request.POST.get("tender", ""),
            by=request.user,
            quoted=_quoted(request.POST.get("promised_by", "")),
        )
    except carts.CartError as exc:
        return _refused(request, exc)
    return redirect(reverse("cart:placed") + f"?order={order.order_ref}")


def _quoted(value: str):
    """The promise the page showed (ISO 8601), or None when absent or unreadable."""
    try:
        moment = dt.datetime.fromisoformat(value[:40])
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


@area_required(Area.STORE)
@require_GET
def placed(request: HttpRequest) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    cart = (
        Cart.objects.filter(
            associate=request.user,
            store=store,
            state=CartState.PLACED,
            order_ref=request.GET.get("order", "")[:64],
        )
        .select_related("customer")
        .first()
    )
    if cart is None:
        return redirect("cart:detail")
    order = Order.objects.prefetch_related("fulfillments__location", "lines__variant").get(
        order_ref=cart.order_ref
    )
    with timezone.override(store.tz):
        return render(
            request,
            "clienteling/cart_placed.html",
            {"store": store, "nav": "aisle", "cart": cart, "order": order},
        )
