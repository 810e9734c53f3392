"""Returns at the store (BORIS) in a real browser at 1024×768.

(a) A web order delivered to a home address, with an order discount, is returned at a
store: found by scanning the QR code of its order_ref (a keyboard-wedge scanner types
into the focused field and presses Enter), the policy explained per line, the refund
to the card computed before confirming, the unit restocked here through the ledger,
the receipt in the outbound log; a second return of the same line is refused with
its reason on screen.

(b) A manager approval with two browsers: the associate's big return waits; the
manager's queue shows it without a reload; the manager approves; the associate's
screen turns to completed without a reload.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from inventory.models import MovementKind, StockLevel, StockMovement
from orders.models import Refund
from retail.models import OutboundMessage
from returns.models import Return, ReturnState
from tests import factories
from tests.browser.steps import scan, sign_in
from tests.returns import world as returns_world

pytestmark = pytest.mark.browser

POLL_WAIT_MS = 15_000  # the pages poll every 3 s


@pytest.fixture
def world(live_server):
    net = returns_world.network()
    net["jumper"].product.name = "Merino crew jumper"
    net["jumper"].product.save()
    net["associate"] = factories.StaffFactory(
        role="associate", home_store=net["s1"], email="associate@test.aisle", first_name="Sam"
    )
    net["manager"] = factories.StaffFactory(
        role="store_manager", home_store=net["s1"], email="manager@test.aisle", first_name="Mo"
    )
    return net


def choose(page: Page, line_id: int, units: int, reason: str) -> None:
    page.locator(f"#id_l{line_id}_qty").fill(str(units))
    page.locator(f"#id_l{line_id}_reason").select_option(label=reason)


def test_a_web_order_is_returned_at_a_store_and_refunded_to_the_card(page, shot, world):
    customer = factories.CustomerFactory(name="Ada Lovelace", email="ada@example.com")
    # 80.00 less an 8.00 order discount: the jumper line carries 6.00 of it (54.00).
    order = returns_world.delivered(
        [(world["jumper"], 1), (world["scarf"], 1)],
        ref="WEB-20001",
        customer=customer,
        discount=Decimal("8.00"),
    )
    assert order.address and order.channel == "web"
    jumper_line = order.lines.get(sku="JUMPER-M")
    shelf = StockLevel.objects.get(location=world["shelf1"], variant=world["jumper"])
    available_before = shelf.available

    # 1. The associate opens Returns and scans the QR code of the order confirmation.
    sign_in(page, "associate@test.aisle", lands="/store/")
    expect(page.locator("#returns-panel")).to_contain_text("No return waits here")
    page.locator("nav.mainnav").get_by_role("link", name="Returns", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Returns")
    shot(page, "find")
    scan(page, f"AISLE-ORDER:{order.order_ref}")

    # 2. Every line says why it may come back, with what a unit refunds.
    expect(page.get_by_role("heading", level=1)).to_have_text("Return order WEB-20001")
    jumper = page.locator('li[data-sku="JUMPER-M"]')
    expect(jumper.locator(".verdict")).to_contain_text("Returnable until")
    expect(jumper.locator(".verdict")).to_contain_text("30-day window")
    expect(jumper).to_contain_text("1 unit returnable")
    expect(jumper).to_contain_text("54.00 a unit")
    expect(page.locator('li[data-sku="SCARF-1"] .verdict')).to_contain_text("Returnable until")
    shot(page, "order-explained")

    # A second tab keeps the page as it was, for the second return below.
    stale = page.context.new_page()
    stale.goto(page.url)

    # 3. One jumper, wrong size, back on the shelf: the refund is previewed first.
    choose(page, jumper_line.pk, 1, "Wrong size")
    expect(page.locator(f"#id_l{jumper_line.pk}_disp")).to_have_value("restock")
    expect(page.locator("#confirm-return")).to_have_count(0)
    page.get_by_role("button", name="Preview refund").click()
    expect(page.locator("#quote-refund")).to_have_text("€54.00")
    expect(page.locator("#quote")).to_contain_text("to the original payment")
    expect(page.locator("#approval-needed")).to_have_count(0)
    shot(page, "refund-preview")

    # 4. Confirmed once: the return's page shows it completed and refunded.
    page.locator("#confirm-return").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Return [A-Z0-9]{8}$"))
    expect(page.locator("#return-state")).to_contain_text("Completed")
    expect(page.locator("#return-refund")).to_have_text("€54.00")
    expect(page.locator('tr[data-sku="JUMPER-M"] .line-refund')).to_contain_text("54.00")
    expect(page.locator(".messages")).to_contain_text("Refunded €54.00")
    expect(page.locator(".timeline")).to_contain_text("Completed")
    shot(page, "return-completed")

    ret = Return.objects.get()
    assert ret.state == ReturnState.COMPLETED and ret.store == world["s1"]
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.tender, refund.return_ref) == (
        Decimal("54.00"),
        "card",
        ret.return_ref,
    )
    assert refund.tax_amount == Decimal("9.00")  # 20 % included in 54.00
    movement = StockMovement.objects.get(kind=MovementKind.RETURN, location=world["shelf1"])
    assert movement.quantity == 1 and movement.variant_id == world["jumper"].pk
    shelf.refresh_from_db()
    assert shelf.available == available_before + 1  # sellable here at once
    receipt = OutboundMessage.objects.get(key=f"return_receipt:{ret.pk}")
    assert receipt.customer_id == customer.pk and receipt.template == "return_receipt"

    # 5. The printable receipt carries the return code's QR code.
    page.locator("#print-receipt").click()
    expect(page.locator("#receipt-code")).to_have_text(ret.code)
    expect(page.locator("#receipt svg.qr")).to_be_visible()
    expect(page.locator("#receipt-refund")).to_have_text("€54.00")
    shot(page, "receipt")

    # 6. The same line again, from the page drawn before: refused, with its reason.
    choose(stale, jumper_line.pk, 1, "Does not fit")
    stale.get_by_role("button", name="Preview refund").click()
    expect(stale.locator("#quote-message")).to_contain_text(
        "JUMPER-M: Every unit already returned or claimed by another return"
    )
    expect(stale.locator("#confirm-return")).to_have_count(0)
    shot(stale, "second-return-refused")
    stale.locator("#return-form").evaluate("form => form.submit()")
    expect(stale.locator("#return-message")).to_contain_text(
        "Every unit already returned or claimed by another return"
    )
    expect(stale.locator('li[data-sku="JUMPER-M"]')).to_contain_text("Not returnable")
    shot(stale, "second-return-refused-on-confirm")
    assert Return.objects.count() == 1
    assert Refund.objects.filter(order=order).count() == 1
    stale.close()


def test_a_manager_approves_a_big_return_and_both_screens_update(new_page, shot, world):
    order = returns_world.delivered([(world["jumper"], 9)], ref="WEB-20002")  # 540.00
    line = order.lines.get()
    clerk = new_page()
    boss = new_page()
    sign_in(clerk, "associate@test.aisle", lands="/store/")
    sign_in(boss, "manager@test.aisle", lands="/store/")

    # The manager watches the approval queue: empty for now.
    boss.goto("/store/returns/approvals/")
    expect(boss.locator("#queue")).to_contain_text("No return waits for approval here.")
    shot(boss, "manager-queue-empty")

    # The associate takes the return: above 500.00 it waits for the manager.
    clerk.goto("/store/returns/")
    scan(clerk, order.order_ref)
    choose(clerk, line.pk, 9, "Quality")
    clerk.get_by_role("button", name="Preview refund").click()
    expect(clerk.locator("#quote-refund")).to_have_text("€540.00")
    expect(clerk.locator("#approval-needed")).to_contain_text(
        "The refund of €540.00 is above €500.00"
    )
    shot(clerk, "associate-preview-needs-approval")
    clerk.locator("#confirm-return").click()
    expect(clerk.locator("#return-state")).to_contain_text("Awaiting approval")
    expect(clerk.locator("#waiting-manager")).to_be_visible()
    shot(clerk, "associate-waiting")
    ret = Return.objects.get()
    assert ret.state == ReturnState.AWAITING_APPROVAL
    assert not Refund.objects.filter(order=order).exists()

    # The manager's queue shows it without a reload.
    row = boss.locator(f"#return-{ret.pk}")
    expect(row).to_contain_text("540.00", timeout=POLL_WAIT_MS)
    shot(boss, "manager-queue-shows-it")
    row.click()
    expect(boss.locator("#decide")).to_be_visible()
    boss.locator("#approve-open").click()
    shot(boss, "manager-approving")
    boss.locator("#approve-confirm").click()
    expect(boss.locator("#return-state")).to_contain_text("Completed")
    shot(boss, "manager-approved")

    # The associate's screen turns to completed by itself.
    expect(clerk.locator("#return-state")).to_contain_text("Completed", timeout=POLL_WAIT_MS)
    expect(clerk.locator("#return-refund")).to_have_text("€540.00")
    expect(clerk.locator("#waiting-manager")).to_have_count(0)
    expect(clerk.locator(".timeline")).to_contain_text("Approved by a manager")
    shot(clerk, "associate-sees-completed")
    ret.refresh_from_db()
    assert ret.state == ReturnState.COMPLETED and ret.decided_by == world["manager"]
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == Decimal("540.00")
