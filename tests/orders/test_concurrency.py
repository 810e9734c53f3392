"""Real threads on PostgreSQL: racing orders never oversell and never deadlock."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from inventory.models import StockLevel
from orders import services
from orders.models import Order
from orders.services import LineInput, OrderInput
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 24


def run_threads(target, count):
    errors, results = [], []
    barrier = threading.Barrier(count)

    def worker(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


def test_orders_for_overlapping_skus_in_opposite_order_never_oversell(assert_ledger_reconciles):
    assert connection.vendor == "postgresql"
    store = factories.StoreFactory(code="S01")
    shelf = factories.store_location(store)
    a = factories.VariantFactory(sku="A", price=Decimal("10.00"))
    b = factories.VariantFactory(sku="B", price=Decimal("10.00"))
    factories.give_stock(shelf, a, 10)
    factories.give_stock(shelf, b, 10)
    customer = factories.CustomerFactory()

    def place(i):
        lines = [LineInput(a, 1, Decimal("10.00")), LineInput(b, 1, Decimal("10.00"))]
        if i % 2:
            lines.reverse()  # opposite line order: a deadlock if locks were not ordered
        try:
            services.order_place(
                OrderInput(
                    order_ref=f"RACE-{i}",
                    channel="web",
                    customer=customer,
                    lines=lines,
                    method="pickup",
                    store=store,
                    tender="card",
                    amount=Decimal("20.00"),
                    fingerprint=f"f{i}",
                )
            )
            return "ok"
        except services.OutOfStock:
            return "short"

    results, errors = run_threads(place, THREADS)
    assert errors == []
    assert results.count("ok") == 10
    assert results.count("short") == THREADS - 10
    for variant in (a, b):
        level = StockLevel.objects.get(location=shelf, variant=variant)
        assert (level.on_hand, level.reserved) == (10, 10)
    assert Order.objects.count() == 10
    assert_ledger_reconciles()


def test_identical_requests_at_the_same_moment_leave_one_order(assert_ledger_reconciles):
    store = factories.StoreFactory(code="S01")
    shelf = factories.store_location(store)
    a = factories.VariantFactory(sku="A", price=Decimal("10.00"))
    factories.give_stock(shelf, a, 50)
    customer = factories.CustomerFactory()

    def place(_i):
        _order, created = services.order_place(
            OrderInput(
                order_ref="SAME-1",
                channel="web",
                customer=customer,
                lines=[LineInput(a, 2, Decimal("10.00"))],
                method="pickup",
                store=store,
                tender="card",
                amount=Decimal("20.00"),
                fingerprint="same",
            )
        )
        return created

    results, errors = run_threads(place, 20)
    assert errors == []
    assert results.count(True) == 1
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(location=shelf, variant=a).reserved == 2
    assert_ledger_reconciles()
