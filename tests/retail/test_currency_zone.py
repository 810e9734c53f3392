"""The network fits its one currency: every store and location lies in the currency's
zone (or the countries HQ names), and the demo network shows it (issue #20)."""

from __future__ import annotations

import datetime as dt
import io
import math

import pytest
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from inventory.demo import CARRIERS
from inventory.models import CarrierService, SourcingSettings, StockLocation
from retail.demo import EXTRA_CITIES, PHONE_PREFIX, store_specs
from retail.geography import (
    CURRENCY_COUNTRIES,
    country_served,
    currency_zone,
    network_countries,
)
from retail.holidays import easter_sunday, public_holidays
from retail.models import Store, StoreClosure, Variant
from retail.validators import validate_country_served
from tests import factories


@pytest.fixture(autouse=True)
def _euro(settings):
    settings.AISLE_CURRENCY = "EUR"
    settings.AISLE_COUNTRIES = []


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", force=True, stdout=io.StringIO())


def network_warnings() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks(databases=["default"]) if m.id == "aisle.W017"]


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (map(math.radians, p) for p in (a, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


# --- The zones ---------------------------------------------------------------------


def test_the_euro_zone_is_the_euro_area_with_croatia_and_bulgaria_and_no_other_currency():
    euro = currency_zone("EUR")
    assert {"FR", "DE", "NL", "PT", "IE", "FI", "GR", "HR", "BG"} <= euro
    assert not {"GB", "US", "CH", "SE", "NO", "DK", "PL", "CA", "JP", "CN"} & euro
    for code, countries in CURRENCY_COUNTRIES.items():
        if code != "EUR":
            assert not countries & euro, code


def test_network_countries_are_the_currency_zone_unless_hq_names_them(settings):
    assert network_countries() == currency_zone("EUR")
    assert country_served("fr") and not country_served("GB")

    settings.AISLE_COUNTRIES = ["fr", " GB "]
    assert network_countries() == {"FR", "GB"}
    assert country_served("GB") and not country_served("DE")

    settings.AISLE_COUNTRIES = []
    settings.AISLE_CURRENCY = "GBP"
    assert country_served("GB") and not country_served("FR")


# --- Validation --------------------------------------------------------------------


def test_a_country_outside_the_euro_zone_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError) as info:
        validate_country_served("GB")
    assert info.value.messages == [
        "Aisle sells in EUR: GB is outside its currency zone (set AISLE_COUNTRIES to serve it)."
    ]
    validate_country_served("FR")  # no error
    validate_country_served("")  # a location without a country says nothing


def test_a_country_named_in_aisle_countries_is_accepted(settings):
    settings.AISLE_COUNTRIES = ["FR", "GB"]
    validate_country_served("GB")

    with pytest.raises(ValidationError, match="not one of the countries Aisle serves"):
        validate_country_served("US")


@pytest.mark.django_db
def test_a_store_and_a_location_outside_the_zone_fail_full_clean(settings):
    store = factories.StoreFactory.build(code="S99", country="GB")
    with pytest.raises(ValidationError) as info:
        store.full_clean()
    assert "outside its currency zone" in str(info.value.message_dict["country"])

    location = factories.StockLocationFactory.build(code="DC9", country="US")
    with pytest.raises(ValidationError) as info:
        location.full_clean()
    assert "country" in info.value.message_dict

    settings.AISLE_COUNTRIES = ["FR", "GB", "US"]
    store.full_clean()
    location.full_clean()


@pytest.mark.django_db
def test_the_admin_form_shows_the_refusal(hq_client):
    inlines = {
        f"{prefix}-{field}": "0"
        for prefix in ("opening_hours", "closures")
        for field in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    response = hq_client.post(
        reverse("admin:retail_store_add"),
        {
            **inlines,
            "code": "S98",
            "name": "Aisle London",
            "address_line1": "12 Long Acre",
            "city": "London",
            "postcode": "WC2E 9LH",
            "country": "GB",
            "latitude": "51.512200",
            "longitude": "-0.124600",
            "time_zone": "Europe/London",
            "pickup_hold_days": "7",
        },
    )
    assert response.status_code == 200
    assert "GB is outside its currency zone" in response.content.decode()
    assert not Store.objects.filter(code="S98").exists()


# --- The system check --------------------------------------------------------------


@pytest.mark.django_db
def test_the_check_warns_about_a_store_outside_the_zone(settings):
    factories.StoreFactory(code="S01")
    assert network_warnings() == []

    factories.StoreFactory(code="S77", country="GB", time_zone="Europe/London")
    [warning] = network_warnings()
    assert warning.level == checks.WARNING
    assert "S77 (GB)" in warning.msg and "EUR zone" in warning.msg

    settings.AISLE_COUNTRIES = ["FR", "GB"]
    assert network_warnings() == []


@pytest.mark.django_db
def test_the_check_warns_about_an_active_location_but_not_an_inactive_one():
    location = factories.StockLocationFactory(code="DC9", country="CH")
    [warning] = network_warnings()
    assert "DC9 (CH)" in warning.msg

    location.active = False
    location.save()
    assert network_warnings() == []


def test_an_unknown_currency_without_countries_is_a_warning_not_a_silent_pass(settings):
    settings.AISLE_CURRENCY = "XAU"
    assert country_served("GB")
    assert "aisle.W018" in {m.id for m in checks.run_checks()}


# --- The demo network --------------------------------------------------------------


@pytest.mark.django_db
def test_every_demo_store_and_active_location_is_inside_the_currency_zone(seeded):
    zone = currency_zone()
    stores = list(Store.objects.all())
    locations = list(StockLocation.objects.filter(active=True))

    assert stores and locations
    assert {s.country for s in stores} <= zone
    assert {loc.country for loc in locations} <= zone
    assert len({s.country for s in stores}) >= 3
    offsets = {timezone.now().astimezone(s.tz).utcoffset() for s in stores}
    assert len(offsets) >= 2  # store time still matters
    assert network_warnings() == []


@pytest.mark.django_db
def test_the_demo_has_two_dcs_and_suppliers_with_coordinates_and_time_zones(seeded):
    dcs = StockLocation.objects.filter(kind="dc").order_by("code")
    assert [(d.code, d.country, d.time_zone) for d in dcs] == [
        ("DC1", "FR", "Europe/Paris"),
        ("DC2", "DE", "Europe/Berlin"),
    ]
    assert {d.lead_time_days for d in dcs} == {0}
    suppliers = StockLocation.objects.filter(kind="supplier")
    assert suppliers.count() == 2
    for supplier in suppliers:
        assert 2 <= supplier.lead_time_days <= 4
        assert supplier.latitude is not None and supplier.time_zone
    assert set(
        StockLocation.objects.filter(kind="store").values_list("lead_time_days", flat=True)
    ) == {0}
    dc1, dc2 = dcs
    skus = Variant.objects.filter(active=True).count()
    assert dc1.levels.count() > 0.75 * skus  # most of the range
    assert 0.4 * skus < dc2.levels.count() < dc1.levels.count()  # a large part of it
    assert SourcingSettings.objects.get().nearby_km == 30


@pytest.mark.django_db
def test_every_demo_country_has_an_active_home_and_transfer_carrier(seeded):
    countries = set(StockLocation.objects.filter(active=True).values_list("country", flat=True))
    services = set(CarrierService.objects.filter(active=True).values_list("country", "service"))
    for country in countries:
        assert (country, "home") in services and (country, "transfer") in services, country
    for carrier in CarrierService.objects.all():
        assert dt.time(15) <= carrier.cutoff <= dt.time(18)
        assert carrier.cross_border_days == 2
        if carrier.service == "transfer":
            assert carrier.transit_days == 1
        else:
            assert 1 <= carrier.transit_days <= 2
    home_cutoffs = CarrierService.objects.filter(service="home").values_list("cutoff", flat=True)
    assert len(set(home_cutoffs)) == len(countries)  # each country its own


def test_every_country_the_large_demo_can_reach_has_a_carrier_and_a_phone_range():
    countries = {s.country for s in store_specs("large")} | {"FR", "DE", "PT"}
    assert countries <= currency_zone("EUR")
    assert countries <= set(CARRIERS) and countries <= set(PHONE_PREFIX)
    assert len({c[2] for c in EXTRA_CITIES}) >= 3
    offsets = {
        timezone.now().astimezone(Store(time_zone=tz).tz).utcoffset()
        for tz in {s.time_zone for s in store_specs("large")}
    }
    assert len(offsets) == 3  # Western, Central and Eastern European Time


def test_the_large_demo_has_stores_nearby_each_other():
    specs = {s.city: (float(s.lat), float(s.lon)) for s in store_specs("large")}
    assert km(specs["Paris"], specs["Versailles"]) < 30
    assert km(specs["Paris"], specs["Saint-Denis"]) < 30
    assert km(specs["Berlin"], specs["Potsdam"]) < 30
    assert km(specs["Paris"], specs["Lyon"]) > 300


@pytest.mark.django_db
def test_public_holidays_are_store_closures_this_year_and_next(seeded):
    year = timezone.localdate().year
    paris, berlin = Store.objects.get(code="S01"), Store.objects.get(code="S03")
    closed = {
        (c.store.code, c.date.isoformat()) for c in StoreClosure.objects.select_related("store")
    }
    for y in (year, year + 1):
        for store in Store.objects.all():
            assert (store.code, f"{y}-01-01") in closed
            assert (store.code, f"{y}-12-25") in closed
        assert (paris.code, f"{y}-07-14") in closed  # Bastille Day
        assert (berlin.code, f"{y}-10-03") in closed  # German Unity Day
        assert ("S04", f"{y}-04-27") in closed or ("S04", f"{y}-04-26") in closed
        assert ("S05", f"{y}-06-10") in closed  # Portugal Day
        assert (berlin.code, f"{y}-07-14") not in closed


def test_movable_holidays_follow_easter():
    assert easter_sunday(2026).isoformat() == "2026-04-05"
    assert easter_sunday(2027).isoformat() == "2027-03-28"
    days = dict(public_holidays("DE", 2027))
    assert days[dt.date(2027, 3, 26)] == "Good Friday"
    assert days[dt.date(2027, 3, 29)] == "Easter Monday"
    assert "Whit Monday" in days.values()


@pytest.mark.django_db
def test_seeding_twice_duplicates_no_carrier_closure_or_location(seeded):
    counts = (
        CarrierService.objects.count(),
        StoreClosure.objects.count(),
        StockLocation.objects.count(),
        SourcingSettings.objects.count(),
    )
    call_command("seed_demo", force=True, stdout=io.StringIO())
    assert (
        CarrierService.objects.count(),
        StoreClosure.objects.count(),
        StockLocation.objects.count(),
        SourcingSettings.objects.count(),
    ) == counts


@pytest.mark.django_db
def test_seeding_under_another_currency_says_the_demo_lies_outside_it(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AISLE_CURRENCY = "GBP"
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    assert "outside the countries served with AISLE_CURRENCY=GBP: DE, FR, NL, PT" in out.getvalue()
