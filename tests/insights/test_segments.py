"""Channel-usage segments on the hand-built history of conftest.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import translation

from insights import rollups, segments
from insights.models import CustomerSummary


@pytest.fixture
def built(world):
    rollups.refresh(full=True)
    return world


def test_every_customer_lands_in_the_segment_the_rules_give(built):
    c = built.customers
    got = dict(CustomerSummary.objects.values_list("customer_id", "segment"))
    assert got == {
        c["alice"].pk: "omnichannel",  # webroomed O1 and showroomed O3: both ways
        c["bob"].pk: "store_only",  # viewed the lamp, bought a shirt in store
        c["carol"].pk: "showroomers",  # served at SH, then bought on the web
        c["dan"].pk: "",  # his only order was cancelled; no views
        c["erin"].pk: "browsers",
        c["frank"].pk: "omnichannel",  # store and web, no journey between them
        c["gina"].pk: "web_only",
        c["hana"].pk: "webroomers",  # viewed B, bought B at SH two hours later
    }


def test_segment_figures_count_revenue_clv_return_rate_and_trend(built):
    figures = segments.segment_figures(dt.date(2026, 12, 1), dt.date(2026, 12, 3))
    assert {k: v["customers"] for k, v in figures.items()} == {
        "webroomers": 1,
        "showroomers": 1,
        "web_only": 1,
        "store_only": 1,
        "omnichannel": 2,
        "browsers": 1,
    }
    omni = figures["omnichannel"]
    # alice: O1 170 + O3 (90 − 30) = 230; frank: O7 50 (O6 is in November).
    assert omni["revenue"] == D("280.00")
    assert omni["clv"] == D("140.00")
    # Units: O1 3 + O3 3 + O7 1 = 7, one returned.
    assert omni["return_rate"] == round(1 / 7, 4)
    assert omni["trend"] == [("2026-12", D("280.00"))]
    assert figures["web_only"]["revenue"] == D("0")  # gina bought in June
    assert figures["browsers"]["revenue"] == D("0")


def test_segment_trend_is_by_month(built):
    figures = segments.segment_figures(dt.date(2026, 6, 1), dt.date(2026, 12, 3))
    assert figures["web_only"]["trend"] == [("2026-06", D("50.00"))]
    assert figures["omnichannel"]["trend"] == [("2026-11", D("80.00")), ("2026-12", D("280.00"))]


def test_segment_for_says_why_in_words(built, settings):
    hana = segments.segment_for(built.customers["hana"])
    assert hana.segment == "webroomers"
    assert hana.label == "Webroomers"
    assert hana.why == (
        "Store purchases after an online view of the same product or category within 14 days: 1."
    )
    assert segments.segment_for(built.customers["erin"]).why == (
        "Online product views: 2; no purchase yet."
    )
    assert segments.segment_for(built.customers["frank"]).why == (
        "Buys both online (orders: 1) and in store (orders: 1)."
    )
    assert segments.segment_for(built.customers["alice"]).why == (
        "Both ways — store purchases after viewing online: 1; online purchases after "
        "in-store service or a kiosk visit: 1."
    )
    assert segments.segment_for(built.customers["dan"]) is None
    with translation.override("zh-hans"):
        assert segments.segment_for(built.customers["gina"]).label != "Web only"


def test_classify_follows_the_documented_order():
    def summary(**kw):
        base = {
            "orders": 0,
            "views": 0,
            "online_orders": 0,
            "store_orders": 0,
            "webroomed_orders": 0,
            "showroomed_orders": 0,
        }
        return CustomerSummary(**{**base, **kw})

    assert segments.classify(summary()) == ""
    assert segments.classify(summary(views=3)) == "browsers"
    both = summary(orders=2, online_orders=1, store_orders=1, webroomed_orders=1)
    assert segments.classify(both) == "webroomers"  # a journey wins over "both channels"
    assert segments.classify(summary(orders=1, store_orders=1)) == "store_only"
    assert segments.classify(summary(orders=1, online_orders=1, showroomed_orders=1)) == (
        "showroomers"
    )
