"""HQ imports a catalog and a stock file in admin, in a real browser (#22, Done when 2).

The HQ admin (after TOTP) uploads a catalog file with mistakes: the check lists each
by row and column and applies nothing. The corrected file's check shows what would
change, row by row; Apply creates the products. An associate then finds them on the
tablet in English and in Chinese. A stock file changes what the tablet shows on the
shelf.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from retail.models import Category, ImportJob, Product
from tests.browser.test_csp_pages import ASSOCIATE, HQ, sign_in
from tests.browser.test_store_shell import demo  # noqa: F401

pytestmark = pytest.mark.browser

HEADER = "style_code,name,name_zh,brand,category,sku,price,size,colour\n"


def catalog(category: str, price_m: str, unknown: str = "") -> str:
    wool = f"FEED-WOOL,Feed wool cardigan,羊毛开衫试样,Feedwear,{category}"
    scarf = f"FEED-SCARF,Feed silk scarf,真丝围巾试样,Feedwear,{unknown or category}"
    return (
        HEADER
        + f"{wool},FEED-WOOL-M,{price_m},M,Navy\n"
        + f"{wool},FEED-WOOL-L,79.90,L,Navy\n"
        + f"{scarf},FEED-SCARF-1,39.00,,Red\n"
    )


def upload(page: Page, kind: str, path) -> None:
    page.goto("/admin/retail/importjob/add/")
    page.get_by_label("What the file holds").select_option(kind)
    page.locator("#id_file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check").click()
    expect(page).to_have_url(re.compile(r"/admin/retail/importjob/\d+/change/$"))
    # The check runs by a task; the page follows it and reloads when it is done.
    expect(page.locator("#import-state")).to_have_text(re.compile("Checked|Refused"))


def test_hq_imports_a_catalog_and_stock_and_the_tablet_shows_them(
    page: Page,
    new_page,
    shot,
    tmp_path,
    demo,  # noqa: F811
):
    category = Category.objects.order_by("name").first().name
    sign_in(page, HQ)

    bad = tmp_path / "catalog-bad.csv"
    bad.write_text(catalog(category, "69.905", unknown="No such category"), encoding="utf-8")
    upload(page, "catalog", bad)
    expect(page.locator("#import-refused")).to_be_visible()
    errors = page.locator("#import-errors")
    expect(errors.locator("tr", has_text="price")).to_contain_text("at most two decimals")
    expect(errors.locator("tr", has_text="category")).to_contain_text("No such category")
    expect(page.locator("#import-apply")).to_have_count(0)
    shot(page, "catalog-refused-row-by-row")
    assert not Product.objects.filter(style_code__startswith="FEED-").exists()

    good = tmp_path / "catalog.csv"
    good.write_text(catalog(category, "69.90"), encoding="utf-8")
    upload(page, "catalog", good)
    changes = page.locator("#import-changes")
    expect(changes).to_contain_text("FEED-WOOL")
    expect(changes).to_contain_text("FEED-SCARF")
    expect(page.locator("#import-summary")).to_contain_text("3 rows create records")
    shot(page, "catalog-dry-run")
    assert not Product.objects.filter(style_code__startswith="FEED-").exists()
    page.locator("#import-apply").get_by_role("button", name="Apply").click()
    expect(page.locator("#import-state")).to_have_text("Applied")
    expect(page.get_by_role("heading", name="What was applied")).to_be_visible()
    shot(page, "catalog-applied")
    assert Product.objects.filter(style_code__startswith="FEED-").count() == 2

    tablet = new_page()
    sign_in(tablet, ASSOCIATE)
    tablet.goto("/store/aisle/?q=feed+wool")
    card = tablet.locator('.product-card[data-style="FEED-WOOL"]')
    expect(card).to_contain_text("Feed wool cardigan")
    shot(tablet, "tablet-english")
    origin = "/".join(tablet.url.split("/", 3)[:3])
    tablet.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": origin}]
    )
    tablet.goto("/store/aisle/?q=羊毛开衫")
    card = tablet.locator('.product-card[data-style="FEED-WOOL"]')
    expect(card).to_contain_text("羊毛开衫试样")
    shot(tablet, "tablet-chinese")
    tablet.goto("/store/aisle/FEED-WOOL/")
    shelf = tablet.locator('#availability tr[data-sku="FEED-WOOL-M"] td.here')
    expect(shelf).not_to_contain_text("7")

    stock = tmp_path / "stock.csv"
    stock.write_text("location,sku,quantity\nS01,FEED-WOOL-M,7\nS01,FEED-WOOL-L,2\n")
    upload(page, "stock", stock)
    expect(page.locator("#import-changes")).to_contain_text("FEED-WOOL-M")
    shot(page, "stock-dry-run")
    page.locator("#import-apply").get_by_role("button", name="Apply").click()
    expect(page.locator("#import-state")).to_have_text("Applied")
    assert ImportJob.objects.filter(kind="stock", state="applied").exists()

    tablet.reload()
    expect(shelf).to_have_text("7")
    shot(tablet, "tablet-shelf-after-the-stock-file")
