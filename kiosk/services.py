"""The kiosk's one write: reserve and collect. A customer reserves one unit of a
size to collect at this store or another, paid at the counter at hand-over.

The reservation belongs to a customer profile only when the customer proved it at
the kiosk (`kiosk.proof`: a one-time code e-mailed to the profile's address);
otherwise it is a guest reservation, which an associate links to the customer after
checking their ID at the counter. Each kiosk may take only so many reservations an
hour (counted in the database, `retail.limits`)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inventory.catalog_index import ProductEntry
from orders.models import Order
from orders.services import LineInput, OrderInput, order_place
from retail import catalogue, limits, messaging
from retail.models import Customer, Store, User, Variant

RESERVATIONS_SCOPE = "kiosk-reservations"
HOUR = 3600


class TooManyReservations(Exception):
    def __init__(self):
        super().__init__(
            _("This kiosk has taken many reservations in the last hour. Ask an associate.")
        )


def _kiosk_key(kiosk_user: User | None, kiosk_store: Store) -> str:
    if kiosk_user is not None and kiosk_user.pk:
        return f"user:{kiosk_user.pk}"
    return f"store:{kiosk_store.pk}"


def kiosk_reserve(
    *,
    kiosk_store: Store,
    product: ProductEntry,
    sku: str,
    collect_at: str,
    nonce: str,
    customer: Customer | None = None,
    kiosk_user: User | None = None,
) -> Order:
    """Reserve one unit (the page's `nonce` makes a double tap one order) for the
    proven `customer`, or as a guest (None). Raises a Django ValidationError, an
    OrderError or TooManyReservations with the message; nothing is written."""
    variant = next((v for v in product.variants if v.sku == sku), None)
    if variant is None:
        raise ValidationError(_("Choose a size."))
    if not (len(nonce) == 32 and nonce.isalnum()):
        raise ValidationError(_("The page is out of date: start again."))
    store = kiosk_store
    if collect_at and collect_at != kiosk_store.code:
        store = Store.objects.filter(
            code=collect_at[:16], pickup_enabled=True, is_open=True
        ).first()
        if store is None:
            raise ValidationError(_("Choose a store that offers pickup."))
    key = _kiosk_key(kiosk_user, kiosk_store)
    order_ref = f"K-{kiosk_store.code}-{nonce[:12].upper()}"
    if not Order.objects.filter(order_ref=order_ref).exists() and limits.reached(
        RESERVATIONS_SCOPE, key, limit=settings.AISLE_KIOSK_RESERVATIONS_PER_HOUR, window=HOUR
    ):
        raise TooManyReservations()
    return _reserve(store, variant.id, customer, order_ref, kiosk_store=kiosk_store, key=key)


def _reserve(store, variant_id: int, customer, order_ref: str, *, kiosk_store, key: str):
    """One unit reserved to collect at `store` (the kiosk's own, or another)."""
    with transaction.atomic():
        variant = Variant.objects.select_related("product").get(pk=variant_id)
        order, created = order_place(
            OrderInput(
                order_ref=order_ref,
                channel="kiosk",
                customer=customer,
                lines=[LineInput(variant, 1, variant.price)],
                method="pickup",
                store=store,
                pay_at_pickup=True,
                fingerprint=f"{variant.pk}|{customer.pk if customer else 'guest'}",
            )
        )
        if created:
            limits.hit(RESERVATIONS_SCOPE, key)
        if created and customer is not None:
            messaging.message_send(
                customer=customer,
                template="order_confirmation",
                context={
                    "first_name": ""
                    if customer.name in (customer.email, customer.phone)
                    else customer.first_name,
                    "order_ref": order.order_ref,
                    "store": store.name,
                    "amount": f"{order.total:.2f}",
                    "currency": order.currency,
                    "lines": [
                        f"1 × {catalogue.product_name(variant.product, customer.language or None)}"
                        f" ({variant.sku})"
                    ],
                    "delivery": "pickup_here",
                    "pickup_store": store.name,
                    "pay_at_pickup": True,
                },
                key=f"order-confirmation:{order.order_ref}",
            )
    return order
