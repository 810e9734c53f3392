"""A merge is a deliberate act (issue #21, Done when 3): HQ signs in with TOTP,
compares two profiles side by side with nothing chosen, cancels, then merges; the
old profile's URL lands on the survivor."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from retail.models import Customer
from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def people(db):
    hq = factories.StaffFactory(role="hq_admin", email="hq.merge@example.com")
    secret = factories.totp_activate(hq)
    store = factories.StoreFactory(code="S01", name="Paris")
    stays = factories.CustomerFactory(
        name="Mei Lin Chen", email="mei@example.com", customer_ref="WEB-1", preferred_store=store
    )
    goes = factories.CustomerFactory(name="Mei Chen", email="", phone="+447700900123")
    return {"hq": hq, "secret": secret, "stays": stays, "goes": goes}


def sign_in_hq(page: Page, shot, people) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(people["hq"].email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    code = page.locator("input[name=code]")
    expect(code).to_be_visible()
    shot(page, "totp")
    code.fill(factories.totp_code(people["secret"]))
    code.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/accounts/"))


def select_both(page: Page, people) -> None:
    page.goto("/admin/retail/customer/")
    for customer in (people["stays"], people["goes"]):
        page.locator(f"input[name=_selected_action][value='{customer.pk}']").check()
    page.locator("select[name=action]").select_option("merge_customers")
    page.get_by_role("button", name="Go").click()


def test_hq_compares_cancels_then_merges_and_the_old_profile_lands_on_the_survivor(
    page: Page, shot, people
):
    stays, goes = people["stays"], people["goes"]
    sign_in_hq(page, shot, people)

    select_both(page, people)
    table = page.locator("#merge-comparison")
    expect(table).to_contain_text("Mei Lin Chen")
    expect(table).to_contain_text("Mei Chen")
    expect(table).to_contain_text("Orders")  # what each holds, in words
    expect(table).not_to_contain_text("retail.messages")
    radios = page.locator("input[name=survivor]")
    expect(radios).to_have_count(2)
    for i in range(2):
        expect(radios.nth(i)).not_to_be_checked()  # nothing chosen for HQ
    shot(page, "compare")

    page.locator("#merge-cancel").click()
    expect(page).to_have_url(re.compile(r"/admin/retail/customer/$"))
    assert not Customer.objects.filter(merged_into__isnull=False).exists()
    shot(page, "cancelled")

    select_both(page, people)
    page.get_by_label(re.compile("Keep “Mei Lin Chen”")).check()
    page.get_by_role("button", name="Merge into the chosen profile").click()
    expect(page.locator(".messagelist")).to_contain_text("was merged into")
    shot(page, "merged")
    goes.refresh_from_db()
    assert goes.merged_into_id == stays.pk

    page.goto(f"/hq/customers/{goes.pk}/")
    expect(page).to_have_url(re.compile(rf"/hq/customers/{stays.pk}/$"))
    expect(page.locator("body")).to_contain_text("this is the profile that stays")
    page.goto(f"/admin/retail/customer/{goes.pk}/change/")
    expect(page).to_have_url(re.compile(rf"/admin/retail/customer/{stays.pk}/change/$"))
    shot(page, "old-profile-lands-on-survivor")
