"""The dashboards (HQ's `/hq/`, a store manager's `/store/insights/`): the figures on the
page are the KPI functions' for the hand-built history of conftest.py (period 1–3 Dec
2026, previous period 28–30 Nov), each table exports as CSV, bad filters answer with
a reason and no figures, a manager sees their store only, and the page runs a fixed
number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights import kpis, rollups
from tests import factories

PERIOD = {"start": "2026-12-01", "end": "2026-12-03"}


@pytest.fixture
def built(world):
    rollups.refresh(full=True)
    return world


@pytest.fixture
def sh_manager(built, client):
    manager = factories.StaffFactory(role="store_manager", home_store=built.sh)
    client.force_login(manager)
    return client


def figure(html: str, key: str) -> str:
    """The text of a headline figure (`<strong data-figure="key">`)."""
    match = re.search(rf'<strong data-figure="{key}">([^<]*)</strong>', html)
    assert match, key
    return match.group(1)


def rows_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_hq_dashboard_shows_the_kpis_of_the_period(built, hq_client):
    response = hq_client.get(reverse("insights_hq:dashboard"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    # Hand-worked in test_kpis.py: net revenue 450 − 30 = 420; O4's 80 credited to ann
    # (80 / 220 of online revenue); 2 of 4 online orders to collect; 2 of 3 browsers
    # converted; 2 of 3 store orders webroomed; 1 of 10 units returned; SH's pickups
    # ready in 2 and 4 hours (median 3.0).
    assert figure(html, "revenue") == "€420.00"
    assert figure(html, "influenced_online") == "€80.00"
    assert figure(html, "bopis_share") == "50.0%"
    assert figure(html, "conversion") == "66.7%"
    assert figure(html, "clv") == "€91.67"
    assert figure(html, "repeat_rate") == "33.3%"
    assert figure(html, "active_90d") == "83.3%"
    assert figure(html, "ready_p50") == "3.0 h"
    assert figure(html, "return_rate") == "10.0%"
    assert figure(html, "webrooming") == "66.7%"
    assert figure(html, "showrooming") == "66.7%"
    # The same as the KPI functions say.
    scope = kpis.Scope(dt.date(2026, 12, 1), dt.date(2026, 12, 3))
    assert kpis.revenue(scope)["total"] == D("420.00")
    # Nothing was sold 28–30 Nov: no comparison for revenue.
    assert "no comparison against €0.00 the period before" in html
    # Every figure explains itself.
    assert html.count("How is this computed?") >= 11
    assert str(kpis.DEFINITIONS["conversion"])[:40] in html
    # The charts, each with a title for screen readers, and the tables beside them.
    for table in ("revenue", "stores", "fulfilment", "reasons", "segments"):
        section = html.split(f'id="table-{table}"')[1].split("</section>")[0]
        assert '<svg class="chart"' in section and "<table" in section, table
    assert 'aria-label="Net revenue by channel, per day"' in html
    # Nothing a Content-Security-Policy without 'unsafe-inline' would block.
    assert re.findall(r'<script(?![^>]*\s(?:src=|type="application/json"))', html) == []
    assert not re.search(r"\son[a-z]+=|hx-on", html)


def test_the_change_against_the_previous_period(built, hq_client):
    # 2–3 Dec against 30 Nov–1 Dec. Now: O3 90 + O4 80 + O5 0 + O9 30 + O7 50 − 30 = 220;
    # before: O1 170 + O2 30 (1 Dec, local days) = 200; +10 %.
    response = hq_client.get(
        reverse("insights_hq:dashboard"), {"start": "2026-12-02", "end": "2026-12-03"}
    )
    html = response.content.decode()
    assert figure(html, "revenue") == "€220.00"
    assert "+10% against €200.00 the period before" in html


def test_revenue_by_channel_csv_has_a_row_per_local_day(built, hq_client):
    # 1 Dec: O1 170 (23:30 in Shanghai) + O2 30 (23:30 in New York) in store. 2 Dec: web
    # O3 90 + O4 80, app O5 0 (expired), store O9 30. 3 Dec: web O7 50 less O3's 30
    # refunded for the return that day.
    response = hq_client.get(reverse("insights_hq:csv", args=["revenue"]), PERIOD)
    assert response.status_code == 200
    assert "aisle-network-revenue-20261201-20261203.csv" in response["Content-Disposition"]
    assert rows_of(response) == [
        ["Day", "Web (€)", "App (€)", "Store (€)", "Total (€)"],
        ["2026-12-01", "0.00", "0.00", "200.00", "200.00"],
        ["2026-12-02", "170.00", "0.00", "30.00", "200.00"],
        ["2026-12-03", "20.00", "0.00", "0.00", "20.00"],
    ]


def test_store_fulfilment_and_segment_csvs(built, hq_client):
    fulfilment = rows_of(hq_client.get(reverse("insights_hq:csv", args=["fulfilment"]), PERIOD))
    assert fulfilment[1][:6] == ["SH", "3.0", "3.8", "2", "0.5", "0.5"]
    stores = rows_of(hq_client.get(reverse("insights_hq:csv", args=["stores"]), PERIOD))
    assert stores[1:] == [["NY", built.ny.name, "30.00"], ["SH", built.sh.name, "280.00"]]
    segments = rows_of(hq_client.get(reverse("insights_hq:csv", args=["segments"]), PERIOD))
    assert segments[0] == [
        "Segment",
        "Customers",
        "Net revenue in the period (€)",
        "Revenue per customer (€)",
        "Return rate",
    ]
    # Every customer of the story but dan (his one order cancelled, no views) has one.
    assert sum(int(r[1]) for r in segments[1:]) == 7
    headlines = rows_of(hq_client.get(reverse("insights_hq:csv", args=["headlines"]), PERIOD))
    assert ["Net revenue", "€420.00", "€0.00", "no comparison"] in headlines


def test_returns_by_reason_csv(built, hq_client):
    # One return in the period: 1 unit of O3, wrong size, 30.00 refunded (3 Dec).
    response = hq_client.get(reverse("insights_hq:csv", args=["reasons"]), PERIOD)
    assert rows_of(response) == [
        ["Reason", "Returns", "Units", "Refunded (€)"],
        ["Wrong size", "1", "1", "30.00"],
    ]
    # Received at NY: not SH's.
    sh = hq_client.get(reverse("insights_hq:csv", args=["reasons"]), {**PERIOD, "store": "SH"})
    assert rows_of(sh) == [["Reason", "Returns", "Units", "Refunded (€)"]]


def test_a_region_shows_no_network_returns_under_its_name(built, hq_client):
    response = hq_client.get(reverse("insights_hq:dashboard"), {**PERIOD, "region": "FR"})
    section = response.content.decode().split('id="table-reasons"')[1].split("</section>")[0]
    assert "not a region" in section and "Wrong size" not in section


def test_an_unknown_table_is_not_found(built, hq_client):
    assert hq_client.get(reverse("insights_hq:csv", args=["nope"])).status_code == 404


def test_filters_by_store_region_and_channel(built, hq_client):
    url = reverse("insights_hq:dashboard")
    sh = hq_client.get(url, {**PERIOD, "store": "SH"}).content.decode()
    assert figure(sh, "revenue") == "€280.00"  # O1 170 + O4 80 + O5 0 + O9 30
    web = hq_client.get(url, {**PERIOD, "channel": "web"}).content.decode()
    assert figure(web, "revenue") == "€190.00"  # 90 + 80 + 50 − 30
    built.ny.country = "DE"
    built.ny.save()
    de = hq_client.get(url, {**PERIOD, "region": "DE"}).content.decode()
    assert figure(de, "revenue") == "€30.00"  # NY's O2 only: home deliveries are in no region
    fr = hq_client.get(url, {**PERIOD, "region": "FR"}).content.decode()
    assert figure(fr, "revenue") == "€280.00"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-12-03", "end": "2026-12-01"}, "The period ends before it starts."),
        ({"start": "2026-12-01", "end": "2099-01-01"}, "The period ends in the future"),
        ({**PERIOD, "store": "ZZ"}, "That store code is unknown."),
        ({**PERIOD, "channel": "fax"}, "That channel is unknown."),
        ({**PERIOD, "region": "XX"}, "That region is unknown."),
        ({"start": "2020-01-01", "end": "2026-12-01"}, "Choose a period of at most 730 days."),
        ({"start": "not-a-date"}, "Enter a valid date."),
        ({"start": "0001-01-01", "end": "0001-01-05"}, "Choose a period from 2000-01-01 on."),
        ({"end": "0001-01-01"}, "Choose a period from 2000-01-01 on."),
        ({"store": "<script>"}, "That store code is unknown."),
    ],
)
def test_bad_filters_say_why_and_show_no_figures(built, hq_client, params, message):
    response = hq_client.get(reverse("insights_hq:dashboard"), params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'data-figure="revenue"' not in html
    csv_response = hq_client.get(reverse("insights_hq:csv", args=["revenue"]), params)
    assert csv_response.status_code == 400


def test_a_store_outside_the_region_is_refused(built, hq_client):
    built.ny.country = "DE"
    built.ny.save()
    response = hq_client.get(
        reverse("insights_hq:dashboard"), {**PERIOD, "store": "NY", "region": "FR"}
    )
    assert response.status_code == 400
    assert "That store is not in the region chosen." in response.content.decode()


def test_the_default_period_is_the_last_30_days(built, hq_client):
    from insights.dates import today

    response = hq_client.get(reverse("insights_hq:dashboard"))
    assert response.status_code == 200
    form = response.context["form"]
    end = form.cleaned_data["end"]
    assert end >= today()
    assert (end - form.cleaned_data["start"]).days == 29


def test_a_manager_sees_their_store_only(built, sh_manager):
    response = sh_manager.get(reverse("insights_store:dashboard"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert figure(html, "revenue") == "€280.00"
    assert figure(html, "ready_p50") == "3.0 h"
    # Customer figures are the network's: not on a store's dashboard.
    assert 'data-figure="conversion"' not in html
    assert 'id="table-stores"' not in html and 'id="table-segments"' not in html
    # Another store, by URL: refused, never its numbers.
    assert sh_manager.get(reverse("insights_store:dashboard"), {"store": "NY"}).status_code == 403
    csv_other = sh_manager.get(reverse("insights_store:csv", args=["revenue"]), {"store": "NY"})
    assert csv_other.status_code == 403
    # A table only HQ has.
    assert sh_manager.get(reverse("insights_store:csv", args=["stores"])).status_code == 404


def test_a_managers_csv_is_their_stores(built, sh_manager):
    response = sh_manager.get(reverse("insights_store:csv", args=["revenue"]), PERIOD)
    assert "aisle-SH-revenue-20261201-20261203.csv" in response["Content-Disposition"]
    # SH: O1 170 (1 Dec, Shanghai), O9 30 and O4 80 (web, collected at SH) on 2 Dec,
    # O5 0 (app, expired).
    assert rows_of(response) == [
        ["Day", "Web (€)", "App (€)", "Store (€)", "Total (€)"],
        ["2026-12-01", "0.00", "0.00", "170.00", "170.00"],
        ["2026-12-02", "80.00", "0.00", "30.00", "110.00"],
        ["2026-12-03", "0.00", "0.00", "0.00", "0.00"],
    ]


def test_associates_get_no_dashboard_and_no_panel(built, client):
    associate = factories.StaffFactory(role="associate", home_store=built.sh)
    client.force_login(associate)
    assert client.get(reverse("insights_store:dashboard")).status_code == 403
    assert client.get(reverse("insights_store:panel")).status_code == 403
    home = client.get(reverse("retail:store_home")).content.decode()
    assert "insights-panel" not in home


def test_the_store_home_has_the_managers_panel(built, sh_manager):
    home = sh_manager.get(reverse("retail:store_home")).content.decode()
    assert f'hx-get="{reverse("insights_store:panel")}"' in home
    panel = sh_manager.get(reverse("insights_store:panel")).content.decode()
    assert 'id="panel-revenue"' in panel
    assert reverse("insights_store:dashboard") in panel
    # The manager's other figures are one tap away: the team's incentives, the journal.
    assert reverse("insights_incentives:team") in panel
    assert reverse("journal_store:journal") in panel


def test_the_dashboard_speaks_chinese(built, hq_client):
    response = hq_client.get(
        reverse("insights_hq:dashboard"), PERIOD, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    html = response.content.decode()
    assert figure(html, "revenue") == "€420.00"
    assert "如何计算" in html or "怎么算" in html


def _page_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_figures_are_kept_until_the_rollups_change(built, hq_client, settings):
    """The dashboard keeps each KPI's figures in the cache: a second look runs fewer
    queries and shows the same; a refresh that changes the rollups shows the change."""
    from tests.insights import factories as f

    settings.AISLE_INSIGHTS_CACHE_SECONDS = 600
    url = reverse("insights_hq:dashboard")
    first = _page_queries(hq_client, url, PERIOD)
    again = _page_queries(hq_client, url, PERIOD)
    assert again < first - 10
    assert figure(hq_client.get(url, PERIOD).content.decode(), "revenue") == "€420.00"
    # A sale on 2 Dec (30.00 at SH), then the beat's refresh: a new generation.
    f.sale("store", f.at("2026-12-02 06:00"), [(built.variants["b"], 1, "30.00")], store=built.sh)
    rollups.mark_days([(built.sh.pk, dt.date(2026, 12, 2))])
    assert figure(hq_client.get(url, PERIOD).content.decode(), "revenue") == "€420.00"
    rollups.refresh_dirty()
    assert figure(hq_client.get(url, PERIOD).content.decode(), "revenue") == "€450.00"


def test_the_dashboards_run_the_same_queries_at_two_sizes(
    built, hq_client, django_assert_max_num_queries, settings
):
    from django.test import Client

    settings.AISLE_INSIGHTS_CACHE_SECONDS = 0  # every figure computed: the real count

    from tests.insights.test_queries import grow

    manager = Client()
    manager.force_login(factories.StaffFactory(role="store_manager", home_store=built.sh))
    url = reverse("insights_hq:dashboard")
    mine, panel = reverse("insights_store:dashboard"), reverse("insights_store:panel")
    hq_client.get(url, PERIOD)  # the session's first request settles what it caches
    manager.get(mine, PERIOD)
    small = _page_queries(hq_client, url, PERIOD)
    small_store = _page_queries(hq_client, url, {**PERIOD, "store": "SH"})
    small_mine = _page_queries(manager, mine, PERIOD)
    small_panel = _page_queries(manager, panel, {})
    grow(built, 9)
    rollups.refresh(full=True)
    hq_client.get(url, PERIOD)  # the user, cached per session, was written meanwhile
    manager.get(mine, PERIOD)
    with django_assert_max_num_queries(small):
        hq_client.get(url, PERIOD)
    assert _page_queries(hq_client, url, {**PERIOD, "store": "SH"}) == small_store
    assert _page_queries(manager, mine, PERIOD) == small_mine
    assert _page_queries(manager, panel, {}) == small_panel
    assert small <= 60


def test_a_chart_of_many_stores_draws_the_largest():
    from insights.dashboard import tables

    rows = [[f"S{n:02d}", "", D(n)] for n in range(25)]
    drawn, note = tables._largest(rows, lambda r: r[2])
    assert [r[0] for r in drawn] == [f"S{n:02d}" for n in range(24, 4, -1)]
    assert "20 largest" in note
    assert tables._largest(rows[:3], lambda r: r[2]) == (rows[:3], "")


def test_a_second_look_draws_only_the_page_around_the_figures(built, hq_client, settings):
    """The filters, headlines and tables are drawn once per scope and language: the
    same figures again cost no KPI query, whatever else the URL carried, and the
    page's links ask for the cleaned filters only."""
    settings.AISLE_INSIGHTS_CACHE_SECONDS = 600
    url = reverse("insights_hq:dashboard")
    params = {**PERIOD, "store": "SH", "utm_source": "mail"}
    first = hq_client.get(url, params).content.decode()
    with CaptureQueriesContext(connection) as ctx:
        again = hq_client.get(url, {**PERIOD, "store": "SH"}).content.decode()

    def figures(html):
        return html[html.index('id="dashboard-period"') :]

    assert figures(again) == figures(first)
    assert len(ctx.captured_queries) <= 5  # the user's stores and second factor, no figure
    assert not any("insights_" in q["sql"] for q in ctx.captured_queries)
    assert "utm_source" not in figures(first)
    csv_query = "?start=2026-12-01&amp;end=2026-12-03&amp;store=SH"
    assert f'{reverse("insights_hq:csv", args=["revenue"])}{csv_query}"' in first
    # Another language is drawn in it, not taken from the English one.
    chinese = hq_client.get(url, params, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "如何计算" in chinese and "如何计算" not in first
    assert figure(chinese, "revenue") == figure(first, "revenue") == "€280.00"
    # Another store is another drawing.
    other = hq_client.get(url, {**PERIOD, "store": "NY"}).content.decode()
    assert figure(other, "revenue") != "€280.00"


def test_a_renamed_store_is_drawn_under_its_new_name(built, hq_client, settings):
    settings.AISLE_INSIGHTS_CACHE_SECONDS = 600
    url = reverse("insights_hq:dashboard")
    assert built.sh.name in hq_client.get(url, PERIOD).content.decode()
    built.sh.name = "Sheffield Moor"
    built.sh.save()
    assert "SH · Sheffield Moor" in hq_client.get(url, PERIOD).content.decode()
