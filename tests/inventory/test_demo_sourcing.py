"""Sourcing on the demo network itself (`seed_demo`): Paris, Lyon, Berlin, Amsterdam
and Lisbon stores, DCs at Roissy (FR) and Bad Hersfeld (DE), its carriers and
holidays. Distance ranking, the border rule, "nearby" and splits, each with the words
the associate reads."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from inventory.aisle import product_availability, product_by_style
from inventory.models import LocationKind, SourcingSettings, StockLevel, StockLocation
from inventory.sourcing import Address, Method, SourcingRequest, plan_sourcing
from retail.models import Store
from tests import factories

pytestmark = pytest.mark.django_db

# A Tuesday with no holiday anywhere in the demo's countries, 10:00 in Paris.
TUESDAY = dt.datetime(2027, 3, 9, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AISLE_CURRENCY, settings.AISLE_COUNTRIES = "EUR", []
    call_command("seed_demo", force=True, stdout=io.StringIO())
    locations = {loc.code: loc for loc in StockLocation.objects.select_related("store")}
    for code in ("S01", "S02", "S03"):  # these stores ship web orders in the tests
        locations[code].ships_to_customers = True
        locations[code].save()
    product = factories.ProductFactory(style_code="TEST-SRC", name="Linen overshirt")
    shirt = factories.VariantFactory(product=product, sku="TEST-SRC-M", size="M")
    return {"loc": locations, "shirt": shirt}


def stock(demo, **units):
    for code, quantity in units.items():
        factories.give_stock(demo["loc"][code], demo["shirt"], quantity)


def plan(demo, method, quantity=1, *, store=None, address=None):
    with time_machine.travel(TUESDAY, tick=False):
        return plan_sourcing(
            SourcingRequest(
                method=method,
                lines={demo["shirt"].pk: quantity},
                store=Store.objects.get(code=store) if store else None,
                address=address,
                now=TUESDAY,
            )
        )


def _the_network_is_where_the_tests_say(demo):
    loc = demo["loc"]
    assert {c: loc[c].country for c in ("S01", "S02", "S03", "DC1", "DC2")} == {
        "S01": "FR",
        "S02": "FR",
        "S03": "DE",
        "DC1": "FR",
        "DC2": "DE",
    }


def _a_delivery_comes_from_the_store_nearest_the_address(demo):
    stock(demo, S01=1, S02=1, S03=5)
    lyon = Address(postcode="69003", country="FR", lat=45.7597, lon=4.8422)
    [line] = plan(demo, Method.SHIP, address=lyon).lines
    assert (line.location.code, line.reason["why"]) == ("S02", "nearest")
    assert line.reason["km"] < 10
    paris = Address(postcode="75011", country="FR")  # no coordinates: postcode area
    [line] = plan(demo, Method.SHIP, address=paris).lines
    assert (line.location.code, line.reason["same_area"]) == ("S01", True)
    assert "In the same postcode area as the address." in line.explanation


def _no_border_is_crossed_for_what_the_country_has(demo):
    stock(demo, DC1=5, DC2=5)
    berlin = Address(postcode="10178", country="DE")
    [line] = plan(demo, Method.SHIP, address=berlin).lines
    assert (line.location.code, line.reason["border"]) == ("DC2", False)
    # Only France has it: it crosses the border, and says so.
    StockLevel.objects.filter(location=demo["loc"]["DC2"]).delete()
    [line] = plan(demo, Method.SHIP, address=berlin).lines
    assert (line.location.code, line.reason["why"], line.reason["border"]) == (
        "DC1",
        "abroad",
        True,
    )
    name = line.location.name
    assert line.explanation[0] == f"Not in stock in DE: DC1 {name} sends it from FR."


def _a_pickup_in_paris_is_sent_from_the_french_dc_not_from_germany(demo):
    stock(demo, DC1=3, DC2=3, S03=3)
    [line] = plan(demo, Method.PICKUP, store="S01").lines
    assert (line.location.code, line.fulfilment) == ("DC1", "ship_to_store")
    assert line.reason["why"] == "only"  # the only French location with it


def _a_split_takes_the_fewest_parcels(demo):
    stock(demo, S02=1, DC1=1)
    lines = plan(demo, Method.PICKUP, 2, store="S01").lines
    assert sorted(line.location.code for line in lines) == ["DC1", "S02"]
    assert {line.reason["why"] for line in lines} == {"split"}
    StockLevel.objects.filter(location=demo["loc"]["S02"]).delete()
    stock(demo, DC1=1)  # now the DC alone has both
    [line] = plan(demo, Method.PICKUP, 2, store="S01").lines
    assert (line.location.code, line.quantities) == ("DC1", {demo["shirt"].pk: 2})


def _nearby_is_within_hqs_distance_on_the_product_page(demo):
    stock(demo, S02=2, S03=2)
    paris = Store.objects.get(code="S01")

    def nearby() -> list[str]:
        with time_machine.travel(TUESDAY, tick=False):
            rows = product_availability(product=product_by_style("TEST-SRC"), store=paris)
        return [s.code for s in rows[0].stores]

    assert nearby() == []  # Lyon (392 km) and Berlin are not nearby Paris
    hq = SourcingSettings.current()
    hq.nearby_km = 400
    hq.save()  # the cached network reloads with it
    assert nearby() == ["S02"]
    assert StockLocation.objects.filter(kind=LocationKind.DC).count() == 2


def _one_units_promise_is_the_plans_for_every_store_and_spread_of_stock(demo):
    """`pickup_promise` (what the availability API asks per SKU) against the full plan,
    for every demo store and stock spread over every subset of five locations."""
    import itertools

    from inventory.sourcing import load_snapshot, pickup_promise

    codes = ["S01", "S02", "S03", "DC1", "DC2"]
    stores = list(Store.objects.filter(code__in=codes))
    shirt = demo["shirt"].pk
    for size in range(len(codes) + 1):
        for held in itertools.combinations(codes, size):
            _no_stock(demo)
            stock(demo, **dict.fromkeys(held, 1))
            snapshot = load_snapshot([shirt])
            for store in stores:
                full = plan(demo, Method.PICKUP, store=store.code)
                expected = (
                    (full.lines[0].ready_by, full.lines[0].location.code)
                    if full.complete and full.lines
                    else (None, None)
                )
                ready, location = pickup_promise(store, shirt, snapshot, TUESDAY)
                got = (ready, location.code if location else None)
                assert got == expected, (held, store.code)


def _no_stock(demo):
    StockLevel.objects.filter(variant=demo["shirt"]).delete()


# One seeding per test (it takes seconds): each runs its parts on a clean shelf.
def test_deliveries_on_the_demo_network(demo):
    _the_network_is_where_the_tests_say(demo)
    for part in (_a_delivery_comes_from_the_store_nearest_the_address,
                 _no_border_is_crossed_for_what_the_country_has):  # fmt: skip
        _no_stock(demo)
        part(demo)


def test_pickups_on_the_demo_network(demo):
    for part in (_a_pickup_in_paris_is_sent_from_the_french_dc_not_from_germany,
                 _a_split_takes_the_fewest_parcels,
                 _nearby_is_within_hqs_distance_on_the_product_page,
                 _one_units_promise_is_the_plans_for_every_store_and_spread_of_stock):  # fmt: skip
        _no_stock(demo)
        part(demo)
