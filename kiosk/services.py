"""The kiosk's one write: reserve and collect. A customer reserves one unit of a
size to collect at this store or another, paid at the counter at hand-over; the
confirmation goes to the e-mail or phone they typed (matched to their profile)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inventory.catalog_index import ProductEntry
from orders.models import Order
from orders.services import LineInput, OrderInput, order_place
from retail import messaging
from retail import services as retail_services
from retail.models import Store, Variant


def kiosk_reserve(
    *,
    kiosk_store: Store,
    product: ProductEntry,
    sku: str,
    email: str,
    phone: str,
    collect_at: str,
    nonce: str,
) -> Order:
    """Reserve one unit (the page's `nonce` makes a double tap one order). Raises a
    Django ValidationError or an OrderError with the message; nothing is written."""
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
    return _reserve(
        store, variant.id, {"email": email, "phone": phone}, nonce, kiosk_store=kiosk_store
    )


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
