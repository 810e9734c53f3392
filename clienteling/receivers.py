"""Domain-event receivers (registered in `ClientelingConfig.ready()`); each is
idempotent and changes data only through services."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from clienteling import attribution, services
from clienteling.models import BrowsingEvent, EventKind
from retail.models import Customer, Variant

LOOKBACK = dt.timedelta(days=60)
MAX_TASKS = 50


def tracking_withdrawn(payload: dict) -> None:
    """`tracking_consent_withdrawn`: the customer's stored browsing is deleted."""
    services.browsing_erase(customer_id=int(payload["customer_id"]))


def order_placed(payload: dict) -> None:
    """`order_placed` in any channel: credit the associates who served the customer."""
    attribution.order_credit(order_id=int(payload["order_id"]))


def order_cancelled(payload: dict) -> None:
    """`order_cancelled`: its credits are reversed."""
    attribution.credit_reverse(order_id=int(payload["order_id"]))


def appointment_changed(payload: dict) -> None:
    """`appointment_changed`: the associate's preparation task follows the appointment
    (reassigned with it, done when it is cancelled or over)."""
    from clienteling.appointments import associate

    associate.prepare_task_follow(appointment_id=int(payload["appointment_id"]))


def stock_replenished(payload: dict) -> None:
    """`stock_replenished` at a store (one SKU, `variant_id`, or many from a stock feed,
    `variant_ids`): a follow-up for the store's customers who wishlisted that SKU, or
    left the product in a cart and wear this size."""
    from inventory.models import StockLocation

    location = (
        StockLocation.objects.select_related("store")
        .filter(pk=payload.get("location_id"), store__isnull=False)
        .first()
    )
    ids = payload.get("variant_ids") or [payload.get("variant_id")]
    if location is None or not ids:
        return
    store = location.store
    since = timezone.now() - LOOKBACK
    asked = BrowsingEvent.objects.filter(
        occurred_at__gte=since,
        customer__preferred_store=store,
        customer__tracking_consent=True,
        customer__merged_into__isnull=True,
        kind__in=(EventKind.WISHLIST_ADD, EventKind.ADD_TO_CART),
    )
    variants = Variant.objects.select_related("product").filter(pk__in=ids)
    if len(ids) > 1:
        # Only the SKUs whose product someone here wished for or left in a cart.
        wanted = asked.filter(variant__product_id__in=variants.values("product_id"))
        variants = variants.filter(product_id__in=wanted.values("variant__product_id"))
    for variant in variants:
        _replenished_tasks(store, location, variant, asked)


def _replenished_tasks(store, location, variant, asked) -> None:
    interested = (
        asked.filter(variant__product_id=variant.product_id)
        .values("customer_id", "kind", "variant_id")
        .annotate(last=Max("occurred_at"))
        .order_by("-last")[: MAX_TASKS * 4]
    )
    customers = {
        c.pk: c for c in Customer.objects.filter(pk__in={row["customer_id"] for row in interested})
    }
    today = store.local_now().date()
    made = 0
    for row in interested:
        customer = customers[row["customer_id"]]
        if row["kind"] == EventKind.WISHLIST_ADD and row["variant_id"] == variant.pk:
            kind = "wishlist"
        elif row["kind"] == EventKind.ADD_TO_CART and (
            variant.size in set(map(str, customer.sizes.values()))
        ):
            kind = "cart"
        else:
            continue
        title = (
            _("Wishlist item back in stock here: %(product)s (%(sku)s)")
            if kind == "wishlist"
            else _("Abandoned cart item now in their size here: %(product)s, size %(size)s")
        ) % {"product": variant.product.name, "sku": variant.sku, "size": variant.size}
        services.task_create(
            customer=customer,
            store=store,
            title=title,
            due_on=today + dt.timedelta(days=2),
            by=None,
            source=f"stock_replenished:{location.code}:{variant.sku}",
            key=f"replenished:{kind}:{customer.pk}:{variant.pk}:{store.pk}:{today.isoformat()}",
        )
        made += 1
        if made >= MAX_TASKS:
            return
