"""The store tablet, driven in a real browser on the demo data.

An associate signs in, finds a customer by typing part of their phone number
(htmx search as you type), opens the profile (which the audit log records) and
switches the interface to Chinese; the same works on a phone.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from retail.audit import mask_email
from retail.models import AuditLog, Customer, User

pytestmark = pytest.mark.browser

ASSOCIATE = "associate.s01@demo.aisle"
DEMO_PASSWORD = "aisle-demo"
CUSTOMER = "Mei Lin Chen"
PHONE = "06 12 90 01 23"  # the whole number (+33 6 12 90 01 23): contact searches need it all


@pytest.fixture
def demo(live_server):
    """The demo network, built by the real `seed_demo` command."""
    call_command("seed_demo", force=True, stdout=StringIO())
    return {
        "associate": User.objects.get(email=ASSOCIATE),
        "customer": Customer.objects.get(email="mei.chen@example.com"),
    }


def sign_in(page: Page, shot) -> None:
    page.goto("/accounts/login/")
    shot(page, "login")
    page.get_by_label("E-mail").fill(ASSOCIATE)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/store/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    shot(page, "store-home")


def find_and_open_customer(page: Page, shot, customer: Customer) -> None:
    search = page.locator("input[name=q]")
    expect(search).to_be_visible()
    search.press_sequentially(PHONE, delay=40)
    result = page.locator("#search-results").get_by_role("link", name=re.compile(CUSTOMER))
    expect(result).to_be_visible()
    # The results came by htmx while typing: the page itself never changed.
    expect(page).to_have_url(re.compile(r"/store/$"))
    # Contact details are masked in the results until the profile is opened.
    expect(page.locator("#search-results")).to_contain_text(mask_email(customer.email))
    expect(page.locator("#search-results")).not_to_contain_text(customer.email)
    shot(page, "search-results")
    result.click()
    expect(page).to_have_url(re.compile(rf"/store/customers/{customer.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(CUSTOMER)
    expect(page.locator(".facts")).to_contain_text(customer.email)
    shot(page, "customer-profile")


def assert_view_audited(associate: User, customer: Customer) -> None:
    views = AuditLog.objects.filter(
        action="customer.view",
        actor=associate,
        target_type="retail.customer",
        target_id=str(customer.pk),
    )
    assert views.count() == 1
    assert views.get().store.code == "S01"


def nav_link(page: Page, name: str):
    return page.locator("nav.mainnav").get_by_role("link", name=name, exact=True)


def test_associate_finds_a_customer_by_phone_the_view_is_audited_and_chinese_is_remembered(
    page, shot, demo
):
    associate, customer = demo["associate"], demo["customer"]
    sign_in(page, shot)
    find_and_open_customer(page, shot, customer)
    assert_view_audited(associate, customer)

    page.locator("form.language-switch").get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(re.compile(rf"/store/customers/{customer.pk}/$"))
    expect(nav_link(page, "首页")).to_be_visible()
    expect(nav_link(page, "顾客")).to_be_visible()
    shot(page, "profile-in-chinese")

    page.goto("/store/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(nav_link(page, "首页")).to_be_visible()
    expect(nav_link(page, "顾客")).to_be_visible()
    expect(page.locator("form.language-switch").get_by_role("button")).to_have_text("English")
    shot(page, "home-still-in-chinese")


def test_the_store_shell_works_on_a_phone(phone_page, shot, demo):
    page = phone_page
    associate, customer = demo["associate"], demo["customer"]
    sign_in(page, shot)
    expect(nav_link(page, "Home")).to_be_in_viewport()
    expect(nav_link(page, "Customers")).to_be_in_viewport()
    assert_fits_the_screen(page)

    find_and_open_customer(page, shot, customer)
    assert_fits_the_screen(page)
    expect(nav_link(page, "Customers")).to_be_in_viewport()
    assert_view_audited(associate, customer)


def assert_fits_the_screen(page: Page) -> None:
    """Nothing is wider than the phone: no sideways scrolling."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
