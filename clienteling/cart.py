"""The endless aisle's cart: what an associate is selling to one customer from the
whole network, kept on the server until it is placed as one order.

Prices always come from the catalog (nothing the tablet posts is a price); the
order goes through `orders.services.order_place` with channel `store`, the
associate recorded and credited; the customer is sent a confirmation through the
outbox. Placing locks the cart: a double tap or a resent form places one order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clienteling import attribution, gates
from clienteling.models import Cart, CartLine, CartState, Delivery
from inventory.sourcing import Address, Plan, SourcingRequest, plan_sourcing
from orders import credit
from orders.models import Order
from orders.services import LineInput, OrderError, OrderInput, money, order_place
from retail import geography, messaging, postcodes
from retail import services as retail_services
from retail.models import Customer, Store, User, Variant

MAX_LINES = 30
MAX_QUANTITY = 20
TENDERS = ("card", "cash", credit.TENDER)  # store credit: the customer's balance
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "country")


class CartError(Exception):
    """Refused, with a message for the associate; nothing was changed. A training
    gate's refusal carries its `explanation` (the certificate and course)."""

    def __init__(self, message: str = "", explanation=None) -> None:
        super().__init__(message)
        self.explanation = explanation


def cart_for(*, associate: User, store: Store) -> Cart:
    """The associate's open cart in this store (made when there is none)."""
    cart = Cart.objects.filter(associate=associate, store=store, state=CartState.OPEN).first()
    if cart is None:
        with transaction.atomic():
            cart, _created = Cart.objects.select_for_update().get_or_create(
                associate=associate, store=store, state=CartState.OPEN
            )
    return cart


def cart_lines(cart: Cart) -> list[CartLine]:
    return list(cart.lines.select_related("variant__product").order_by("pk"))


def _locked(cart: Cart) -> Cart:
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    if cart.state != CartState.OPEN:
        raise CartError(_("This cart was placed already; start a new one."))
    return cart


def _quantity(value) -> int:
    try:
        quantity = int(value)
    except (TypeError, ValueError):
        raise CartError(_("A quantity is a whole number.")) from None
    if not 0 <= quantity <= MAX_QUANTITY:
        raise CartError(_("A quantity is from 0 to %(n)s.") % {"n": MAX_QUANTITY})
    return quantity


def _assign(cart: Cart, customer: Customer) -> None:
    """Make the (locked) cart this customer's; a cart with another customer's items
    is refused: it is placed or emptied first."""
    customer = retail_services.customer_follow_merges(customer)
    if cart.customer_id not in (None, customer.pk) and cart.lines.exists():
        raise CartError(_("The cart is for another customer: place or empty it first."))
    if cart.customer_id != customer.pk:
        cart.customer = customer
        cart.save(update_fields=["customer", "updated_at"])


@transaction.atomic
def cart_add(
    *,
    cart: Cart,
    sku: str,
    quantity=1,
    action: str = "cart",
    customer: Customer | None = None,
    nonce: str = "",
) -> CartLine:
    """Add units of a SKU (`action` "recommendation" when it came from one); with a
    `customer` (one tap on their page) the cart becomes theirs in the same step. A
    form's `nonce` makes the same form, sent twice, add once."""
    cart = _locked(cart)
    if customer is not None:
        _assign(cart, customer)
    quantity = _quantity(quantity)
    if quantity < 1:
        raise CartError(_("Add at least one unit."))
    variant = (
        Variant.objects.select_related("product")
        .filter(sku=str(sku)[:40], active=True, product__active=True)
        .first()
    )
    if variant is None:
        raise CartError(_("This item is no longer sold."))
    line = cart.lines.filter(variant=variant).first()
    if line is None:
        if cart.lines.count() >= MAX_LINES:
            raise CartError(_("A cart holds at most %(n)s items.") % {"n": MAX_LINES})
        line = CartLine(cart=cart, variant=variant, quantity=0)
    if line.quantity + quantity > MAX_QUANTITY:
        raise CartError(_("A quantity is from 0 to %(n)s.") % {"n": MAX_QUANTITY})
    if nonce and not cache.add(f"aisle:cart-add:{cart.pk}:{str(nonce)[:64]}", 1, 3600):
        return line  # the same form sent twice (a double tap): added once
    line.quantity += quantity
    line.save()
    cart.save(update_fields=["updated_at"])
    if cart.customer_id is not None:
        attribution.serving_record(
            associate=cart.associate, store=cart.store, customer=cart.customer, action=action
        )
    return line


