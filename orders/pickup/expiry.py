"""The hold period: a reminder the day before it ends (in store hours), then expiry.
Run by Celery beat (`orders.tasks.pickups_sweep`); each step is idempotent and catches up."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import Fulfillment, State
from orders.pickup.base import (
    PICKUP_METHODS,
    REMIND_BEFORE,
    NotHere,
    _local,
    _locked,
    _log,
    _transition,
)
from retail.hours import next_open_moment
from retail.messaging import message_send
from retail.models import Store

# --- Reminders and expiry (Celery beat) -------------------------------------------------


def _open_now(store: Store, now: dt.datetime) -> bool:
    moment = next_open_moment(store, now)
    return moment is not None and moment == now


def pickups_remind(now: dt.datetime | None = None) -> int:
    """Remind customers whose hold ends within a day, inside their store's opening
    hours. Each pickup is reminded once; a missed beat is caught up at the next one."""
    now = now or timezone.now()
    due = (
        Fulfillment.objects.filter(
            method__in=PICKUP_METHODS,
            state=State.READY,
            reminded_at__isnull=True,
            hold_until__gt=now,
            hold_until__lte=now + REMIND_BEFORE,
        )
        .select_related("pickup_store")
        .prefetch_related("pickup_store__opening_hours", "pickup_store__closures")
    )
    sent = 0
    for f in due:
        if _open_now(f.pickup_store, now):
            sent += pickup_remind(fulfillment_id=f.pk, now=now)
    return sent


@transaction.atomic
def pickup_remind(*, fulfillment_id: int, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    try:
        order, f = _locked(fulfillment_id)
    except NotHere:
        return 0
    if f.state != State.READY or f.reminded_at is not None or f.hold_until is None:
        return 0
    if not now < f.hold_until <= now + REMIND_BEFORE:
        return 0
    f.reminded_at = now
    f.save(update_fields=["reminded_at"])
    _log(order, f, "pickup_reminded", by=None, store=None, reason=_("hold ends within a day"))
    if order.customer is not None:
        message_send(
            customer=order.customer,
            template="pickup_reminder",
            context={
                "first_name": order.customer.first_name,
                "order_ref": order.order_ref,
                "store": f.pickup_store.name,
                "code": f.pickup_code,
                "hold_until": _local(f.hold_until, f.pickup_store),
            },
            key=f"pickup_reminder:{f.pk}",
        )
    return 1


def pickups_expire(now: dt.datetime | None = None) -> int:
    """Expire every ready pickup whose hold has ended, however long ago (catch-up)."""
    now = now or timezone.now()
    ids = list(
        Fulfillment.objects.filter(
            method__in=PICKUP_METHODS, state=State.READY, hold_until__lte=now
        ).values_list("pk", flat=True)
    )
    return sum(pickup_expire(fulfillment_id=pk, now=now) for pk in ids)


@transaction.atomic
def pickup_expire(*, fulfillment_id: int, now: dt.datetime | None = None) -> int:
    """Stock released, refund recorded, event written, customer told: once."""
    now = now or timezone.now()
    try:
        order, f = _locked(fulfillment_id)
    except NotHere:
        return 0
    if f.state != State.READY or f.hold_until is None or f.hold_until > now:
        return 0
    last_refund = order.refunds.aggregate(m=Max("pk"))["m"] or 0
    _transition(f, State.EXPIRED, by=None, store=None, reason=_("pickup not collected in time"))
    refund = order.refunds.filter(pk__gt=last_refund).order_by("pk").last()
    if order.customer is not None:
        message_send(
            customer=order.customer,
            template="pickup_expired",
            context={
                "first_name": order.customer.first_name,
                "order_ref": order.order_ref,
                "store": f.pickup_store.name,
                "refund": f"{refund.amount:.2f}" if refund else "",
                "currency": order.currency,
            },
            key=f"pickup_expired:{f.pk}",
        )
    return 1


def pickups_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """The beat task's body: reminders first, then expiry."""
    now = now or timezone.now()
    return {"reminded": pickups_remind(now), "expired": pickups_expire(now)}
