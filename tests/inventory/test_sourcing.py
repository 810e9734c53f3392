"""Sourcing plans, table-driven: each case is a network, a request and the plan, with
why each source was chosen; then the dates a plan promises (cut-offs, transit days,
borders, handling days, opening hours and closures)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from inventory.models import CarrierService
from inventory.promise import Why, explain
from inventory.sourcing import Address, Method, SourcingRequest, plan_sourcing
from retail.models import StoreClosure
from tests import factories

pytestmark = pytest.mark.django_db

PARIS = dt.timezone(dt.timedelta(hours=1))  # Central European Time in November
# A Wednesday, 10:00 in Paris and Berlin (stores open 09:00–20:00, Sunday to 17:00).
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def _store(code, city, postcode, lat, lon, country="FR", tz="Europe/Paris"):
    return factories.StoreFactory(
        code=code,
        city=city,
        postcode=postcode,
        country=country,
        time_zone=tz,
        latitude=Decimal(lat),
        longitude=Decimal(lon),
    )


def _site(code, kind, postcode, lat, lon, country, tz, lead=0, ships=True):
    return factories.StockLocationFactory(
        code=code,
        kind=kind,
        postcode=postcode,
        country=country,
        time_zone=tz,
        latitude=None if lat is None else Decimal(lat),
        longitude=None if lon is None else Decimal(lon),
        lead_time_days=lead,
        ships_to_customers=ships,
        receives_transfers=kind != "supplier",
    )


@pytest.fixture
def carriers(db):
    for country, cutoff_home, transit_home, cutoff_transfer in (
        ("FR", dt.time(16), 2, dt.time(18)),
        ("DE", dt.time(17), 1, dt.time(17)),
    ):
        CarrierService.objects.create(
            name=f"{country} Parcel", country=country, service="home", cutoff=cutoff_home,
            transit_days=transit_home, cross_border_days=2,
        )  # fmt: skip
        CarrierService.objects.create(
            name=f"{country} Freight", country=country, service="transfer",
            cutoff=cutoff_transfer, transit_days=1, cross_border_days=2,
        )  # fmt: skip


@pytest.fixture
def network(db, carriers):
    """Paris (two stores), Lyon, Berlin; a DC near Paris and one in Germany; a supplier."""
    s01 = _store("S01", "Paris", "75001", "48.860600", "2.337600")
    s02 = _store("S02", "Lyon", "69002", "45.764000", "4.835700")
    s03 = _store("S03", "Paris", "75011", "48.853200", "2.369300")
    s04 = _store("S04", "Berlin", "10117", "52.520000", "13.405000", "DE", "Europe/Berlin")
    return {
        "S01": factories.store_location(s01, ships_to_customers=True, lead_time_days=0),
        "S02": factories.store_location(s02, ships_to_customers=True, lead_time_days=0),
        "S03": factories.store_location(s03, ships_to_customers=False, lead_time_days=0),
        "S04": factories.store_location(s04, ships_to_customers=True, lead_time_days=0),
        "DC1": _site("DC1", "dc", "95700", "49.009700", "2.547900", "FR", "Europe/Paris"),
        "DC2": _site("DC2", "dc", "36251", "50.868000", "9.707000", "DE", "Europe/Berlin"),
        "SUP": _site("SUP", "supplier", "87000", None, None, "FR", "Europe/Paris", lead=3),
        "stores": {"S01": s01, "S02": s02, "S03": s03, "S04": s04},
    }


@pytest.fixture
def skus(db):
    return {name: factories.VariantFactory(sku=name) for name in ("A", "B", "C")}


PARIS_ADDRESS = Address(postcode="75002", country="FR")
LYON_ADDRESS = Address(postcode="69003", country="FR", lat=45.7600, lon=4.8500)
BERLIN_ADDRESS = Address(postcode="10178", country="DE")

CASES = [
    # id, stock {location: {sku: qty}}, method, store, address, wanted,
    # expected [(source, fulfilment, {sku: qty}, why)], short
    (
        "on the shelf here",
        {"S01": {"A": 3}, "DC1": {"A": 50}},
        Method.PICKUP, "S01", None, {"A": 2},
        [("S01", "pickup", {"A": 2}, Why.SHELF)], {},
    ),
    (
        "the DC before a store that is as soon",
        {"DC1": {"A": 50}, "S02": {"A": 5}},
        Method.PICKUP, "S01", None, {"A": 2},
        [("DC1", "ship_to_store", {"A": 2}, Why.DC)], {},
    ),
    (
        "the nearest of two stores as soon",
        {"S02": {"A": 5}, "S03": {"A": 5}},
        Method.PICKUP, "S01", None, {"A": 2},
        [("S03", "ship_to_store", {"A": 2}, Why.NEAREST)], {},
    ),
    (
        "in the country before a German DC",
        {"DC2": {"A": 50}, "S02": {"A": 5}},
        Method.PICKUP, "S01", None, {"A": 2},
        [("S02", "ship_to_store", {"A": 2}, Why.ONLY)], {},
    ),
    (
        "across the border only for what the country lacks",
        {"S02": {"A": 1}, "DC2": {"A": 9}},
        Method.PICKUP, "S01", None, {"A": 2},
        [
            ("S02", "ship_to_store", {"A": 1}, Why.SPLIT),
            ("DC2", "ship_to_store", {"A": 1}, Why.ABROAD),
        ],
        {},
    ),
    (
        "part on the shelf, rest by transfer",
        {"S01": {"A": 1}, "DC1": {"A": 9}},
        Method.PICKUP, "S01", None, {"A": 3},
        [("S01", "pickup", {"A": 1}, Why.SHELF), ("DC1", "ship_to_store", {"A": 2}, Why.ONLY)],
        {},
    ),
    (
        "delivery from the DC",
        {"DC1": {"A": 5, "B": 5}, "S01": {"A": 5, "B": 5}},
        Method.SHIP, None, PARIS_ADDRESS, {"A": 1, "B": 1},
        [("DC1", "ship_to_home", {"A": 1, "B": 1}, Why.DC)], {},
    ),
    (
        "delivery from the nearest store that ships",
        {"S01": {"A": 2}, "S02": {"A": 2}, "S03": {"A": 9}},
        Method.SHIP, None, LYON_ADDRESS, {"A": 1},
        [("S02", "ship_from_store", {"A": 1}, Why.NEAREST)], {},
    ),
    (
        "delivery by postcode area when the address has no coordinates",
        {"S01": {"A": 2}, "S02": {"A": 2}},
        Method.SHIP, None, Address(postcode="69003", country="FR"), {"A": 1},
        [("S02", "ship_from_store", {"A": 1}, Why.NEAREST)], {},
    ),
    (
        "fewest parcels: one store that has everything beats the DC plus another",
        {"DC1": {"A": 5}, "S02": {"A": 5, "B": 5}},
        Method.SHIP, None, PARIS_ADDRESS, {"A": 1, "B": 1},
        [("S02", "ship_from_store", {"A": 1, "B": 1}, Why.ONLY)], {},
    ),
    (
        "split across a store and a supplier",
        {"S01": {"A": 3}, "SUP": {"C": 10}},
        Method.SHIP, None, PARIS_ADDRESS, {"A": 1, "C": 2},
        [
            ("S01", "ship_from_store", {"A": 1}, Why.SPLIT),
            ("SUP", "drop_ship", {"C": 2}, Why.SPLIT),
        ],
        {},
    ),
    (
        "a French supplier before a sooner German DC",
        {"SUP": {"A": 5}, "DC2": {"A": 5}},
        Method.SHIP, None, PARIS_ADDRESS, {"A": 1},
        [("SUP", "drop_ship", {"A": 1}, Why.DROP_SHIP)], {},
    ),
    (
        "delivery in Germany from the German DC",
        {"DC1": {"A": 5}, "DC2": {"A": 5}},
        Method.SHIP, None, BERLIN_ADDRESS, {"A": 1},
        [("DC2", "ship_to_home", {"A": 1}, Why.ONLY)], {},
    ),
    (
        "delivery across the border when the country has none",
        {"DC1": {"A": 5}},
        Method.SHIP, None, BERLIN_ADDRESS, {"A": 1},
        [("DC1", "ship_to_home", {"A": 1}, Why.ABROAD)], {},
    ),
    (
        "a till sale takes this shelf only",
        {"S01": {"A": 1}, "DC1": {"A": 50}},
        Method.CARRY_OUT, "S01", None, {"A": 1},
        [("S01", "carry_out", {"A": 1}, Why.CARRY_OUT)], {},
    ),
    (
        "a till sale beyond this shelf is short",
        {"S01": {"A": 1}, "DC1": {"A": 50}},
        Method.CARRY_OUT, "S01", None, {"A": 2},
        [("S01", "carry_out", {"A": 1}, Why.CARRY_OUT)], {"A": 1},
    ),
    (
        "nothing anywhere",
        {"S02": {"B": 3}},
        Method.PICKUP, "S01", None, {"A": 1},
        [], {"A": 1},
    ),
]  # fmt: skip


def _stock(network, skus, stock):
    for code, quantities in stock.items():
        for sku, qty in quantities.items():
            factories.give_stock(network[code], skus[sku], qty)


def _plan(network, skus, method, wanted, *, store=None, address=None, now=NOW):
    request = SourcingRequest(
        method=method,
        lines={skus[sku].pk: qty for sku, qty in wanted.items()},
        store=network["stores"].get(store) if store else None,
        address=address,
        now=now,
    )
    with time_machine.travel(now, tick=False):
        return plan_sourcing(request)


@pytest.mark.parametrize(
    ("stock", "method", "store", "address", "wanted", "expected", "short"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_sourcing_plan(network, skus, stock, method, store, address, wanted, expected, short):
    _stock(network, skus, stock)
    plan = _plan(network, skus, method, wanted, store=store, address=address)
    by_pk = {v.pk: name for name, v in skus.items()}
    got = [
        (
            line.location.code,
            line.fulfilment,
            {by_pk[v]: q for v, q in line.quantities.items()},
            line.reason["why"],
        )
        for line in plan.lines
    ]
    assert got == expected
    assert {by_pk[v]: q for v, q in plan.short.items()} == short
    assert plan.split == (len(expected) > 1)
    for line in plan.lines:
        assert line.ready_by is not None and line.explanation


def _local(moment):
    return moment.astimezone(PARIS).replace(tzinfo=None)


def test_a_transfer_leaves_by_the_cut_off_and_is_received_within_opening_hours(network, skus):
    _stock(network, skus, {"DC1": {"A": 5}})
    before = dt.datetime(2026, 11, 25, 16, 59, tzinfo=dt.UTC)  # 17:59 in Paris
    after = dt.datetime(2026, 11, 25, 17, 1, tzinfo=dt.UTC)  # 18:01, after the 18:00 cut-off
    on_time = _plan(network, skus, Method.PICKUP, {"A": 1}, store="S01", now=before).lines[0]
    late = _plan(network, skus, Method.PICKUP, {"A": 1}, store="S01", now=after).lines[0]
    # Leaves Wednesday 18:00, one working day: received Thursday 09:00–11:00.
    assert _local(on_time.ready_by) == dt.datetime(2026, 11, 26, 11, 0)
    assert _local(late.ready_by) == dt.datetime(2026, 11, 27, 11, 0)
    assert on_time.reason["carrier"] == "FR Freight" and on_time.reason["transit_days"] == 1
    words = " ".join(on_time.explanation)
    assert "FR Freight" in words and "1 working day on the way" in words


def test_a_home_delivery_counts_working_days_and_skips_the_weekend(network, skus):
    _stock(network, skus, {"DC1": {"A": 5}})
    wednesday = _plan(network, skus, Method.SHIP, {"A": 1}, address=PARIS_ADDRESS).lines[0]
    # Leaves Wednesday 16:00, two working days: Friday.
    assert wednesday.ready_by.date() == dt.date(2026, 11, 27)
    friday_evening = dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC)  # after the cut-off
    friday = _plan(
        network, skus, Method.SHIP, {"A": 1}, address=PARIS_ADDRESS, now=friday_evening
    ).lines[0]
    # Leaves Monday, arrives Wednesday.
    assert friday.ready_by.date() == dt.date(2026, 12, 2)
    assert friday.reason["leaves"].startswith("2026-11-30T16:00")


def test_a_border_adds_the_carriers_cross_border_days(network, skus):
    _stock(network, skus, {"DC2": {"A": 5}})
    line = _plan(network, skus, Method.PICKUP, {"A": 1}, store="S01").lines[0]
    # Leaves Wednesday 17:00 in Germany; 1 + 2 working days: Monday, received by 11:00.
    assert _local(line.ready_by) == dt.datetime(2026, 11, 30, 11, 0)
    assert line.reason["border"] is True and line.reason["transit_days"] == 3
    assert "Not in stock in FR" in " ".join(line.explanation)


def test_a_suppliers_handling_days_come_before_its_carrier(network, skus):
    _stock(network, skus, {"SUP": {"A": 5}})
    line = _plan(network, skus, Method.SHIP, {"A": 1}, address=PARIS_ADDRESS).lines[0]
    # Three working days to Monday, leaves Monday 16:00, two days: Wednesday.
    assert line.ready_by.date() == dt.date(2026, 12, 2)


def test_shelf_pickups_are_ready_within_opening_hours(network, skus):
    _stock(network, skus, {"S01": {"A": 1}})
    late = dt.datetime(2026, 11, 25, 18, 30, tzinfo=dt.UTC)  # 19:30, half an hour to closing
    line = _plan(network, skus, Method.PICKUP, {"A": 1}, store="S01", now=late).lines[0]
    # 30 minutes today, then 1.5 hours after opening at 09:00 the next day.
    assert _local(line.ready_by) == dt.datetime(2026, 11, 26, 10, 30)


def test_a_holiday_at_the_pickup_store_moves_the_promise_and_says_so(network, skus):
    _stock(network, skus, {"DC1": {"A": 5}})
    StoreClosure.objects.create(
        store=network["stores"]["S01"], date=dt.date(2026, 11, 26), reason="Holiday"
    )
    line = _plan(network, skus, Method.PICKUP, {"A": 1}, store="S01").lines[0]
    assert _local(line.ready_by) == dt.datetime(2026, 11, 27, 11, 0)
    assert line.reason["closed"] == ["2026-11-26"]
    assert "The store is closed on Thu 26 Nov." in line.explanation


def test_a_closure_at_a_sending_store_delays_its_parcel(network, skus):
    _stock(network, skus, {"S03": {"A": 5}})
    StoreClosure.objects.create(store=network["stores"]["S03"], date=dt.date(2026, 11, 25))
    line = _plan(network, skus, Method.PICKUP, {"A": 1}, store="S01").lines[0]
    # S03 picks on Thursday, its parcel leaves Thursday and is received on Friday.
    assert _local(line.ready_by) == dt.datetime(2026, 11, 27, 11, 0)


def test_without_a_carrier_the_standard_one_applies(network, skus):
    CarrierService.objects.filter(country="FR", service="home").delete()
    _stock(network, skus, {"DC1": {"A": 5}})
    line = _plan(network, skus, Method.SHIP, {"A": 1}, address=PARIS_ADDRESS).lines[0]
    assert line.reason["carrier"] == ""
    assert "the standard carrier" in " ".join(line.explanation)
    assert line.ready_by.date() == dt.date(2026, 11, 27)


def test_the_nearest_reason_gives_the_distance(network, skus):
    _stock(network, skus, {"S02": {"A": 5}, "S03": {"A": 5}})
    line = _plan(network, skus, Method.PICKUP, {"A": 1}, store="S01").lines[0]
    assert line.location.code == "S03" and 2 < line.reason["km"] < 3
    name = line.location.name
    assert explain(line.reason)[0] == f"S03 {name} is as soon as the others and the nearest."
    assert f"{line.reason['km']} km away." in line.explanation
