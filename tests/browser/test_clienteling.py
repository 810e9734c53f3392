"""The customer 360 page on the tablet, in a real browser at 1024×768 (Done when 2).

An associate searches a customer, opens the page, sees recently viewed products and
recommendations with their reasons and availability here, adds a note and a
follow-up, and finds the follow-up on the home screen; the audit log holds the views.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from clienteling.models import FollowUpTask, Note
from retail.models import AuditLog
from tests.browser.test_store_shell import demo, find_and_open_customer, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def test_associate_uses_the_customer_360_page_and_the_follow_up_reaches_home(
    page: Page,
    shot,
    demo,  # noqa: F811
):
    associate, customer = demo["associate"], demo["customer"]
    assert page.viewport_size == {"width": 1024, "height": 768}
    sign_in(page, shot)
    find_and_open_customer(page, shot, customer)

    panel = page.locator("#customer-360")
    viewed = panel.locator("#viewed .product-card")
    expect(viewed.first).to_be_visible()
    expect(viewed.first).to_contain_text(re.compile(r"Viewed \d+ times?"))
    expect(viewed.first.locator(".pill")).to_contain_text(
        re.compile(r"on the shelf here|available at|out of stock", re.IGNORECASE)
    )
    shot(page, "journey")

    recs = panel.locator("#recommendations .recommendation")
    expect(recs.first).to_be_visible()
    reasons = recs.first.locator(".reasons li")
    expect(reasons.first).to_contain_text(re.compile(r"Viewed|Often|Left in the cart|wishlist"))
    expect(recs.first).to_contain_text(re.compile(r"on the shelf here|available at", re.IGNORECASE))
    panel.locator("#recommendations").scroll_into_view_if_needed()
    shot(page, "recommendations")

    note_form = panel.locator("#note-form")
    note_form.get_by_label("Note").fill("Looking for a linen shirt for a wedding in June.")
    note_form.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes")).to_contain_text("linen shirt for a wedding")
    shot(page, "note-added")

    task_form = page.locator("#task-form")
    task_form.get_by_label("Follow-up").fill("Call Mei when the linen shirt arrives")
    task_form.get_by_role("button", name="Add follow-up").click()
    expect(page.locator("#tasks")).to_contain_text("Call Mei when the linen shirt arrives")
    shot(page, "task-added")

    outreach = page.locator("#outreach-form")
    outreach.get_by_label("Subject").fill("Your linen shirt")
    outreach.get_by_role("button", name="Preview").click()
    expect(outreach.locator(".error")).to_contain_text("This field is required.")
    outreach.get_by_label("Message").fill("It arrives on Friday; we will keep one in S for you.")
    outreach.get_by_role("button", name="Preview").click()
    expect(outreach.locator(".preview")).to_contain_text("Hello Mei,")
    shot(page, "outreach-preview")
    outreach.get_by_role("button", name="Send").click()
    expect(page.locator("#outreach")).to_contain_text("Your linen shirt")

    page.locator("nav.mainnav").get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("#tasks-panel")).to_contain_text("Call Mei when the linen shirt arrives")
    expect(page.locator("#tasks-panel")).to_contain_text(customer.name)
    shot(page, "home-with-task")

    assert Note.objects.filter(customer=customer, author=associate).count() == 1
    assert FollowUpTask.objects.filter(customer=customer, assigned_to=associate).count() == 1
    actions = list(
        AuditLog.objects.filter(actor=associate, target_id=str(customer.pk)).values_list(
            "action", flat=True
        )
    )
    # The page was opened four times (first, after the note, the task and the message),
    # its 360 section rendered in the same responses.
    assert actions.count("customer.view") == 4
    assert "customer.view_360" not in actions
    assert {"customer.note_add", "customer.task_create", "customer.outreach"} <= set(actions)
