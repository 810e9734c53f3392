"""The endless aisle on the tablet: search the whole catalog, then see each
variant on this shelf, in the nearest stores, at the DC and at suppliers, with
when it could reach the customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import aisle
from inventory.aisle import Filters, catalog_search, product_availability, product_by_style
from inventory.services import StockRequest, stock_reserve
from tests import factories
from tests.inventory.places import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(store):
    outer = factories.CategoryFactory(code="outerwear", name="Outerwear")
    knit = factories.CategoryFactory(code="knitwear", name="Knitwear")
    jacket = factories.ProductFactory(
        style_code="JKT-100", name="Waxed field jacket", brand="Fellside", category=outer
    )
    jumper = factories.ProductFactory(
        style_code="KNT-200", name="Merino crew jumper", brand="Northwind", category=knit
    )
    parka = factories.ProductFactory(
        style_code="JKT-300", name="Down parka", brand="Northwind", category=outer
    )
    v = {
        "jacket-m": factories.VariantFactory(
            product=jacket, sku="JKT-100-M-OLV", size="M", colour="olive"
        ),
        "jacket-l": factories.VariantFactory(
            product=jacket, sku="JKT-100-L-OLV", size="L", colour="olive"
        ),
        "jumper-s": factories.VariantFactory(
            product=jumper, sku="KNT-200-S-NVY", size="S", colour="navy"
        ),
        "parka-xl": factories.VariantFactory(
            product=parka, sku="JKT-300-XL-BLK", size="XL", colour="black"
        ),
    }
    shelf = factories.store_location(store)
    factories.give_stock(shelf, v["jacket-m"], 3)
    factories.give_stock(shelf, v["jumper-s"], 2, safety_stock=2)  # nothing to sell
    return v


def search(store, query="", **filters):
    return catalog_search(query=query, store=store, filters=Filters(**filters))


def styles(page):
    return [hit.product.style_code for hit in page.hits]


def test_every_word_must_match_somewhere(store, catalog):
    assert styles(search(store, "jacket")) == ["JKT-100"]
    assert styles(search(store, "northwind")) == ["JKT-300", "KNT-200"]  # brand; by name
    assert styles(search(store, "northwind outerwear")) == ["JKT-300"]  # brand + category
    assert styles(search(store, "olive")) == ["JKT-100"]  # colour
    assert styles(search(store, "xl")) == ["JKT-300"]  # a size, whole
    assert styles(search(store, "jkt-100-l")) == ["JKT-100"]  # a SKU from its start
    assert styles(search(store, catalog["jumper-s"].barcode)) == ["KNT-200"]  # scanned
    assert styles(search(store, "Down  PARKA ")) == ["JKT-300"]
    assert search(store, "velvet").hits == []


def test_filters_narrow_the_search(store, catalog):
    assert styles(search(store, category="outerwear")) == ["JKT-300", "JKT-100"]
    assert styles(search(store, brand="Northwind", size="S")) == ["KNT-200"]
    assert styles(search(store, "jacket", colour="black")) == []


def test_units_here_are_what_an_order_could_take_from_this_shelf(store, catalog):
    shelf = factories.store_location(store)
    stock_reserve(requests=[StockRequest(shelf.pk, catalog["jacket-m"].pk, 1)], by=None)
    page = search(store, category="outerwear")
    here = {hit.product.style_code: hit.here for hit in page.hits}
    assert here == {"JKT-100": 2, "JKT-300": 0}
    # Only the shelf: the jumper's two units are all safety stock.
    assert styles(search(store, here_only=True)) == ["JKT-100"]
    assert styles(search(store, here_only=True, size="L")) == []


def test_pages_of_results(store, catalog, monkeypatch):
    monkeypatch.setattr(aisle, "PAGE_SIZE", 2)
    first = catalog_search(query="", store=store, filters=Filters(brand="Northwind"), page=1)
    assert (len(first.hits), first.has_next, first.matched) == (2, False, 2)
    everything = catalog_search(query="", store=store, filters=Filters(category="outerwear"))
    assert everything.has_next is False
    page1 = catalog_search(query="e", store=store, page=1)
    page2 = catalog_search(query="e", store=store, page=2)
    assert page1.has_next and not page2.has_next
    assert set(styles(page1)).isdisjoint(styles(page2))


def test_a_catalog_change_is_searchable_at_once(store, catalog):
    product = catalog["parka-xl"].product
    product.name = "Quilted gilet"
    product.save()
    assert styles(search(store, "gilet")) == ["JKT-300"]
    catalog["parka-xl"].active = False
    catalog["parka-xl"].save()
    assert search(store, "gilet").hits == []  # no variant on sale
    assert product_by_style("JKT-300") is None


def test_too_long_or_wordy_searches_are_refused_in_words(store, catalog):
    with pytest.raises(aisle.SearchError, match="at most 100 characters"):
        search(store, "x" * 101)
    with pytest.raises(aisle.SearchError, match="at most 8 words"):
        search(store, "a b c d e f g h i")


@pytest.fixture
def network(store, other_store, catalog):
    """S01 in Paris, S02 in Saint-Denis (9 km), S09 in Lyon (390 km), a DC and a
    supplier; the jacket in L is not on S01's shelf."""
    place(store, "Paris")
    place(other_store, "Saint-Denis")
    lyon = place(factories.StoreFactory(code="S09"), "Lyon")
    near = factories.store_location(other_store, lead_time_days=0)
    far = factories.store_location(lyon, lead_time_days=0)
    dc = factories.StockLocationFactory(
        code="DC1", lead_time_days=0, country="FR", postcode="95700", time_zone="Europe/Paris",
        latitude=Decimal("49.009700"), longitude=Decimal("2.547900"),
    )  # fmt: skip
    supplier = factories.StockLocationFactory(
        code="SUP1", kind="supplier", lead_time_days=3, receives_transfers=False, country="FR",
        postcode="87000", time_zone="Europe/Paris",
    )  # fmt: skip
    factories.give_stock(near, catalog["jacket-l"], 2)
    factories.give_stock(far, catalog["jacket-l"], 1)
    factories.give_stock(dc, catalog["jacket-l"], 10)
    factories.give_stock(supplier, catalog["jacket-l"], 50)
    return {"near": near, "far": far, "dc": dc, "supplier": supplier}


