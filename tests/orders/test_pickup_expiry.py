"""Reminders and expiry of ready pickups (Celery beat), with time travel."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from inventory.models import MovementKind, StockLevel, StockMovement
from orders import pickup, tasks
from orders.models import OrderEvent, Refund, State
from retail.models import OutboundMessage
from tests.orders.pickups import make_ready, network, place

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
# A Monday morning in Paris; the test store opens 9:00-20:00 (Sundays 9:00-17:00).
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)


def at(moment):
    return time_machine.travel(moment, tick=False)


def sweep(capture):
    with capture(execute=True):
        return tasks.pickups_sweep()


def test_the_sweep_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["orders-pickups-sweep"]
    assert entry["task"] == "orders.tasks.pickups_sweep" == tasks.pickups_sweep.name


def test_reminder_the_day_before_once_then_expiry_releases_refunds_and_tells(
    store, django_capture_on_commit_callbacks, assert_ledger_reconciles
):
    capture = django_capture_on_commit_callbacks
    net = network(store, shelf_units=3)
    with at(MONDAY_10):
        order = place(store, [(net["jumper"], 1)], ref="WEB-EXPIRES")
        f = order.fulfillments.get()
        with capture(execute=True):
            make_ready(f, store)
    f.refresh_from_db()
    assert f.hold_until == MONDAY_10 + dt.timedelta(days=7)
    level = StockLevel.objects.get(location=net["shelf"], variant=net["jumper"])
    assert level.reserved == 1

    # Two days before the end: nothing yet.
    with at(MONDAY_10 + dt.timedelta(days=5)):
        assert sweep(capture) == {"reminded": 0, "expired": 0}
    # Sunday 10:30, within the last day and opening hours: the reminder, once.
    for hour in (10.5, 11, 16):
        with at(MONDAY_10.replace(day=8, hour=0) + dt.timedelta(hours=hour)):
            sweep(capture)
    reminders = OutboundMessage.objects.filter(template="pickup_reminder")
    assert reminders.count() == 1
    assert reminders.get().context["code"] == f.pickup_code
    assert OrderEvent.objects.filter(kind="pickup_reminded").count() == 1

    # The hold ends Monday 10:00: expired, stock released, refund recorded, customer told.
    with at(MONDAY_10 + dt.timedelta(days=7, minutes=1)):
        assert sweep(capture) == {"reminded": 0, "expired": 1}
        assert sweep(capture) == {"reminded": 0, "expired": 0}  # idempotent
    f.refresh_from_db()
    assert f.state == State.EXPIRED
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (3, 0)
    assert StockMovement.objects.filter(
        kind=MovementKind.RELEASE, variant=net["jumper"], location=net["shelf"]
    ).exists()
    refund = Refund.objects.get(order=order)
    assert refund.amount == net["jumper"].price
    expired = OutboundMessage.objects.get(template="pickup_expired")
    assert expired.context["refund"] == "60.00"
    assert OrderEvent.objects.filter(
        fulfillment=f, kind="fulfillment_changed", to_state="expired"
    ).exists()
    order.refresh_from_db()
    assert order.status == "cancelled"
    subjects = [m.subject for m in mail.outbox]
    assert sum("waiting for you" in s for s in subjects) == 1
    assert sum("was not collected" in s for s in subjects) == 1
    assert_ledger_reconciles()


def test_reminder_waits_for_the_store_to_open(store, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    net = network(store, shelf_units=3)
    # Made ready at 03:00 (a night shift): the hold ends next week at 03:00.
    night = dt.datetime(2026, 3, 3, 3, 0, tzinfo=PARIS)
    with at(night):
        f = place(store, [(net["scarf"], 1)], ref="WEB-NIGHT").fulfillments.get()
        make_ready(f, store)
    with at(night + dt.timedelta(days=6, minutes=30)):  # 03:30, the store is closed
        assert sweep(capture)["reminded"] == 0
    with at(night + dt.timedelta(days=6, hours=6, minutes=5)):  # 09:05, open
        assert sweep(capture)["reminded"] == 1
    assert OutboundMessage.objects.filter(template="pickup_reminder").count() == 1


def test_missed_beats_are_caught_up(store, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    net = network(store, shelf_units=3)
    with at(MONDAY_10):
        f = place(store, [(net["scarf"], 1)], ref="WEB-MISSED").fulfillments.get()
        make_ready(f, store)
    # No beat ran for the whole hold period and three days more.
    with at(MONDAY_10 + dt.timedelta(days=10)):
        assert sweep(capture) == {"reminded": 0, "expired": 1}
    f.refresh_from_db()
    assert f.state == State.EXPIRED
    assert StockLevel.objects.get(location=net["shelf"], variant=net["scarf"]).reserved == 0
    assert OutboundMessage.objects.filter(template="pickup_expired").count() == 1
    assert not OutboundMessage.objects.filter(template="pickup_reminder").exists()
    # Its code no longer checks anyone in, nor hands anything over.
    with pytest.raises(pickup.AlreadyEnded, match="expired"):
        pickup.pickup_check_in(store=store, text=f.pickup_code, by=None)
    with pytest.raises(pickup.AlreadyEnded, match="expired"):
        pickup.pickup_hand_over(fulfillment=f, code=f.pickup_code, by=None, store=store)
