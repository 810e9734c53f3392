"""Real threads on PostgreSQL: a parcel received short and damaged by many taps at
once records its discrepancy, its ledger rows and its re-sourcing once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from inventory.models import StockLevel, StockLocation, StockMovement
from orders import services, shipping
from orders.models import Fulfillment, OrderEvent, ReceivingDiscrepancy, State
from orders.services import LineInput, OrderInput
from tests import factories
from tests.orders.test_concurrency import run_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_racing_receipts_of_one_parcel_record_it_once(assert_ledger_reconciles):
    assert connection.vendor == "postgresql"
    store = factories.StoreFactory(code="S01")
    shelf = factories.store_location(store, receives_transfers=True)
    dc = factories.StockLocationFactory(code="DC1")
    coat = factories.VariantFactory(sku="COAT-M", price=Decimal("120.00"))
    factories.give_stock(dc, coat, 5)
    order, _created = services.order_place(
        OrderInput(
            order_ref="RACE-1",
            channel="web",
            customer=factories.CustomerFactory(),
            lines=[LineInput(coat, 3, coat.price)],
            method="pickup",
            store=store,
            tender="card",
            amount=Decimal("360.00"),
        )
    )
    f = order.fulfillments.get()
    services.fulfillment_transition(fulfillment=f, to=State.IN_TRANSIT, by=None)
    line = f.lines.get()
    associates = [
        factories.StaffFactory(role="associate", home_store=store) for _ in range(THREADS)
    ]

    def receive(i):
        shipping.transfer_receive(
            fulfillment=Fulfillment.objects.get(pk=f.pk),
            store=store,
            scanned={str(line.pk): 1},
            by=associates[i],
            receipt={line.pk: shipping.LineReceipt(good=1, short=1, damaged=1)},
        )
        return "ok"

    results, errors = run_threads(receive, THREADS)
    assert errors == [] and results.count("ok") == THREADS
    assert ReceivingDiscrepancy.objects.count() == 1
    assert OrderEvent.objects.filter(kind="receiving_discrepancy").count() == 1
    assert OrderEvent.objects.filter(fulfillment=f, to_state="received").count() == 1
    hold = StockLocation.objects.get(code="S01-HOLD")
    assert StockMovement.objects.filter(location=hold).count() == 3
    level = StockLevel.objects.get(location=hold, variant=coat)
    assert (level.on_hand, level.reserved) == (1, 0)
    level = StockLevel.objects.get(location=shelf, variant=coat)
    assert (level.on_hand, level.reserved) == (1, 1)
    # The two missing units re-sourced once from the DC's two left.
    level = StockLevel.objects.get(location=dc, variant=coat)
    assert (level.on_hand, level.reserved) == (2, 2)
    assert Fulfillment.objects.filter(order=order).count() == 2
    assert_ledger_reconciles()