@transaction.atomic
def cart_set_quantity(*, cart: Cart, line_id, quantity) -> None:
    """Change a line's quantity; 0 removes it."""
    cart = _locked(cart)
    quantity = _quantity(quantity)
    line = cart.lines.filter(pk=line_id).first() if str(line_id).isdigit() else None
    if line is None:
        raise CartError(_("This line is not in the cart any more."))
    if quantity == 0:
        line.delete()
    else:
        line.quantity = quantity
        line.save(update_fields=["quantity"])
    cart.save(update_fields=["updated_at"])


@transaction.atomic
def cart_set_customer(*, cart: Cart, customer: Customer) -> Cart:
    cart = _locked(cart)
    _assign(cart, customer)
    attribution.serving_record(
        associate=cart.associate, store=cart.store, customer=cart.customer, action="serving"
    )
    return cart


@transaction.atomic
def cart_set_guest(*, cart: Cart, name: str, email: str, phone: str, by: User) -> Customer:
    """A walk-in guest: matched to the customer with this e-mail or phone, else a new
    walk-in profile. Raises CartError with the field messages for bad input."""
    cart = _locked(cart)
    try:
        customer, _created = retail_services.customer_find_or_create_walk_in(
            name=name, email=email, phone=phone, store=cart.store, by=by
        )
    except ValidationError as exc:
        raise CartError(" ".join(m for ms in exc.message_dict.values() for m in ms)) from exc
    _assign(cart, customer)
    return customer


@transaction.atomic
def cart_set_delivery(
    *, cart: Cart, delivery: str, pickup_store: str = "", address: dict | None = None
) -> Cart:
    cart = _locked(cart)
    if delivery not in Delivery.values:
        raise CartError(_("Choose how the customer gets the order."))
    cart.delivery, cart.pickup_store, cart.address = delivery, None, {}
    if delivery == Delivery.PICKUP_OTHER:
        store = Store.objects.filter(code=str(pickup_store)[:16], pickup_enabled=True).first()
        if store is None or not store.is_open:
            raise CartError(_("Choose a store that offers pickup."))
        cart.pickup_store = store
    elif delivery == Delivery.HOME:
        given = {k: " ".join(str((address or {}).get(k, "")).split())[:120] for k in ADDRESS_FIELDS}
        missing = [k for k in ("name", "line1", "city", "postcode", "country") if not given[k]]
        if missing:
            raise CartError(_("Give the name, street, city, postcode and country."))
        given["country"] = given["country"].upper()
        if len(given["country"]) != 2 or not given["country"].isalpha():
            raise CartError(_("The country is its two-letter code, e.g. FR."))
        if not geography.country_served(given["country"]):
            raise CartError(geography.not_served_message(given["country"]))
        if not postcodes.well_formed(given["country"], given["postcode"]):
            raise CartError(
                _("“%(postcode)s” is not a postcode in %(country)s (for example %(example)s).")
                % {
                    "postcode": given["postcode"],
                    "country": given["country"],
                    "example": postcodes.example(given["country"]) or "—",
                }
            )
        cart.address = {k: v for k, v in given.items() if v}
    cart.save(update_fields=["delivery", "pickup_store", "address", "updated_at"])
    return cart


@dataclass
class Preview:
    lines: list[CartLine]
    total: Decimal
    plan: Plan | None
    short: list[str]  # SKUs the network cannot promise now
    labels: dict[int, str]  # variant id -> "SKU name size colour"


def _total(lines: list[CartLine]) -> Decimal:
    """At catalog prices: nothing the tablet posts is a price."""
    return sum((money(line.variant.price * line.quantity) for line in lines), Decimal("0.00"))


