"""Promises kept, or the customer told before the date passes.

Every fulfilment records the promise it was placed with (`promised_by`, and why
in `promise`). A pickup keeps it by being ready in time (a parcel for it received
when the store opens on its day); a delivery by leaving with the carrier at the
promised cut-off (`promise["leaves"]`). When such a moment passes and the
fulfilment is not there, or when re-sourcing moved its estimate (`ready_by`) past
the promise, the customer is told once, before the promised date passes (Celery
beat: `orders.tasks.promises_watch`).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.promise import RECEIVE_TIME
from orders.models import Fulfillment, Method, State
from orders.pickup.base import NotHere, _local, _locked
from orders.services import _event
from retail import catalogue
from retail.messaging import message_send

# Picking the last units of a pickup takes minutes: one not ready this long before its
# promise will not make it.
READY_MARGIN = dt.timedelta(minutes=30)
# Not yet where the promise needs it: ready for a pickup, shipped for a delivery.
PICKUP_WAITING = frozenset({State.RESERVED, State.IN_TRANSIT, State.RECEIVED, State.PICKING})
DELIVERY_WAITING = frozenset({State.RESERVED, State.PICKING, State.PACKED})
NOT_ARRIVED = frozenset({State.RESERVED, State.IN_TRANSIT})
PICKUPS = frozenset({Method.PICKUP, Method.SHIP_TO_STORE})


def deadline(f: Fulfillment) -> dt.datetime | None:
    """The moment by which the fulfilment must have reached its next step for the
    promise to hold: a parcel for a pickup received when the store opens on its day,
    a pickup ready shortly before its time, a delivery gone with its carrier."""
    if f.promised_by is None:
        return None
    if f.method in PICKUPS:
        if f.method == Method.SHIP_TO_STORE and f.state in NOT_ARRIVED:
            return f.promised_by - RECEIVE_TIME
        return f.promised_by - READY_MARGIN
    leaves = (f.promise or {}).get("leaves")
    return dt.datetime.fromisoformat(leaves) if leaves else f.promised_by


def at_risk(f: Fulfillment, now: dt.datetime) -> bool:
    waiting = PICKUP_WAITING if f.method in PICKUPS else DELIVERY_WAITING
    due = deadline(f)
    if f.state not in waiting or due is None or f.late_notice_at is not None:
        return False
    moved = f.ready_by is not None and f.ready_by > f.promised_by
    return moved or now >= due


def promises_watch(now: dt.datetime | None = None) -> int:
    """Tell each customer whose promise is about to be missed, once. Idempotent."""
    now = now or timezone.now()
    candidates = Fulfillment.objects.filter(
        late_notice_at__isnull=True,
        promised_by__isnull=False,
        state__in=PICKUP_WAITING | DELIVERY_WAITING,
    ).only("pk", "method", "state", "promised_by", "ready_by", "promise", "late_notice_at")
    return sum(promise_warn(fulfillment_id=f.pk, now=now) for f in candidates if at_risk(f, now))


@transaction.atomic
def promise_warn(*, fulfillment_id: int, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    try:
        order, f = _locked(fulfillment_id)  # the order locked, as every change to it
    except NotHere:
        return 0
    if not at_risk(f, now):
        return 0
    f.late_notice_at = now
    f.save(update_fields=["late_notice_at", "updated_at"])
    store = f.pickup_store or order.store
    promised = _local(f.promised_by, store) if store else f.promised_by.isoformat()[:16]
    _event(
        order,
        f,
        "promise_at_risk",
        f.state,
        f.state,
        None,
        _("promised by %(at)s: the customer was told it will be late") % {"at": promised},
    )
    if order.customer is not None:
        lines = [
            catalogue.product_name(line.order_line.variant.product, order.customer.language or None)
            for line in f.lines.select_related("order_line__variant__product")
        ]
        later = f.ready_by if f.ready_by and f.ready_by > f.promised_by else None
        message_send(
            customer=order.customer,
            template="order_late",
            context={
                "first_name": order.customer.first_name,
                "order_ref": order.order_ref,
                "pickup": f.method in PICKUPS,
                "store": store.name if store else "",
                "promised": promised,
                "later": _local(later, store) if later and store else "",
                "items": lines,
            },
            key=f"order_late:{f.pk}",
        )
    return 1