def test_a_product_shows_each_variant_across_the_network(store, catalog, network):
    now = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)  # a Wednesday, 11:00 in Paris
    rows = {
        r.variant.sku: r
        for r in product_availability(product=product_by_style("JKT-100"), store=store, now=now)
    }
    medium, large = rows["JKT-100-M-OLV"], rows["JKT-100-L-OLV"]
    assert medium.here == 3 and medium.ready_here is not None
    assert medium.promise.location.code == store.code and medium.promise.reason["why"] == "shelf"
    assert (medium.stores, medium.dcs, medium.suppliers) == ([], [], [])
    assert large.here == 0
    # Only the store within HQ's nearby distance (30 km) is nearby; Lyon is not.
    assert [(s.code, s.available) for s in large.stores] == [("S02", 2)]
    assert 8 < large.stores[0].distance_km < 10
    assert [(s.code, s.available) for s in large.dcs] == [("DC1", 10)]
    # The standard carrier: leaves Wednesday 16:00, two working days.
    assert large.dcs[0].delivered_by == dt.date(2026, 11, 27)
    assert [(s.code, s.available) for s in large.suppliers] == [("SUP1", 50)]
    # Three handling days to Monday, then two days on the way.
    assert large.suppliers[0].delivered_by == dt.date(2026, 12, 2)
    assert large.suppliers[0].ready_here is None  # suppliers ship to homes only
    # Ready here: the promise. The DC is as soon as Saint-Denis and keeps its shelf.
    assert large.promise.location.code == "DC1" and large.promise.reason["why"] == "dc"
    assert large.ready_here == large.dcs[0].ready_here == large.stores[0].ready_here
    assert large.network == 63 and large.orderable


def test_nearby_is_hqs_distance(store, catalog, network):
    from inventory.models import SourcingSettings

    SourcingSettings.objects.create(nearby_km=500)
    rows = {
        r.variant.sku: r
        for r in product_availability(product=product_by_style("JKT-100"), store=store)
    }
    assert [s.code for s in rows["JKT-100-L-OLV"].stores] == ["S02", "S09"]


