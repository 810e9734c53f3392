"""The whole buy-online-pick-up-in-store journey in a real browser at 1024×768.

The online channel places a pickup order through the API; it appears in the
store's queue; the associate picks it by scanning (a keyboard-wedge scanner types
into the focused field), marks it ready (the customer's message, with the code
and its QR image, is in the outbound log); the customer checks in at the kiosk;
the queue shows them waiting without a reload; the associate finds the order by
its code and hands it over; the ledger shows the reservation, then the sale.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from playwright.sync_api import expect

from inventory.models import MovementKind, StockMovement
from orders.models import Fulfillment, State
from retail.models import OutboundMessage
from tests import factories
from tests.browser.steps import scan, sign_in, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def world(pickup_world):
    return pickup_world


def test_pickup_journey_from_the_api_to_the_hand_over(page, new_page, shot, world, live_server):
    jumper, scarf = world["jumper"], world["scarf"]

    # 1. The online channel places the order for pickup at S01.
    body = {
        "order_ref": "WEB-10001",
        "channel": "web",
        "customer_ref": "WEB-ADA",
        "lines": [
            {"sku": jumper.sku, "quantity": 2, "unit_price": "59.90"},
            {"sku": scarf.sku, "quantity": 1, "unit_price": "25.00"},
        ],
        "fulfillment": {"method": "pickup", "store": "S01"},
        "payment": {"tender": "card", "amount": "144.80", "reference": "psp-1"},
    }
    response = page.request.post(
        f"{live_server.url}/api/v1/orders/",
        data=json.dumps(body),
        headers={"Authorization": f"Token {world['key']}", "Content-Type": "application/json"},
    )
    assert response.status == 201, response.text()
    f = Fulfillment.objects.get(order__order_ref="WEB-10001")
    assert f.state == State.RESERVED

    # 2. It is on the associate's home panel and in the store's queue.
    sign_in(page, "associate@test.aisle")
    expect(page).to_have_url(re.compile(r"/store/$"))
    expect(page.locator("#pickups-panel")).to_contain_text("WEB-10001")
    # The panel brings its stylesheet: wait for it before the screenshot.
    wait_until(
        page, "Array.from(document.styleSheets).some(s => (s.href || '').endsWith('pickups.css'))"
    )
    expect(page.locator("#pickups-panel .pickup-list")).to_have_css("list-style-type", "none")
    shot(page, "home-panel")
    page.locator("nav.mainnav").get_by_role("link", name="Pickups", exact=True).click()
    row = page.locator(f"#pickup-{f.pk}")
    expect(row).to_contain_text("New")
    expect(row).to_contain_text("Ada Lovelace")
    expect(page.locator('[data-count="new"]')).to_have_text("1")
    shot(page, "queue-new")

    # 3. Picked by scanning: a wrong item is refused, naming what is expected.
    row.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pickup WEB-10001")
    other = factories.VariantFactory(sku="BOOTS-42", product__name="Leather boots")
    scan(page, other.barcode)
    expect(page.locator("#pick-message")).to_contain_text("Wrong item: BOOTS-42")
    expect(page.locator("#pick-message")).to_contain_text(jumper.sku)
    shot(page, "wrong-item")
    scan(page, jumper.barcode)
    expect(page.locator("#pick-message")).to_contain_text("1 of 2")
    scan(page, jumper.barcode)
    scan(page, scarf.sku)  # typed by hand
    expect(page.locator(f'.pick-line[data-sku="{scarf.sku}"]')).to_contain_text("1 / 1 picked")
    expect(page.locator(f'.pick-line[data-sku="{jumper.sku}"]')).to_contain_text("2 / 2 picked")
    shot(page, "picked")

    # 4. Ready: the message with the code and the QR image is in the outbound log.
    page.get_by_role("button", name="Mark ready").click()
    expect(page.locator("#pickup-state")).to_have_attribute("data-state", "ready")
    shot(page, "ready")
    f.refresh_from_db()
    message = OutboundMessage.objects.get(template="pickup_ready", customer=world["customer"])
    assert message.context["code"] == f.pickup_code and f.pickup_code in message.body
    qr = base64.b64decode(message.context["_attachments"][0]["content"])
    assert qr.startswith(b"\x89PNG")

    # 5. The associate keeps the queue open: the order is ready.
    page.locator("nav.mainnav").get_by_role("link", name="Pickups", exact=True).click()
    expect(page.locator(f"#pickup-{f.pk}")).to_contain_text("Ready")
    expect(page.locator('[data-count="waiting"]')).to_have_text("0")
    shot(page, "queue-ready")

    # 6. The customer checks in at the kiosk with the code from the message.
    kiosk = new_page()
    sign_in(kiosk, "kiosk@test.aisle")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/$"))
    kiosk.locator("#kiosk-code").fill(f.pickup_code)
    shot(kiosk, "kiosk-code")
    kiosk.locator("#check-in").get_by_role("button", name="Check in").click()
    expect(kiosk.get_by_role("heading", level=1)).to_have_text("Thank you, Ada!")
    expect(kiosk.locator("main")).not_to_contain_text("Lovelace")
    shot(kiosk, "kiosk-checked-in")

    # The queue, left open, shows the customer waiting by itself (htmx polling).
    expect(page.locator(f"#pickup-{f.pk}")).to_contain_text("Customer waiting", timeout=15_000)
    expect(page.locator(f"#pickup-{f.pk}")).to_contain_text("waiting since")
    expect(page.locator('[data-count="waiting"]')).to_have_text("1")
    expect(page).to_have_url(re.compile(r"/store/pickups/$"))
    shot(page, "queue-customer-waiting")

    # 7. Found by the pickup code and handed over.
    page.get_by_role("link", name="Hand over an order").click()
    page.locator("#find-q").fill(f.pickup_code)
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hand over WEB-10001")
    expect(page.locator("#handover-code")).to_have_value(f.pickup_code)
    shot(page, "hand-over")
    page.locator("#hand-over").click()
    expect(page.locator("#pickup-state")).to_have_attribute("data-state", "collected")
    expect(page.locator(".timeline")).to_contain_text("Customer checked in")
    expect(page.locator(".timeline")).to_contain_text("Ready → Collected")
    shot(page, "collected-with-timeline")

    # 8. The ledger: reservation, then sale.
    for variant in (jumper, scarf):
        kinds = list(
            StockMovement.objects.filter(variant=variant, location=world["shelf"])
            .order_by("pk")
            .values_list("kind", flat=True)
        )
        assert kinds == [MovementKind.RECEIPT, MovementKind.RESERVATION, MovementKind.SALE]