def _method(cart: Cart) -> tuple[str, Store | None, dict | None]:
    if cart.delivery == Delivery.HOME:
        return "ship", None, cart.address
    return (
        "pickup",
        (cart.pickup_store if cart.delivery == Delivery.PICKUP_OTHER else cart.store),
        None,
    )


def cart_preview(cart: Cart) -> Preview:
    """The total at catalog prices and where each line would come from, and when."""
    lines = cart_lines(cart)
    total = _total(lines)
    labels = {
        line.variant_id: " ".join(
            x for x in (line.variant.sku, line.variant.size, line.variant.colour) if x
        )
        for line in lines
    }
    if not lines or (cart.delivery == Delivery.HOME and not cart.address):
        return Preview(lines, total, None, [], labels)
    method, store, address = _method(cart)
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
    plan = plan_sourcing(
        SourcingRequest(method=method, lines=wanted, store=store, address=Address.of(address))
    )
    short = sorted(labels[v].split(" ")[0] for v in plan.short)
    return Preview(lines, total, plan, short, labels)


def cart_place(*, cart: Cart, tender: str, by: User, quoted: dt.datetime | None = None) -> Order:
    """Place the cart as one order (channel `store`, credited to the associate) and send
    the customer a confirmation. A cart placed already answers with its order.

    `quoted` is the promise the page showed: an order that would come later, or whose
    date has passed since, is not placed (the associate tells the customer first)."""
    with transaction.atomic():
        cart = Cart.objects.select_for_update().get(pk=cart.pk)
        if cart.state == CartState.PLACED:
            return Order.objects.get(order_ref=cart.order_ref)
        if tender not in TENDERS:
            raise CartError(_("Choose how the customer pays."))
        if cart.customer_id is None:
            raise CartError(_("Choose the customer, or take a guest's e-mail or phone."))
        lines = cart_lines(cart)
        if not lines:
            raise CartError(_("The cart is empty."))
        if cart.delivery == Delivery.HOME and not cart.address:
            raise CartError(_("Give the delivery address first."))
        method, store, address = _method(cart)
        if cart.delivery == Delivery.HOME:
            gates.authorise(
                user=by, operation="aisle_delivery_order", target=f"cart:{cart.pk}", error=CartError
            )
        total = _total(lines)
        order_ref = f"{cart.store.code}-C{cart.pk}"
        content = "|".join(f"{ln.variant_id}x{ln.quantity}" for ln in lines)
        data = OrderInput(
            order_ref=order_ref,
            channel="store",
            customer=cart.customer,
            lines=[LineInput(ln.variant, ln.quantity, ln.variant.price) for ln in lines],
            method=method,
            store=store,
            address=address,
            tender=tender,
            amount=total,
            payment_reference=f"tablet:{cart.pk}",
            by=by,
            credited_to=cart.associate,
            fingerprint=hashlib.sha256(f"{content}|{method}|{tender}".encode()).hexdigest(),
            quoted=quoted,
        )
        try:
            order, _created = order_place(data)
        except OrderError as exc:
            raise CartError(str(exc)) from exc
        cart.state, cart.order_ref = CartState.PLACED, order.order_ref
        cart.save(update_fields=["state", "order_ref", "updated_at"])
        messaging.message_send(
            customer=cart.customer,
            template="order_confirmation",
            context={
                "first_name": cart.customer.first_name,
                "order_ref": order.order_ref,
                "store": cart.store.name,
                "amount": f"{order.total:.2f}",
                "currency": order.currency,
                "lines": [
                    f"{ln.quantity} × {ln.variant.product.name} ({ln.variant.sku})" for ln in lines
                ],
                "delivery": cart.delivery,
                "pickup_store": store.name if store is not None else "",
            },
            key=f"order-confirmation:{order.order_ref}",
        )
        return order


def merge_customer(*, survivor: Customer, duplicate: Customer) -> None:
    """Carts follow a customer merge (called by clienteling's registered handler)."""
    Cart.objects.filter(customer=duplicate).update(customer=survivor)
