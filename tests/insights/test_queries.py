"""The KPI functions read rollups in a fixed number of queries, whatever the data."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights import incentives, kpis, rollups
from insights.management.commands.kpis import document
from tests import factories
from tests.insights import factories as f

PERIOD = kpis.Scope(start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 3))


def counts(scope) -> dict[str, int]:
    result = {}
    for name, function in [*kpis.KPIS.items(), ("incentives", incentives.incentives)]:
        with CaptureQueriesContext(connection) as ctx:
            function(scope)
        result[name] = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        document(scope)
    result["document"] = len(ctx.captured_queries)
    return result


def grow(world, n: int) -> None:
    """n more stores, associates and customers, each with browsing, service and orders
    in every channel over the period."""
    a, lamp = world.variants["a"], world.variants["lamp"]
    for i in range(n):
        store = factories.StoreFactory(code=f"X{i:02d}", time_zone="Europe/Paris")
        associate = factories.StaffFactory(role="associate", home_store=store)
        for j in range(3):
            customer = factories.CustomerFactory()
            day = 1 + (i + j) % 3
            f.view(customer, a, f.at(f"2026-12-0{day} 08:00"))
            f.SellingSessionFactory(
                associate=associate,
                store=store,
                customer=customer,
                opened_at=f.at(f"2026-12-0{day} 09:00"),
                last_action_at=f.at(f"2026-12-0{day} 09:00"),
            )
            sold = f.sale(
                "store", f.at(f"2026-12-0{day} 10:00"), [(a, 2, "50.00")],
                customer=customer, store=store,
            )  # fmt: skip
            f.SalesCreditFactory(
                order=sold, associate=associate, store=store, channel="store", amount=sold.total
            )
            online = f.sale(
                "web", f.at(f"2026-12-0{day} 12:00"), [(lamp, 1, "80.00")],
                customer=customer, store=store,
            )  # fmt: skip
            f.FulfillmentFactory(
                order=online,
                pickup_store=store,
                ready_at=f.at(f"2026-12-0{day} 15:00"),
                collected_at=f.at(f"2026-12-0{day} 18:00"),
            )
            f.returned(sold, sold.lines.get(), 1, "50.00", f.at("2026-12-03 16:00"), store=store)


def test_kpis_run_the_same_queries_at_two_sizes(world):
    rollups.refresh(full=True)
    small = counts(PERIOD)
    grow(world, 6)
    rollups.refresh(full=True)
    large = counts(PERIOD)
    assert large == small
    assert small["document"] <= 40


def test_one_store_scope_runs_the_same_queries_at_two_sizes(world):
    rollups.refresh(full=True)
    scope = kpis.Scope(PERIOD.start, PERIOD.end, store=world.sh)
    small = counts(scope)
    grow(world, 4)
    rollups.refresh(full=True)
    assert counts(scope) == small
