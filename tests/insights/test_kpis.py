"""Every KPI against the hand-built history of conftest.py; each expected figure is
worked out by hand in its test (period 1–3 Dec 2026)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from insights import kpis, rollups

PERIOD = kpis.Scope(start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 3))


@pytest.fixture
def built(world):
    rollups.refresh(full=True)
    return world


def test_revenue_is_net_of_returns_on_their_day_by_channel_and_store(built):
    # Kept sales: O1 170 + O2 30 + O3 90 + O4 80 + O5 0 (expired) + O7 50 + O9 30 = 450;
    # the return of O3 refunded 30 on 3 Dec. Store: O1+O2+O9 = 230; web: 90+80+50−30
    # = 190; app: 0. SH: O1 170 + O4 80 + O5 0 + O9 30 = 280; NY: O2 30 (O3 and O7
    # were shipped home: no store). O6 (10 Nov) and O8 (June) are outside.
    figures = kpis.revenue(PERIOD)
    assert figures["sales"] == D("450.00")
    assert figures["returns_refunded"] == D("30.00")
    assert figures["total"] == D("420.00")
    assert figures["by_channel"] == {"app": D("0"), "store": D("230.00"), "web": D("190.00")}
    assert figures["by_store"] == {"NY": D("30.00"), "SH": D("280.00")}


def test_revenue_of_one_store_and_one_channel(built):
    sh = kpis.Scope(PERIOD.start, PERIOD.end, store=built.sh)
    assert kpis.revenue(sh)["total"] == D("280.00")
    web = kpis.Scope(PERIOD.start, PERIOD.end, channel="web")
    assert kpis.revenue(web)["total"] == D("190.00")  # 90 + 80 + 50 − 30


def test_store_influenced_online_revenue_beside_store_revenue(built):
    # Store 230; online 90 + 80 + 0 + 50 = 220, of which O4's 80 credited to ann.
    figures = kpis.store_influenced_online(PERIOD)
    assert figures["store_revenue"] == D("230.00")
    assert figures["online_revenue"] == D("220.00")
    assert figures["influenced_online"] == D("80.00")
    assert figures["influenced_share"] == round(80 / 220, 4)


def test_bopis_and_ship_from_store_shares_of_online_orders(built):
    # Online orders O3, O4, O5, O7; to collect: O4 and O5 (expired, still an order placed).
    figures = kpis.fulfilment_mix(PERIOD)
    assert figures["online_orders"] == 4
    assert figures["bopis_orders"] == 2
    assert figures["bopis_share"] == 0.5
    assert figures["sfs_share"] == 0.0


def test_webrooming_counts_store_purchases_after_an_online_view_of_the_product_or_category(built):
    # Store orders O1, O2, O9. O1: alice viewed A on 30 Nov (A is in O1); O9: hana viewed
    # B 2 h before; O2: bob viewed the lamp (home), O2 is a shirt — not webroomed.
    figures = kpis.webrooming(PERIOD)
    assert figures["store_orders"] == 3
    assert figures["webroomed_orders"] == 2
    assert figures["share"] == round(2 / 3, 4)
    assert figures["net"] == D("200.00")  # 170 + 30


def test_showrooming_counts_online_purchases_after_service_or_kiosk(built):
    # Online orders kept: O3, O4, O7 (O5 cancelled). O3: ann served alice on 1 Dec;
    # O4: ann served carol on 29 Nov; O7: frank was never served.
    figures = kpis.showrooming(PERIOD)
    assert figures["online_orders"] == 3
    assert figures["showroomed_orders"] == 2
    assert figures["net"] == D("170.00")  # 90 + 80 (the sale's value; the return is revenue's)


def test_cross_channel_conversion_by_channel_of_purchase(built):
    # Browsing days in the period: carol 1 Dec (bought on the web 2 Dec), erin 2 Dec
    # (never bought), hana 2 Dec (bought in store 2 h later). alice's and bob's views
    # are before the period.
    figures = kpis.conversion(PERIOD)
    assert figures["browsers"] == 3
    assert figures["converted"] == 2
    assert figures["rate"] == round(2 / 3, 4)
    assert figures["by_channel"] == {
        "store": {"customers": 1, "rate": round(1 / 3, 4)},
        "web": {"customers": 1, "rate": round(1 / 3, 4)},
    }


def test_clv_historic_and_predicted_multichannel_against_single_channel(built):
    # 12 months to 3 Dec: alice 170 + (90 − 30) = 230 (2 orders, 2 channels), bob 30,
    # carol 80, frank 80 + 50 = 130 (2 orders, 2 channels), gina 50, hana 30; dan's
    # order was cancelled. 6 customers, 550.00, 8 orders, repeat rate 2/6.
    # Historic 550 / 6 = 91.67; predicted = 550/6 × 1/(1 − 1/3) = 137.50.
    figures = kpis.clv(PERIOD)
    assert figures["customers"] == 6
    assert figures["historic"] == D("91.67")
    assert figures["predicted"] == D("137.50")
    # Multichannel: alice and frank, 360 / 2 = 180.00, both repeat: lifetime capped at 5.
    assert figures["multichannel"]["historic"] == D("180.00")
    assert figures["multichannel"]["predicted"] == D("900.00")
    # Single channel: bob, carol, gina, hana: 190 / 4 = 47.50, no repeat: one year.
    assert figures["single_channel"]["historic"] == D("47.50")
    assert figures["single_channel"]["predicted"] == D("47.50")


def test_loyalty_repeat_rate_days_between_and_active_share(built):
    # Buyers up to 3 Dec: alice, bob, carol, frank, gina, hana (dan cancelled). Repeat:
    # alice (1 Dec 15:30 → 2 Dec 10:00 = 18.5 h = 0.7708 d) and frank (10 Nov 15:00 →
    # 3 Dec 09:00 = 22.75 d): mean 11.76 days. Active in the 90 days to 3 Dec: all but
    # gina (June).
    figures = kpis.loyalty(PERIOD)
    assert figures["customers"] == 6
    assert figures["repeat_rate"] == round(2 / 6, 4)
    assert figures["days_between"] == 11.76
    assert figures["active_90d"] == round(5 / 6, 4)


def test_fulfilment_times_rates_per_store(built):
    # SH: O4 ready in 4 h, collected after 24 h; O5 ready in 2 h, expired.
    # p50 of [2, 4] = 3.0; p90 = 2 + 0.9 × 2 = 3.8. O3 and O7 left the DC: no store.
    figures = kpis.fulfilment(PERIOD)
    assert list(figures) == ["SH"]
    sh = figures["SH"]
    assert sh["ready_hours_p50"] == 3.0
    assert sh["ready_hours_p90"] == 3.8
    assert sh["pickups_ended"] == 2
    assert sh["pickup_rate"] == 0.5
    assert sh["no_show_rate"] == 0.5
    assert sh["hold_hours_p50"] == 24.0
    assert sh["short_lines"] == 0
    assert sh["ship_hours_p50"] is None


def test_ship_from_store_time_to_ship_and_short_picks(world):
    from tests.insights import factories as f

    order = f.sale("web", f.at("2026-12-02 08:00"), [(world.variants["a"], 1, "50.00")])
    shipped = f.FulfillmentFactory(
        order=order, method="ship_from_store", pickup_store=None,
        location=f.factories.store_location(world.ny),
        state="shipped",
    )  # fmt: skip
    f.OrderEventFactory(order=order, fulfillment=shipped, kind="line_short", store=world.ny)
    f.OrderEventFactory(
        order=order,
        fulfillment=shipped,
        to_state="shipped",
        from_state="packed",
        at=f.at("2026-12-02 14:30"),
    )
    rollups.refresh(full=True)
    ny = kpis.fulfilment(PERIOD)["NY"]
    assert ny["ship_hours_p50"] == 6.5
    assert ny["short_lines"] == 1
    assert kpis.fulfilment_mix(PERIOD)["sfs_orders"] == 1


def test_returns_refunded_and_rate(built):
    # Refunded for returns in the period: 30.00 (O5's 50.00 was a cancellation).
    # Units kept of orders placed: O1 3, O2 1, O3 3, O4 1, O7 1, O9 1 = 10; returned 1.
    figures = kpis.returns(PERIOD)
    assert figures["refunded"] == D("30.00")
    assert figures["units_sold"] == 10
    assert figures["units_returned"] == 1
    assert figures["rate"] == 0.1
    assert figures["refunds_by_tender"] == {"card": D("30.00")}


def test_returns_breakdowns_come_from_the_returns_figures(built):
    # One completed return in the period: 1 unit of O3 (web, shirts, reason "size",
    # restocked), 30.00, received at NY's shop floor on 3 Dec. An online order
    # returned in a store: BORIS is the whole of it. No exchange.
    figures = kpis.returns(PERIOD)
    one = {"returns": 1, "units": 1, "refunded": D("30.00")}

    def rows(name):
        return [(r["key"], r["returns"], r["units"], r["refunded"]) for r in figures[name]]

    assert rows("by_channel") == [("web", *one.values())]
    assert rows("by_store") == [("NY", *one.values())]
    assert rows("by_category") == [("shirts", *one.values())]
    assert rows("by_reason") == [("size", *one.values())]
    assert figures["boris"] == {
        "units_share": 1.0,
        "value_share": 1.0,
        "units_in_stores": 1,
        "units_online_returned": 1,
    }
    assert figures["exchanges"] == {
        "returns": 1,
        "exchanges": 0,
        "rate": 0.0,
        "saved": D("0.00"),
    }
    # Narrowed to SH (the return was received at NY) or to the store channel: none.
    sh = kpis.returns(kpis.Scope(PERIOD.start, PERIOD.end, store=built.sh))
    assert (sh["by_reason"], sh["exchanges"]["returns"]) == ([], 0)
    store_channel = kpis.returns(kpis.Scope(PERIOD.start, PERIOD.end, channel="store"))
    assert store_channel["by_channel"] == []


def test_people_per_associate_and_store_with_training_beside(built):
    from tests.insights import factories as f

    f.EnrolmentFactory(user=built.ann, status="passed")
    f.EnrolmentFactory(user=built.ann, status="active")
    f.CertificationFactory(user=built.ann)
    # ann at SH: the session with alice (serving + note = 2 actions; carol's was
    # 29 Nov), credits for O1 (170, 1 Dec in Shanghai) and O4 (80, 2 Dec).
    # ben at NY: credit for O2 (30; 23:30 on 1 Dec in New York).
    figures = kpis.people(PERIOD)
    ann, ben = figures["associates"][1], figures["associates"][0]
    assert (ann["email"], ann["store"]) == ("ann@test.aisle", "SH")
    assert (ann["actions"], ann["sessions"], ann["conversions"]) == (2, 1, 2)
    assert ann["attributed"] == D("250.00")
    assert (ben["email"], ben["conversions"], ben["attributed"]) == ("ben@test.aisle", 1, D("30"))
    sh, ny = figures["stores"]["SH"], figures["stores"]["NY"]
    assert sh["conversion_rate"] == 2.0
    assert sh["return_rate"] == 0.0  # O3's return belongs to the online order, not NY
    assert (sh["staff"], sh["training_completion"], sh["certification_coverage"]) == (1, 0.5, 1.0)
    assert (ny["staff"], ny["training_completion"], ny["certification_coverage"]) == (1, 0.0, 0.0)


def test_every_kpi_has_a_definition_in_english_and_chinese():
    from django.utils import translation

    for name in kpis.KPIS:
        english = str(kpis.DEFINITIONS[name])
        assert kpis.KPIS[name].__doc__, name
        with translation.override("zh-hans"):
            chinese = str(kpis.DEFINITIONS[name])
        assert chinese != english, f"{name} has no Chinese definition"
