"""Flaky Wi-Fi loses nothing (issue #19), in a real browser at 1024×768.

Picking goes on with the network gone (the browser's offline mode): the scans are kept
on the tablet and listed, sent in order when the network is back, each applied once
(the pick counts, the applied-action records and the ledger say so, even when the
same queue is sent twice); the one the server refuses is listed with its reason until
acknowledged. A wrong scan made online shows its message in the page, which stays as
it was — with DEBUG on (django-htmx's debug script loaded) and off. The hand-over and
returns refuse to go offline and say why; a session that ended keeps the queue until
the same associate signs in again; signing out deletes it.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from inventory.models import StockMovement
from orders.models import Fulfillment, FulfillmentLine, State
from retail.action_models import AppliedAction
from tests import factories
from tests.browser.steps import scan, sign_in, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def world(pickup_world):
    return pickup_world


def place_order(page: Page, live_server, world, ref: str) -> Fulfillment:
    body = {
        "order_ref": ref,
        "channel": "web",
        "customer_ref": "WEB-ADA",
        "lines": [
            {"sku": world["jumper"].sku, "quantity": 2, "unit_price": "59.90"},
            {"sku": world["scarf"].sku, "quantity": 1, "unit_price": "25.00"},
        ],
        "fulfillment": {"method": "pickup", "store": "S01"},
        "payment": {"tender": "card", "amount": "144.80", "reference": f"psp-{ref}"},
    }
    response = page.request.post(
        f"{live_server.url}/api/v1/orders/",
        data=json.dumps(body),
        headers={
            "Authorization": f"Token {world['key']}",
            "Content-Type": "application/json",
        },
    )
    assert response.status == 201, response.text()
    return Fulfillment.objects.get(order__order_ref=ref)


def picked(f: Fulfillment) -> dict[str, int]:
    return dict(
        FulfillmentLine.objects.filter(fulfillment=f).values_list(
            "order_line__sku", "picked_quantity"
        )
    )


def kept(page: Page) -> list:
    return page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('aisle:queue:'))"
        ".flatMap(k => JSON.parse(localStorage.getItem(k)))"
    )


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_scans_made_offline_are_kept_sent_in_order_and_applied_once(
    page, shot, world, live_server, settings, debug
):
    settings.DEBUG = debug
    boots = factories.VariantFactory(sku="BOOTS-42", product__name="Leather boots")
    f = place_order(page, live_server, world, "WEB-30001")
    ledger = StockMovement.objects.count()
    sign_in(page, "associate@test.aisle", lands="/store/")
    page.goto(f"/store/pickups/{f.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pickup WEB-30001")
    if debug:  # django-htmx's debug script, which used to replace the page on a 400
        expect(page.locator('script[src*="django-htmx"]')).to_have_count(1)

    # A wrong scan online: its message in the page, the page as it was.
    scan(page, boots.barcode)
    expect(page.locator("#pick-message")).to_contain_text("Wrong item: BOOTS-42")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pickup WEB-30001")
    expect(page.locator("#scan-code")).to_be_visible()
    expect(page.locator("#aisle-net")).to_be_hidden()
    shot(page, "wrong-scan-online")

    # The Wi-Fi drops in the middle of picking: the scans are kept and listed.
    page.context.set_offline(True)
    expect(page.locator("#aisle-net-status")).to_contain_text("No network")
    scan(page, world["jumper"].barcode)
    expect(page.locator("#aisle-net-status")).to_contain_text("1 action waiting to send")
    scan(page, world["jumper"].barcode)
    scan(page, boots.barcode)
    scan(page, world["scarf"].sku)
    expect(page.locator("#aisle-net-status")).to_contain_text("4 actions waiting to send")
    expect(page.locator("#aisle-net-queue li")).to_have_count(4)
    expect(page.locator("#aisle-net-queue li").nth(0)).to_contain_text(
        f"Scan {world['jumper'].barcode}"
    )
    expect(page.locator("#scan-code")).to_have_value("")
    expect(page.locator("#scan-code")).to_be_focused()
    shot(page, "offline-four-waiting")
    assert picked(f) == {"JUMPER-NAVY-M": 0, "SCARF-GREY": 0}
    queue = kept(page)
    assert [item["label"] for item in queue] == [
        f"Scan {world['jumper'].barcode}",
        f"Scan {world['jumper'].barcode}",
        f"Scan {boots.barcode}",
        "Scan SCARF-GREY",
    ]

    # Back online: sent in order, each once; the wrong one is listed with its reason.
    page.context.set_offline(False)
    expect(page.locator("#aisle-net-status")).to_contain_text(
        "Every action kept on this tablet has been sent"
    )
    expect(page.locator("#aisle-net-queue li")).to_have_count(0)
    refused = page.locator("#aisle-net-refused li")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(f"Not applied: Scan {boots.barcode}")
    expect(refused).to_contain_text("Wrong item: BOOTS-42")
    expect(page.locator('.pick-line[data-sku="JUMPER-NAVY-M"]')).to_contain_text("2 / 2 picked")
    expect(page.locator('.pick-line[data-sku="SCARF-GREY"]')).to_contain_text("1 / 1 picked")
    shot(page, "back-online-sent")
    assert picked(f) == {"JUMPER-NAVY-M": 2, "SCARF-GREY": 1}
    ids = {uuid.UUID(item["id"]) for item in queue}
    assert set(AppliedAction.objects.filter(pk__in=ids).values_list("pk", flat=True)) == ids

    # The same queue sent again (a tablet that lost its answers): nothing applied twice.
    page.evaluate(
        """items => {
            const user = document.querySelector('meta[name=aisle-user]').content;
            const store = document.querySelector('meta[name=aisle-store]').content;
            localStorage.setItem(`aisle:queue:${user}:${store}`, JSON.stringify(items));
        }""",
        queue,
    )
    page.reload()
    expect(page.locator("#aisle-net-queue li")).to_have_count(0)
    assert picked(f) == {"JUMPER-NAVY-M": 2, "SCARF-GREY": 1}
    assert AppliedAction.objects.filter(pk__in=ids).count() == 4
    assert StockMovement.objects.count() == ledger  # picking moves no stock

    # The refusal stays until acknowledged.
    refused = page.locator("#aisle-net-refused li")
    expect(refused.filter(has_text="Wrong item: BOOTS-42")).to_have_count(1)  # listed once
    refused.get_by_role("button", name="OK").click()
    expect(refused).to_have_count(0)
    expect(page.locator("#aisle-net")).to_be_hidden(timeout=15_000)  # "sent" shown 10 s


def test_the_hand_over_and_returns_need_the_network_and_say_so(page, shot, world, live_server):
    f = place_order(page, live_server, world, "WEB-30002")
    sign_in(page, "associate@test.aisle", lands="/store/")
    page.goto(f"/store/pickups/{f.pk}/")
    for code in (
        world["jumper"].barcode,
        world["jumper"].barcode,
        world["scarf"].sku,
    ):
        scan(page, code)
    expect(page.locator('.pick-line[data-sku="SCARF-GREY"]')).to_contain_text("1 / 1 picked")
    page.get_by_role("button", name="Mark ready").click()
    expect(page.locator("#pickup-state")).to_have_attribute("data-state", "ready")
    page.get_by_role("link", name="Hand over").click()
    f.refresh_from_db()
    page.locator("#handover-code").fill(f.pickup_code)

    page.context.set_offline(True)
    page.locator("#hand-over").click()
    status = page.locator("#aisle-net-status")
    expect(status).to_contain_text("This needs the network: nothing was sent")
    expect(page.locator("#aisle-net-retry")).to_be_visible()
    expect(page.locator("#aisle-net-queue li")).to_have_count(0)
    shot(page, "hand-over-offline")
    f.refresh_from_db()
    assert f.state == State.READY
    assert kept(page) == []

    # Back online, "Retry" hands over.
    page.context.set_offline(False)
    page.locator("#aisle-net-retry").click()
    expect(page.locator("#pickup-state")).to_have_attribute("data-state", "collected")

    # Returns: the same.
    page.goto("/store/returns/")
    page.context.set_offline(True)
    page.locator("form[data-needs-network] input:not([type=hidden])").first.fill("WEB-30002")
    page.locator("form[data-needs-network] button[type=submit]").first.click()
    expect(status).to_contain_text("This needs the network: nothing was sent")
    expect(page).to_have_url(re.compile(r"/store/returns/$"))
    assert kept(page) == []
    shot(page, "returns-offline")
    page.context.set_offline(False)


def test_a_session_that_ended_keeps_the_queue_for_the_same_associate(
    page, shot, world, live_server
):
    f = place_order(page, live_server, world, "WEB-30003")
    sign_in(page, "associate@test.aisle", lands="/store/")
    page.goto(f"/store/pickups/{f.pk}/")
    page.context.set_offline(True)
    scan(page, world["jumper"].barcode)
    expect(page.locator("#aisle-net-queue li")).to_have_count(1)
    # The session ends meanwhile (the cookie is gone), then the network comes back.
    page.context.clear_cookies()
    page.context.set_offline(False)
    expect(page.locator("#aisle-net-status")).to_contain_text("Your session has ended")
    expect(page.locator("#aisle-net-sign-in")).to_be_visible()
    expect(page.locator("#aisle-net-queue li")).to_have_count(1)
    assert picked(f)["JUMPER-NAVY-M"] == 0
    shot(page, "session-ended")
    page.locator("#aisle-net-sign-in").click()
    page.get_by_label("E-mail").fill("associate@test.aisle")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pickup WEB-30003")
    expect(page.locator(".pick-line[data-sku='JUMPER-NAVY-M']")).to_contain_text("1 / 2 picked")
    expect(page.locator("#aisle-net-queue li")).to_have_count(0)
    assert picked(f)["JUMPER-NAVY-M"] == 1

    # Signing out with something kept asks first, then deletes it from the tablet.
    page.context.set_offline(True)
    scan(page, world["jumper"].barcode)
    expect(page.locator("#aisle-net-queue li")).to_have_count(1)
    page.route("**/scan/", lambda route: route.abort())  # the scan never reaches the server
    page.context.set_offline(False)
    expect(page.locator("#aisle-net-status")).to_contain_text("1 action waiting to send")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert kept(page) == []
    assert picked(f)["JUMPER-NAVY-M"] == 1


def test_a_page_that_cannot_load_offline_shows_aisles_banner(page, shot, world):
    """The tablet's service worker answers a page load that meets no network with
    Aisle's offline page (both languages), not the browser's error page."""
    sign_in(page, "associate@test.aisle", lands="/store/")
    wait_until(page, "navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # the worker, now active, controls the page
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.goto("/store/pickups/")
    expect(page.get_by_role("heading", level=1)).to_have_text("No network")
    expect(page.locator("body")).to_contain_text("没有网络")
    shot(page, "offline-page")
    page.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pickups")
