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


def stock_replenished(payload: dict) -> None:
    """`stock_replenished` at a store: a follow-up for the store's customers who
    wishlisted that SKU, or left the product in a cart and wear this size."""
    from inventory.models import StockLocation

    location = (
        StockLocation.objects.select_related("store")
        .filter(pk=payload.get("location_id"), store__isnull=False)
        .first()
    )
    variant = Variant.objects.select_related("product").filter(pk=payload.get("variant_id")).first()
    if location is None or variant is None:
        return
    store = location.store
    since = timezone.now() - LOOKBACK
    interested = (
        BrowsingEvent.objects.filter(
            occurred_at__gte=since,
            customer__preferred_store=store,
            customer__tracking_consent=True,
            customer__merged_into__isnull=True,
            variant__product_id=variant.product_id,
            kind__in=(EventKind.WISHLIST_ADD, EventKind.ADD_TO_CART),
        )
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
