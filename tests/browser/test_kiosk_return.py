"""A return started at the kiosk and finished at the counter, in a real browser at
1024×768 (#17, Done when 2).

The customer types her order's reference and e-mail at the kiosk, types the one-time
code e-mailed to her (read here from the outbox message), picks what goes back and
gets a return code with its QR; the associate scans the code at the counter and
receives the items, which refunds her. A wrong code and someone else's order are
refused alike.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from orders.models import OrderLine, Refund
from retail.models import OutboundMessage
from returns.models import Return, ReturnState, StartedVia
from tests import factories
from tests.browser.test_pickup import scan, sign_in
from tests.returns import world as returns_world

pytestmark = pytest.mark.browser

#: The page walk's measure (tests/browser/test_walk.py): sideways scroll, targets under 44 px.
MEASURE = Path(__file__).with_name("walk_measure.js").read_text().replace("MIN_TAP", "44")


def fits(page, findings: list) -> None:
    """Note what on this page scrolls sideways or is too small to touch."""
    measured = page.evaluate(MEASURE)
    if measured["overflow"] > 0:
        findings.append(f"{page.url}: scrolls sideways by {measured['overflow']} px")
    findings += [f"{page.url}: small target {item}" for item in measured["small"]]


@pytest.fixture
def world(live_server):
    net = returns_world.network()
    ada = factories.CustomerFactory(name="Ada Lovelace", email="ada@example.com")
    grace = factories.CustomerFactory(name="Grace Hopper", email="grace@example.com")
    order = returns_world.delivered(
        [(net["jumper"], 1), (net["scarf"], 1)], ref="WEB-ADA", customer=ada
    )
    returns_world.delivered([(net["scarf"], 1)], ref="WEB-GRACE", customer=grace)
    factories.StaffFactory(role="kiosk", home_store=net["s1"], email="kiosk@test.aisle")
    factories.StaffFactory(role="associate", home_store=net["s1"], email="associate@test.aisle")
    return {**net, "ada": ada, "order": order}


def ask_for_code(kiosk, ref: str, email: str) -> str:
    kiosk.locator("#kiosk-ref").fill(ref)
    kiosk.locator("#kiosk-email").fill(email)
    kiosk.locator("#kiosk-send-code").click()
    expect(kiosk.locator("#kiosk-message")).to_contain_text("we sent a code")
    return kiosk.locator("#kiosk-message").inner_text()


def test_a_return_started_at_the_kiosk_is_finished_at_the_counter(new_page, shot, world):
    findings: list[str] = []
    kiosk = new_page()
    sign_in(kiosk, "kiosk@test.aisle")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/$"))
    kiosk.locator("#kiosk-start-return").click()
    expect(kiosk.get_by_role("heading", level=1)).to_have_text("Return an item")
    shot(kiosk, "kiosk-return-start")
    fits(kiosk, findings)

    # Someone else's order (her reference, my e-mail): the same answer, no code sent.
    foreign_sent = ask_for_code(kiosk, "WEB-GRACE", "ada@example.com")
    assert not OutboundMessage.objects.filter(template="kiosk_return_code").exists()
    kiosk.locator("#kiosk-code").fill("123456")
    kiosk.locator("#kiosk-prove").click()
    expect(kiosk.locator("#kiosk-message")).to_contain_text("not right")
    foreign_refused = kiosk.locator("#kiosk-message").inner_text()
    shot(kiosk, "kiosk-foreign-order-refused")
    fits(kiosk, findings)

    # My order: a code to my e-mail; a wrong code is refused with the same words.
    mine_sent = ask_for_code(kiosk, "WEB-ADA", "ada@example.com")
    assert mine_sent == foreign_sent
    code = OutboundMessage.objects.get(template="kiosk_return_code").context["code"]
    assert code not in kiosk.content()
    kiosk.locator("#kiosk-code").fill("000000" if code != "000000" else "111111")
    kiosk.locator("#kiosk-prove").click()
    expect(kiosk.locator("#kiosk-message")).to_have_text(foreign_refused)
    shot(kiosk, "kiosk-wrong-code-refused")
    fits(kiosk, findings)
    assert not Return.objects.exists()

    kiosk.locator("#kiosk-code").fill(code)
    kiosk.locator("#kiosk-prove").click()
    expect(kiosk.get_by_role("heading", level=1)).to_contain_text("Hello, Ada")
    body = kiosk.locator("main").inner_text()
    assert "Lovelace" not in body and "ada@example.com" not in body
    jumper = OrderLine.objects.get(order=world["order"], sku="JUMPER-M")
    kiosk.locator(f"#qty-{jumper.pk}").select_option("1")
    kiosk.locator(f"#reason-{jumper.pk}").select_option("size")
    shot(kiosk, "kiosk-return-lines")
    fits(kiosk, findings)
    kiosk.locator("#kiosk-review").click()
    expect(kiosk.locator("#kiosk-refund")).to_contain_text("60.00")
    shot(kiosk, "kiosk-return-review")
    fits(kiosk, findings)
    kiosk.locator("#kiosk-confirm").click()
    expect(kiosk.locator("#kiosk-return-code")).to_be_visible()
    ret = Return.objects.get()
    assert (ret.state, ret.started_via) == (ReturnState.REQUESTED, StartedVia.KIOSK)
    expect(kiosk.locator("#kiosk-return-code")).to_have_text(ret.code)
    expect(kiosk.locator("#kiosk-return-done .qr svg")).to_be_visible()
    shot(kiosk, "kiosk-return-code")
    fits(kiosk, findings)

    # At the counter the associate scans the code and receives the jumper.
    counter = new_page()
    sign_in(counter, "associate@test.aisle")
    counter.goto("/store/returns/")
    scan(counter, f"AISLE-RETURN:{ret.code}")
    expect(counter.locator("#return-state")).to_have_attribute("data-state", "requested")
    shot(counter, "counter-kiosk-return-found")
    fits(counter, findings)
    counter.locator("#receive-here").click()
    expect(counter.locator("#return-state")).to_have_attribute("data-state", "completed")
    shot(counter, "counter-kiosk-return-received")
    fits(counter, findings)
    ret.refresh_from_db()
    assert ret.refund_amount == Decimal("60.00")
    assert Refund.objects.get(order=world["order"]).amount == Decimal("60.00")
    jumper.refresh_from_db()
    assert (jumper.claimed_quantity, jumper.returned_quantity) == (1, 1)
    assert findings == []
