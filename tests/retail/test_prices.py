"""Price history: recorded when a variant is created or its price changes, and the
lowest price of the last 90 days read from it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from retail.models import PriceChange, Variant
from retail.prices import lowest_price
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def history(variant, *changes: tuple[float, str]) -> None:
    """Replace the variant's history by these (days ago, price) changes."""
    PriceChange.objects.filter(variant=variant).delete()
    for ago, price in changes:
        PriceChange.objects.create(variant=variant, price=Decimal(price), at=days_ago(ago))


def test_creating_a_variant_and_changing_its_price_record_the_history():
    variant = factories.VariantFactory(price=Decimal("59.90"))
    assert list(variant.price_changes.values_list("price", flat=True)) == [Decimal("59.90")]

    loaded = Variant.objects.get(pk=variant.pk)
    loaded.colour = "red"
    loaded.save()  # same price: nothing recorded
    loaded.price = Decimal("49.90")
    loaded.save()
    loaded.price = Decimal("49.90")
    loaded.save(update_fields=["price"])  # unchanged again
    assert sorted(variant.price_changes.values_list("price", flat=True)) == [
        Decimal("49.90"),
        Decimal("59.90"),
    ]


def test_a_variant_saved_after_refresh_compares_with_the_fresh_price():
    variant = factories.VariantFactory(price=Decimal("20.00"))
    Variant.objects.filter(pk=variant.pk).update(price=Decimal("25.00"))  # bypasses history
    variant.refresh_from_db()
    variant.save()
    assert variant.price_changes.count() == 1


def test_record_initial_fills_the_history_after_a_bulk_create():
    product = factories.ProductFactory()
    recorded = factories.VariantFactory(product=product)
    Variant.objects.bulk_create([Variant(product=product, sku="BULK-1", price=Decimal("12.50"))])
    bulk = Variant.objects.get(sku="BULK-1")
    assert not bulk.price_changes.exists()
    assert PriceChange.record_initial([recorded.pk, bulk.pk]) == 1
    assert PriceChange.record_initial([recorded.pk, bulk.pk]) == 0
    assert bulk.price_changes.get().price == Decimal("12.50")
    assert recorded.price_changes.count() == 1


def test_lowest_price_is_the_lowest_in_effect_during_the_last_90_days():
    variant = factories.VariantFactory(price=Decimal("80.00"))
    history(variant, (200, "100.00"), (60, "70.00"), (30, "90.00"), (5, "80.00"))
    assert lowest_price(variant, at=NOW) == Decimal("70.00")
    assert lowest_price(variant, days=20, at=NOW) == Decimal("80.00")  # 90.00 then 80.00
    # 40 days ago the 70.00 set 60 days ago was still in effect.
    assert lowest_price(variant, days=40, at=NOW) == Decimal("70.00")


def test_the_price_in_effect_when_the_window_opens_counts_and_older_ones_do_not():
    variant = factories.VariantFactory(price=Decimal("100.00"))
    # Changed 91 days ago to 40.00: in effect until 89 days ago, so inside the window.
    history(variant, (120, "30.00"), (91, "40.00"), (89, "100.00"))
    assert lowest_price(variant, at=NOW) == Decimal("40.00")
    # 30.00 ended 91 days ago, before the window: it no longer counts.
    history(variant, (120, "30.00"), (91, "100.00"))
    assert lowest_price(variant, at=NOW) == Decimal("100.00")


def test_lowest_price_ignores_changes_after_the_moment_asked_about():
    variant = factories.VariantFactory(price=Decimal("10.00"))
    history(variant, (50, "60.00"), (10, "10.00"))
    assert lowest_price(variant, at=days_ago(20)) == Decimal("60.00")


def test_without_history_the_current_price_is_the_lowest():
    variant = factories.VariantFactory(price=Decimal("33.30"))
    PriceChange.objects.filter(variant=variant).delete()
    assert lowest_price(variant, at=NOW) == Decimal("33.30")
    with time_machine.travel(NOW, tick=False):
        assert lowest_price(variant) == Decimal("33.30")
    # History that only starts after the moment asked about: still the current price.
    history(variant, (1, "20.00"))
    assert lowest_price(variant, at=days_ago(5)) == Decimal("33.30")


def test_lowest_price_is_one_or_two_queries(django_assert_max_num_queries):
    variant = factories.VariantFactory()
    with django_assert_max_num_queries(2):
        lowest_price(variant, at=timezone.now())


def test_hq_sees_the_price_history_on_the_variant_page(hq_client):
    variant = factories.VariantFactory(price=Decimal("59.90"))
    variant.price = Decimal("44.40")
    variant.save()
    page = hq_client.get(reverse("admin:retail_variant_change", args=[variant.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "59.90" in html and "44.40" in html and "Price history" in html
