"""The dashboards in a real browser at 1024×768, in English and Chinese (issue #18, Done
when 2): HQ after TOTP and a store manager open their dashboard, change the filters
(the figures and the heading follow), open a figure's definition and download a CSV.

The history, in the days before today (noon UTC, the same local day in Lisbon, Paris
and the reporting time zone): S01 (Lisbon) sells 100.00 in store 1, 3, 5 and 20 days
ago and a web order collected there, 50.00, 4 days ago; S02 (Paris) sells 60.00 2 and
25 days ago. Last 30 days: the network 570.00, S01 450.00 (400.00 in store), S02
120.00; last 7 days: the network 410.00, S01 350.00, S02 60.00.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from insights import rollups
from tests import factories
from tests.insights import factories as f

pytestmark = pytest.mark.browser


@pytest.fixture
def history(live_server, settings):
    settings.AISLE_CURRENCY = "EUR"
    s01 = factories.StoreFactory(code="S01", name="Lisbon", country="PT", time_zone="Europe/Lisbon")
    s02 = factories.StoreFactory(code="S02", name="Paris", country="FR", time_zone="Europe/Paris")
    variant = factories.VariantFactory(price=Decimal("100.00"))
    customer = factories.CustomerFactory()
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)

    def ago(days: int) -> dt.datetime:
        return noon - dt.timedelta(days=days)

    for days in (1, 3, 5, 20):
        f.sale("store", ago(days), [(variant, 1, "100.00")], customer=customer, store=s01)
    for days in (2, 25):
        f.sale("store", ago(days), [(variant, 1, "60.00")], customer=customer, store=s02)
    web = f.sale("web", ago(4), [(variant, 1, "50.00")], customer=customer, store=s01)
    f.FulfillmentFactory(
        order=web, pickup_store=s01, state="collected", ready_at=ago(4) + dt.timedelta(hours=3)
    )
    rollups.refresh(full=True)
    hq = factories.StaffFactory(role="hq_admin", email="hq.dash@test.aisle")
    manager = factories.StaffFactory(
        role="store_manager", home_store=s01, email="manager.dash@test.aisle", first_name="Mo"
    )
    return {"hq": hq, "secret": factories.totp_activate(hq), "manager": manager}


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_in_hq(page: Page, shot, history) -> None:
    sign_in(page, history["hq"].email)
    code = page.locator("input[name=code]")
    expect(code).to_be_visible()
    code.fill(factories.totp_code(history["secret"]))
    code.press("Enter")
    expect(page).to_have_url(re.compile(r"/hq/$"))


def revenue(page: Page):
    return page.locator('[data-figure="revenue"]')


def show(page: Page) -> None:
    page.locator("#dashboard-filters button[type=submit]").click()


def open_definition(page: Page, text: str) -> None:
    details = page.locator("#kpi-revenue details.definition")
    details.locator("summary").click()
    expect(details.locator("p")).to_be_visible()
    expect(details.locator("p")).to_contain_text(text)


def download(page: Page, table: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.locator(f"a[download][href*='/csv/{table}/']").click()
    path = Path(info.value.path())
    assert info.value.suggested_filename.endswith(".csv")
    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))


def to_chinese(page: Page) -> None:
    page.locator("form.language-switch").get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def test_hq_filters_reads_a_definition_and_exports_in_english_and_chinese(page, shot, history):
    sign_in_hq(page, shot, history)
    expect(page.locator("h1")).to_have_text("Network dashboard")
    expect(revenue(page)).to_have_text("€570.00")
    shot(page, "hq-network-30-days")

    page.locator("select[name=store]").select_option("S02")
    show(page)
    expect(revenue(page)).to_have_text("€120.00")
    expect(page.locator("#dashboard-period")).to_contain_text("S02 · Paris")
    page.get_by_role("link", name="Last 7 days").click()
    expect(revenue(page)).to_have_text("€60.00")
    shot(page, "hq-paris-7-days")

    open_definition(page, "Net revenue: what customers paid")
    shot(page, "hq-definition")
    rows = download(page, "revenue")
    assert rows[0] == ["Day", "Store (€)", "Total (€)"]
    assert len(rows) == 1 + 7 and ["60.00", "60.00"] in [r[1:] for r in rows]

    to_chinese(page)
    expect(page.locator("h1")).to_have_text("网络仪表板")
    expect(revenue(page)).to_have_text("€60.00")  # the filters stay
    page.locator("select[name=store]").select_option("")
    show(page)
    expect(revenue(page)).to_have_text("€410.00")  # the last 7 days, every store
    open_definition(page, "净收入")
    rows = download(page, "stores")
    assert rows[0] == ["门店", "名称", "净收入 (€)"]
    assert rows[1:] == [["S01", "Lisbon", "350.00"], ["S02", "Paris", "60.00"]]
    shot(page, "hq-chinese")


def test_a_manager_filters_their_store_in_english_and_chinese(page, shot, history):
    sign_in(page, history["manager"].email)
    expect(page).to_have_url(re.compile(r"/store/$"))
    panel = page.locator("#insights-panel")
    expect(panel.locator("#panel-revenue strong")).to_have_text("€450.00")
    shot(page, "manager-home-panel")
    panel.locator('a[href="/store/insights/"]').click()
    expect(page).to_have_url(re.compile(r"/store/insights/$"))
    expect(revenue(page)).to_have_text("€450.00")
    expect(page.locator("select[name=store]")).to_have_count(0)

    page.locator("select[name=channel]").select_option("store")
    show(page)
    expect(revenue(page)).to_have_text("€400.00")
    expect(page.locator("#dashboard-period")).to_contain_text("Store")
    open_definition(page, "Net revenue")
    rows = download(page, "revenue")
    assert rows[0] == ["Day", "Store (€)", "Total (€)"]
    assert sum(float(r[2]) for r in rows[1:]) == 400.0
    shot(page, "manager-store-channel")

    to_chinese(page)
    expect(revenue(page)).to_have_text("€400.00")
    page.locator("select[name=channel]").select_option("")
    show(page)
    expect(revenue(page)).to_have_text("€450.00")
    open_definition(page, "净收入")
    rows = download(page, "headlines")
    assert rows[0][0] == "指标"
    shot(page, "manager-chinese")
