"""Sourcing plans, table-driven: each case is a network, a request and the plan."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from inventory.sourcing import Address, Method, SourcingRequest, plan_sourcing
from tests import factories

pytestmark = pytest.mark.django_db

# A Wednesday at 10:00 in London (stores open 09:00–20:00).
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def network(db):
    """S01 London and S02 Manchester (stores), DC1, a supplier."""
    s01 = factories.StoreFactory(
        code="S01", latitude=Decimal("51.515"), longitude=Decimal("-0.141"), postcode="W1D 1AN"
    )
    s02 = factories.StoreFactory(
        code="S02", latitude=Decimal("53.483"), longitude=Decimal("-2.244"), postcode="M4 3AQ"
    )
    s03 = factories.StoreFactory(
        code="S03", latitude=Decimal("51.507"), longitude=Decimal("-0.128"), postcode="WC2N 5DU"
    )
    return {
        "S01": factories.store_location(s01, ships_to_customers=True),
        "S02": factories.store_location(s02, ships_to_customers=True),
        "S03": factories.store_location(s03, ships_to_customers=False),
        "DC1": factories.StockLocationFactory(code="DC1", lead_time_days=2),
        "SUP": factories.StockLocationFactory(
            code="SUP", kind="supplier", lead_time_days=5, receives_transfers=False
        ),
        "stores": {"S01": s01, "S02": s02, "S03": s03},
    }


@pytest.fixture
def skus(db):
    return {name: factories.VariantFactory(sku=name) for name in ("A", "B", "C")}


CASES = [
    # id, stock {location: {sku: qty}}, method, store, address, wanted, expected plan, short
    (
        "on the shelf here",
        {"S01": {"A": 3}, "DC1": {"A": 50}},
        Method.PICKUP,
        "S01",
        None,
        {"A": 2},
        [("S01", "pickup", {"A": 2})],
        {},
    ),
    (
        "transfer from the DC",
        {"DC1": {"A": 50}, "S02": {"A": 5}},
        Method.PICKUP,
        "S01",
        None,
        {"A": 2},
        [("DC1", "ship_to_store", {"A": 2})],
        {},
    ),
    (
        "transfer from the nearest store",
        {"S02": {"A": 5}, "S03": {"A": 5}},
        Method.PICKUP,
        "S01",
        None,
        {"A": 2},
        [("S03", "ship_to_store", {"A": 2})],
        {},
    ),
    (
        "part on the shelf, rest by transfer",
        {"S01": {"A": 1}, "DC1": {"A": 9}},
        Method.PICKUP,
        "S01",
        None,
        {"A": 3},
        [("S01", "pickup", {"A": 1}), ("DC1", "ship_to_store", {"A": 2})],
        {},
    ),
    (
        "delivery from the DC",
        {"DC1": {"A": 5, "B": 5}, "S01": {"A": 5, "B": 5}},
        Method.SHIP,
        None,
        Address(postcode="W1A 1AA", country="GB"),
        {"A": 1, "B": 1},
        [("DC1", "ship_to_home", {"A": 1, "B": 1})],
        {},
    ),
    (
        "delivery from the nearest store that ships",
        {"S01": {"A": 2}, "S02": {"A": 2}, "S03": {"A": 9}},
        Method.SHIP,
        None,
        Address(postcode="M1 1AE", country="GB", lat=53.48, lon=-2.24),
        {"A": 1},
        [("S02", "ship_from_store", {"A": 1})],
        {},
    ),
    (
        "delivery by postcode area when the address has no coordinates",
        {"S01": {"A": 2}, "S02": {"A": 2}},
        Method.SHIP,
        None,
        Address(postcode="M15 4PS", country="GB"),
        {"A": 1},
        [("S02", "ship_from_store", {"A": 1})],
        {},
    ),
    (
        "fewest shipments: one store that has everything beats the DC plus another",
        {"DC1": {"A": 5}, "S02": {"A": 5, "B": 5}},
        Method.SHIP,
        None,
        Address(postcode="W1A 1AA", country="GB"),
        {"A": 1, "B": 1},
        [("S02", "ship_from_store", {"A": 1, "B": 1})],
        {},
    ),
    (
        "split across a store and a supplier",
        {"S01": {"A": 3}, "SUP": {"C": 10}},
        Method.SHIP,
        None,
        Address(postcode="W1A 1AA", country="GB"),
        {"A": 1, "C": 2},
        [("S01", "ship_from_store", {"A": 1}), ("SUP", "drop_ship", {"C": 2})],
        {},
    ),
    (
        "a till sale takes this shelf only",
        {"S01": {"A": 1}, "DC1": {"A": 50}},
        Method.CARRY_OUT,
        "S01",
        None,
        {"A": 1},
        [("S01", "carry_out", {"A": 1})],
        {},
    ),
    (
        "a till sale beyond this shelf is short",
        {"S01": {"A": 1}, "DC1": {"A": 50}},
        Method.CARRY_OUT,
        "S01",
        None,
        {"A": 2},
        [("S01", "carry_out", {"A": 1})],
        {"A": 1},
    ),
    (
        "nothing anywhere",
        {"S02": {"B": 3}},
        Method.PICKUP,
        "S01",
        None,
        {"A": 1},
        [],
        {"A": 1},
    ),
]


@pytest.mark.parametrize(
    ("stock", "method", "store", "address", "wanted", "expected", "short"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_sourcing_plan(network, skus, stock, method, store, address, wanted, expected, short):
    for code, quantities in stock.items():
        for sku, qty in quantities.items():
            factories.give_stock(network[code], skus[sku], qty)
    request = SourcingRequest(
        method=method,
        lines={skus[sku].pk: qty for sku, qty in wanted.items()},
        store=network["stores"].get(store),
        address=address,
        now=NOW,
    )
    with time_machine.travel(NOW, tick=False):
        plan = plan_sourcing(request)
    by_pk = {v.pk: name for name, v in skus.items()}
    got = [
        (line.location.code, line.fulfilment, {by_pk[v]: q for v, q in line.quantities.items()})
        for line in plan.lines
    ]
    assert got == expected
    assert {by_pk[v]: q for v, q in plan.short.items()} == short


def test_pickup_ready_dates_fall_inside_opening_hours(network, skus):
    factories.give_stock(network["S01"], skus["A"], 1)
    factories.give_stock(network["DC1"], skus["B"], 1)
    late = dt.datetime(2026, 11, 25, 19, 30, tzinfo=dt.UTC)  # 30 minutes before closing
    plan = plan_sourcing(
        SourcingRequest(
            method=Method.PICKUP,
            lines={skus["A"].pk: 1, skus["B"].pk: 1},
            store=network["stores"]["S01"],
            now=late,
        )
    )
    shelf, transfer = plan.lines
    # 30 minutes today, then 1.5 hours after opening at 09:00 the next day.
    assert shelf.ready_by == dt.datetime(2026, 11, 26, 10, 30, tzinfo=dt.UTC)
    # Arrives two days later at 19:30, after-hours: received next morning by 11:00.
    assert transfer.ready_by == dt.datetime(2026, 11, 28, 10, 30, tzinfo=dt.UTC)
