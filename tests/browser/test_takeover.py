"""#16 Done-when 1: the takeover from an unattended tablet or kiosk is impossible.

On a kiosk and on an associate's tablet left signed in, someone tries the account
pages, adding their own e-mail address and signing out: refused. With the password,
an added address still needs verification before a password reset can go there.
"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from playwright.sync_api import Page, expect

from retail.services import mark_email_verified
from tests import factories
from tests.browser.test_pickup import sign_in

pytestmark = pytest.mark.browser

ATTACKER = "attacker@evil.test"


@pytest.fixture
def world(live_server):
    store = factories.StoreFactory(code="S01", name="Paris Rivoli")
    associate = factories.StaffFactory(
        role="associate", home_store=store, email="associate@test.aisle"
    )
    kiosk = factories.StaffFactory(role="kiosk", home_store=store, email="kiosk@test.aisle")
    mark_email_verified(associate)
    mark_email_verified(kiosk)
    return {"associate": associate, "kiosk": kiosk}


def post_sign_out(page: Page) -> int:
    """What the sign-out POST answers (with the page's CSRF token, as a form would)."""
    return page.evaluate(
        """async () => {
            const token = document.cookie.split('; ').find(c => c.startsWith('csrftoken='));
            const r = await fetch('/accounts/logout/', {
                method: 'POST', redirect: 'manual',
                headers: {'X-CSRFToken': token ? token.split('=')[1] : ''},
            });
            return r.type === 'opaqueredirect' ? 302 : r.status;
        }"""
    )


def test_a_kiosk_left_signed_in_cannot_be_turned_against_its_owner(page, shot, world):
    sign_in(page, "kiosk@test.aisle")
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.get_by_text("Successfully signed in")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    shot(page, "kiosk-home")
    for url in ("/accounts/email/", "/accounts/password/change/", "/accounts/2fa/"):
        response = page.goto(url)
        assert response.status == 403, url
    shot(page, "kiosk-account-page-refused")
    page.goto("/kiosk/")
    assert post_sign_out(page) == 403
    page.reload()
    expect(page).to_have_url(re.compile(r"/kiosk/$"))  # still the kiosk, signed in
    assert not EmailAddress.objects.filter(email=ATTACKER).exists()


def test_a_tablet_left_signed_in_needs_the_password_and_a_verified_address(
    page, new_page, shot, world
):
    sign_in(page, "associate@test.aisle")
    expect(page).to_have_url(re.compile(r"/store/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # Someone at the unattended tablet tries to add their address: the password first.
    page.goto("/accounts/email/")
    page.locator("input[name=email]").fill(ATTACKER)
    page.locator("button[name=action_add]").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    shot(page, "password-again")
    assert not EmailAddress.objects.filter(email=ATTACKER).exists()

    # Even with the password, the address waits for its verification ...
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator(
        "button[type=submit]"
    ).click()
    # (allauth resumes the interrupted change once the password is given)
    expect(page).to_have_url(re.compile(r"/accounts/email/"))
    expect(page.get_by_role("textbox", name="Changing to:")).to_have_value(ATTACKER)
    shot(page, "address-unverified")
    added = EmailAddress.objects.get(email=ATTACKER)
    assert not added.verified and not added.primary
    world["associate"].refresh_from_db()
    assert world["associate"].email == "associate@test.aisle"

    # ... and a password reset asked for it sends nothing there.
    mail.outbox.clear()
    other = new_page()
    other.goto("/accounts/password/reset/")
    other.locator("input[name=email]").fill(ATTACKER)
    other.locator("form button[type=submit]").last.click()
    expect(other).to_have_url(re.compile(r"/accounts/password/reset/done/"))
    assert all("/password/reset/key/" not in m.body for m in mail.outbox)

    # The owner signs out as usual.
    assert post_sign_out(page) == 302
