"""`GET /api/v1/availability/`."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from tests import factories
from tests.inventory.places import place
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import assert_matches_schema

pytestmark = pytest.mark.django_db

URL = "/api/v1/availability/"
WEDNESDAY_10 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def net(store, other_store):
    """S01 in Paris, S02 in Saint-Denis, a DC and a supplier (the standard carrier)."""
    s01 = factories.store_location(place(store, "Paris"), lead_time_days=0)
    s02 = factories.store_location(place(other_store, "Saint-Denis"), lead_time_days=0)
    dc = factories.StockLocationFactory(
        code="DC1", country="FR", postcode="95700", time_zone="Europe/Paris", lead_time_days=0,
        latitude=Decimal("49.009700"), longitude=Decimal("2.547900"),
    )  # fmt: skip
    sup = factories.StockLocationFactory(
        code="SUP", kind="supplier", receives_transfers=False, country="FR", lead_time_days=3
    )
    a = factories.VariantFactory(sku="A", price=Decimal("10.00"))
    b = factories.VariantFactory(sku="B", price=Decimal("10.00"))
    factories.give_stock(s01, a, 5, safety_stock=1)
    factories.give_stock(dc, a, 10)
    factories.give_stock(s02, b, 2)
    factories.give_stock(sup, b, 7)
    _client, key = factories.api_client("availability:read")
    return {"api": ApiClientHelper(key), "a": a, "b": b, "s01": s01}


def test_network_totals_locations_and_pickup_here(net):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        response = net["api"].get(URL + "?sku=A&sku=B&store=S01")
    assert response.status_code == 200
    assert_matches_schema(response, "GET", URL)
    a, b = response.json()["skus"]
    assert a["available"] == 14  # 4 (5 − safety 1) at S01 + 10 at the DC
    assert {(loc["location"], loc["available"]) for loc in a["locations"]} == {
        ("S01", 4),
        ("DC1", 10),
    }
    assert a["pickup"] == {
        "store": "S01",
        "available_here": 4,
        "available_by_transfer": 10,
        "ready_by": "2026-11-25T13:00:00+01:00",  # in the store's time
    }
    # B is not in S01, which is listed anyway because it was asked for.
    assert b["available"] == 9
    assert ("S01", 0) in {(loc["location"], loc["available"]) for loc in b["locations"]}
    assert b["pickup"]["available_here"] == 0
    assert b["pickup"]["available_by_transfer"] == 2
    # S02 picks it by 13:00, it leaves at the 16:00 cut-off, two working days on the
    # road: received Friday 09:00–11:00 in Paris.
    assert b["pickup"]["ready_by"] == "2026-11-27T11:00:00+01:00"
    # The promised source first, then the nearest: Saint-Denis before the supplier.
    assert [loc["location"] for loc in b["locations"]] == ["S02", "S01", "SUP"]


def test_available_is_exactly_what_an_order_can_take(net):
    from inventory import services

    services.stock_reserve(requests=[services.StockRequest(net["s01"].pk, net["a"].pk, 3)], by=None)
    data = net["api"].get(URL + "?sku=A").json()["skus"][0]
    s01 = next(loc for loc in data["locations"] if loc["location"] == "S01")
    assert s01["available"] == 1


def test_unknown_skus_and_too_many_are_refused(net):
    response = net["api"].get(URL + "?sku=A&sku=NOPE&sku=GONE")
    assert (response.status_code, response.json()["code"]) == (400, "unknown_sku")
    assert response.json()["skus"] == ["GONE", "NOPE"]
    many = "&".join(f"sku=S{i}" for i in range(51))
    response = net["api"].get(f"{URL}?{many}")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert net["api"].get(URL).json()["code"] == "validation_error"
    assert net["api"].get(URL + "?sku=A&store=S99").json()["code"] == "validation_error"


@pytest.mark.parametrize("extra_locations", [0, 12])
def test_query_count_is_fixed_whatever_the_skus_and_locations(
    net, extra_locations, django_assert_max_num_queries
):
    for i in range(extra_locations):
        s = factories.StoreFactory(code=f"X{i:02d}")
        loc = factories.store_location(s)
        factories.give_stock(loc, net["a"], 3)
        factories.give_stock(loc, net["b"], 3)
    skus = [factories.VariantFactory(sku=f"M{i}").sku for i in range(extra_locations)]
    query = "&".join(f"sku={s}" for s in ["A", "B", *skus])
    # The first answer after a change also reads the network (locations, opening
    # hours, closures, carriers, settings: 5 queries); later ones only the stock.
    with django_assert_max_num_queries(9):
        assert net["api"].get(f"{URL}?{query}&store=S01").status_code == 200
    with django_assert_max_num_queries(5):
        assert net["api"].get(f"{URL}?{query}&store=S01").status_code == 200