@pytest.fixture
def associate_client(store):
    client = Client()
    client.force_login(factories.StaffFactory(role="associate", home_store=store))
    return client


def test_the_search_page_finds_and_links_products(associate_client, catalog):
    url = reverse("aisle:search")
    empty = associate_client.get(url).content.decode()
    assert "Type part of a name" in empty
    html = associate_client.get(url, {"q": "jacket"}).content.decode()
    assert 'data-style="JKT-100"' in html and "3 on the shelf here" in html
    assert reverse("aisle:product", args=["JKT-100"]) in html
    partial = associate_client.get(url, {"q": "parka"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b'data-style="JKT-300"' in partial.content
    assert b"Not on the shelf here" in partial.content
    nothing = associate_client.get(url, {"q": "velvet"}).content.decode()
    assert "Nothing in the catalog matches" in nothing


@pytest.mark.parametrize(
    "params, message",
    [
        ({"q": "x" * 101}, "at most 100 characters"),
        ({"q": "jacket", "size": "XXXXL"}, "There is no such choice in the catalog."),
        ({"q": "jacket", "category": "nope"}, "There is no such choice in the catalog."),
        ({"q": "jacket", "page": "0"}, "greater than or equal to 1"),
        ({"q": "jacket", "page": "abc"}, "Enter a whole number"),
    ],
)
def test_bad_searches_answer_400_with_a_message(associate_client, catalog, params, message):
    response = associate_client.get(reverse("aisle:search"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_product_page_and_unknown_products(associate_client, catalog, network):
    html = associate_client.get(reverse("aisle:product", args=["JKT-100"])).content.decode()
    assert 'data-sku="JKT-100-L-OLV"' in html and 'data-location="S02"' in html
    assert 'data-location="SUP1"' in html and "home by" in html
    assert 'data-location="S09"' not in html  # Lyon is not nearby Paris
    assert "Nearby stores (within 30 km)" in html and 'data-source="DC1"' in html
    response = associate_client.get(reverse("aisle:product", args=["NOPE-1"]))
    assert response.status_code == 404


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_search_and_product_pages_run_in_a_fixed_number_of_queries(
    associate_client, store, catalog, network
):
    search_url, product_url = reverse("aisle:search"), reverse("aisle:product", args=["JKT-100"])
    count_queries(associate_client, search_url, {"q": "a"})  # the index is loaded once
    small = count_queries(associate_client, search_url, {"q": "a"})
    small_here = count_queries(associate_client, search_url, {"here": "on"})
    count_queries(associate_client, product_url)  # the network is loaded once
    small_product = count_queries(associate_client, product_url)
    shelf = factories.store_location(store)
    jacket = catalog["jacket-m"].product
    for n in range(30):
        variant = factories.VariantFactory(product=jacket, sku=f"JKT-100-{n}", size=str(n))
        factories.give_stock(shelf, variant, 1)
        factories.give_stock(network["dc"], variant, 1)
        factories.VariantFactory(sku=f"OTHER-{n}", product__name=f"Another coat {n}")
    count_queries(associate_client, search_url, {"q": "a"})  # reloaded after the changes
    assert count_queries(associate_client, search_url, {"q": "a"}) == small
    assert count_queries(associate_client, search_url, {"here": "on"}) == small_here
    assert count_queries(associate_client, product_url) == small_product
    assert small <= 4 and small_product <= 4


def test_the_shelf_filter_pages_without_counting_everything(
    associate_client, store, catalog, monkeypatch
):
    monkeypatch.setattr(aisle, "PAGE_SIZE", 1)
    monkeypatch.setattr(aisle, "SHELF_CHUNK", 1)
    shelf = factories.store_location(store)
    factories.give_stock(shelf, catalog["parka-xl"], 1)
    first = catalog_search(query="", store=store, filters=Filters(here_only=True))
    assert (styles(first), first.has_next, first.matched) == (["JKT-300"], True, None)
    second = catalog_search(query="", store=store, filters=Filters(here_only=True), page=2)
    assert (styles(second), second.has_next, second.matched) == (["JKT-100"], False, 2)
    html = associate_client.get(reverse("aisle:search"), {"here": "on"}).content.decode()
    assert 'data-style="JKT-300"' in html and "products found" not in html
