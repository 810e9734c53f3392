"""Domain-event receivers (registered in `InsightsConfig.ready()`). Each only marks
the (store, day) keys and customers the event touched as dirty — an idempotent row
per key — and the beat task `insights.tasks.rollups_refresh` re-computes them. A late
event (a return, a pickup collected days later) re-opens only the days it touches."""

from __future__ import annotations

from insights import rollups


def _order(order_id=None, order_ref=None):
    from orders.models import Order

    rows = Order.objects.select_related("store")
    if order_id is not None:
        return rows.filter(pk=order_id).first()
    if order_ref:
        return rows.filter(order_ref=order_ref).first()
    return None


def order_changed(payload: dict) -> None:
    """`order_placed`, `order_cancelled`, `fulfillment_changed`: the order's day, today
    (a refund paid now), the days of its credits and of follow-ups it converts; and its
    customer."""
    order = _order(payload.get("order_id"), payload.get("order_ref"))
    if order is None:
        return
    rollups.mark_days(rollups.order_keys(order, now=True))
    rollups.mark_customers([order.customer_id])


def return_changed(payload: dict) -> None:
    """`return_requested`, `return_completed`, `return_cancelled`: today in the order's
    bucket (or the receiving store's, without a receipt), the days of the credits the
    return reverses; and the customer."""
    from django.utils import timezone

    from insights.dates import local_day
    from retail.models import Store

    order = _order(payload.get("order_id"))
    if order is not None:
        # Today in the order's bucket; the order's own day stays closed (unless a credit
        # the return reverses counts on it).
        from returns.models import Return

        ret = Return.objects.filter(pk=payload.get("return_id")).first()
        when = (ret.completed_at if ret is not None else None) or timezone.now()
        rollups.mark_days(rollups.order_keys(order, own_day=False, when=when))
        rollups.mark_customers([order.customer_id])
    else:
        store = Store.objects.filter(pk=payload.get("store_id")).first()
        if store is not None:
            rollups.mark_days([(store.pk, local_day(timezone.now(), store, "store"))])
    rollups.mark_customers([payload.get("customer_id")])


def customer_merged(payload: dict) -> None:
    """`customer_merged`: the survivor now has the duplicate's orders and browsing;
    the duplicate keeps no rollup."""
    rollups.mark_customers([payload.get("survivor_id"), payload.get("duplicate_id")])


def customer_changed(payload: dict) -> None:
    """`tracking_consent_withdrawn`: the customer's browsing is gone."""
    rollups.mark_customers([payload.get("customer_id")])
