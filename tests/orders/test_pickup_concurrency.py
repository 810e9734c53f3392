"""Real threads on PostgreSQL: a pickup is handed over once, and marking it ready
sends one message, however many associates and retries race."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection

from inventory.models import MovementKind, StockLevel, StockMovement
from orders import pickup
from orders.models import Fulfillment, OrderEvent, State
from retail import outbox
from retail.models import OutboundMessage, OutboxEntry
from tests import factories
from tests.orders.pickups import make_ready, network, pick_all, place
from tests.orders.test_concurrency import run_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_concurrent_hand_overs_hand_the_order_over_once(assert_ledger_reconciles):
    assert connection.vendor == "postgresql"
    store = factories.StoreFactory(code="S01")
    net = network(store, shelf_units=5)
    f = place(store, [(net["jumper"], 2), (net["scarf"], 1)]).fulfillments.get()
    make_ready(f, store)
    f.refresh_from_db()
    associates = [
        factories.StaffFactory(role="associate", home_store=store) for _ in range(THREADS)
    ]

    def hand_over(i):
        try:
            pickup.pickup_hand_over(
                fulfillment=Fulfillment(pk=f.pk), code=f.pickup_code, by=associates[i], store=store
            )
            return "handed over"
        except pickup.AlreadyEnded:
            return "refused"

    results, errors = run_threads(hand_over, THREADS)
    assert errors == []
    assert results.count("handed over") == 1
    assert results.count("refused") == THREADS - 1
    f.refresh_from_db()
    assert f.state == State.COLLECTED
    for variant, units in ((net["jumper"], 2), (net["scarf"], 1)):
        level = StockLevel.objects.get(location=net["shelf"], variant=variant)
        assert (level.on_hand, level.reserved) == (5 - units, 0)
        assert (
            StockMovement.objects.filter(
                kind=MovementKind.SALE, variant=variant, location=net["shelf"]
            ).count()
            == 1
        )
    assert OrderEvent.objects.filter(fulfillment=f, to_state="collected").count() == 1
    assert_ledger_reconciles()


def test_racing_mark_ready_and_a_retried_ready_task_send_one_message():
    store = factories.StoreFactory(code="S01")
    net = network(store, shelf_units=5)
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    pick_all(f, store)

    def ready(_i):
        pickup.pickup_mark_ready(fulfillment=Fulfillment(pk=f.pk), by=None, store=store)
        return "ok"

    results, errors = run_threads(ready, THREADS)
    assert errors == [] and results.count("ok") == THREADS
    f.refresh_from_db()
    assert f.state == State.READY
    assert OrderEvent.objects.filter(fulfillment=f, to_state="ready").count() == 1
    entry = OutboxEntry.objects.get(key=f"pickup_ready:{f.pk}")

    # The ready task retried from many workers at once (outbox entry run again, and
    # the task body called directly, as a duplicate delivery would).
    def retry(i):
        if i % 2:
            outbox.run(entry.pk)
        else:
            pickup.pickup_ready_notify(fulfillment_id=f.pk)
        message = OutboundMessage.objects.get(template="pickup_ready")
        outbox.run(OutboxEntry.objects.get(key=f"message:{message.pk}").pk)
        return "ok"

    results, errors = run_threads(retry, THREADS)
    assert errors == []
    assert OutboundMessage.objects.filter(template="pickup_ready").count() == 1
    assert len(mail.outbox) == 1
    assert f.pickup_code in mail.outbox[0].body
