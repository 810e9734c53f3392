"""Exchanges at the counter in a real browser at 1024×768 (issue 17, Done when 1).

(a) A web order's jumper comes back at the Soho store and becomes an exchange for
another size that only the Lyon store has: picked up in Soho once Lyon sends it. The
new order is placed (store channel, by the associate), the difference charged exactly
on the card, and Lyon's pick list shows the unit to send.

(b) An even swap from Soho's own shelf: the customer takes the other size at once and
no money moves to or from any tender.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from inventory.models import MovementKind, StockLevel, StockMovement
from orders import credit
from orders.models import Method, Refund, State
from returns.models import Return, ReturnState
from tests import factories
from tests.returns import world as returns_world

pytestmark = pytest.mark.browser


@pytest.fixture
def world(live_server):
    net = returns_world.network()
    jumper = net["jumper"]
    jumper.product.name = "Merino crew jumper"
    jumper.product.save()
    net["large"] = factories.VariantFactory(
        product=jumper.product, sku="JUMPER-L", size="L", price=Decimal("60.00")
    )
    net["xl"] = factories.VariantFactory(
        product=jumper.product, sku="JUMPER-XL", size="XL", price=Decimal("64.90")
    )
    factories.give_stock(net["shelf1"], net["large"], 2)
    factories.give_stock(net["shelf2"], net["xl"], 1)  # only Lyon has it
    net["associate"] = factories.StaffFactory(
        role="associate", home_store=net["s1"], email="associate@test.aisle", first_name="Sam"
    )
    net["lyon"] = factories.StaffFactory(
        role="associate", home_store=net["s2"], email="lyon@test.aisle", first_name="Lou"
    )
    net["customer"] = factories.CustomerFactory(name="Ada Lovelace", email="ada@example.com")
    return net


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/store/$"))


def start_exchange(page: Page, order, shot) -> None:
    """From the order's return page: one jumper, wrong size, turned into an exchange."""
    page.goto(f"/store/returns/order/{order.pk}/")
    line = order.lines.get()
    page.locator(f"#id_l{line.pk}_qty").fill("1")
    page.locator(f"#id_l{line.pk}_reason").select_option(label="Wrong size")
    shot(page, "return-chosen")
    page.locator("#start-exchange").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Exchange for order {order.order_ref}"
    )
    expect(page.locator('#exchange-candidates li[data-sku="JUMPER-L"]')).to_contain_text(
        "2 on this shelf"
    )
    expect(page.locator('#exchange-candidates li[data-sku="JUMPER-XL"]')).to_contain_text(
        "0 on this shelf"
    )


def test_a_return_becomes_an_exchange_for_a_size_sourced_from_another_store(
    page, new_page, shot, world
):
    order = returns_world.delivered(
        [(world["jumper"], 1)], ref="WEB-30001", customer=world["customer"]
    )
    sign_in(page, "associate@test.aisle")
    start_exchange(page, order, shot)
    shot(page, "exchange-choose")

    # Size XL: Soho has none, Lyon sends it; the customer picks it up here.
    page.locator('#exchange-candidates li[data-sku="JUMPER-XL"] input').check()
    page.get_by_label("Picks it up here when it arrives").check()
    page.get_by_label("Card").check()
    page.locator("#exchange-preview").click()
    expect(page.locator("#quote-returned")).to_have_text("€60.00")
    expect(page.locator("#quote-new")).to_have_text("€64.90")
    expect(page.locator("#quote-charged")).to_have_text("€4.90")
    expect(page.locator('#quote-sources li[data-location="S02"]')).to_contain_text("Aisle Lyon")
    assert Return.objects.count() == 0  # a preview writes nothing
    shot(page, "exchange-preview")

    page.locator("#confirm-exchange").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Return [A-Z0-9]{8}$"))
    expect(page.locator("#return-state")).to_contain_text("Completed")
    expect(page.locator("#exchange")).to_contain_text("JUMPER-XL")
    expect(page.locator("#exchange-charged")).to_have_text("€4.90")
    expect(page.locator("#exchange-credit")).to_have_text("€60.00")
    expect(page.locator('#exchange-fulfillments li[data-location="S02"]')).to_contain_text(
        "Aisle Lyon"
    )
    expect(page.locator(".timeline")).to_contain_text("Exchanged")
    shot(page, "exchange-done")

    ret = Return.objects.get()
    new = ret.exchange_order
    assert ret.state == ReturnState.COMPLETED
    assert (new.channel, new.placed_by, new.credited_to, new.total) == (
        "store",
        world["associate"],
        world["associate"],
        Decimal("64.90"),
    )
    assert sorted(new.payments.values_list("tender", "amount")) == [
        ("card", Decimal("4.90")),
        ("store_credit", Decimal("60.00")),
    ]
    assert not Refund.objects.filter(order=order, to_store_credit=False).exists()
    assert credit.credit_balance(world["customer"]) == Decimal("0.00")
    [f] = new.fulfillments.all()
    assert (f.method, f.location, f.pickup_store, f.state) == (
        Method.SHIP_TO_STORE,
        world["shelf2"],
        world["s1"],
        State.RESERVED,
    )

    # The receipt shows the exchange too.
    page.locator("#print-receipt").click()
    expect(page.locator("#receipt #exchange-charged")).to_have_text("€4.90")
    shot(page, "receipt")

    # Lyon's pick list: the unit to send to Soho.
    lyon = new_page()
    sign_in(lyon, "lyon@test.aisle")
    lyon.goto("/store/ship/")
    expect(lyon.locator("main")).to_contain_text(new.order_ref)
    expect(lyon.locator("main")).to_contain_text("S02 → S01")
    shot(lyon, "lyon-pick-list")


def test_an_even_swap_from_the_shelf_moves_no_money(page, shot, world):
    order = returns_world.delivered(
        [(world["jumper"], 1)], ref="WEB-30002", customer=world["customer"]
    )
    large = StockLevel.objects.get(location=world["shelf1"], variant=world["large"])
    sign_in(page, "associate@test.aisle")
    start_exchange(page, order, shot)

    page.locator('#exchange-candidates li[data-sku="JUMPER-L"] input').check()
    page.get_by_label("Takes it now, from this store's shelf").check()
    page.locator("#exchange-preview").click()
    expect(page.locator("#quote-even")).to_contain_text("no money moves")
    expect(page.locator("#quote-charged")).to_have_count(0)
    shot(page, "even-swap-preview")

    page.locator("#confirm-exchange").click()
    expect(page.locator("#return-state")).to_contain_text("Completed")
    expect(page.locator("#exchange-even")).to_be_visible()
    expect(page.locator("#exchange")).to_contain_text("Carry-out")
    shot(page, "even-swap-done")

    ret = Return.objects.get()
    new = ret.exchange_order
    assert list(new.payments.values_list("tender", "amount")) == [
        ("store_credit", Decimal("60.00"))
    ]
    # No refund to, and no charge on, any tender of the customer's.
    assert not Refund.objects.filter(order=order, to_store_credit=False).exists()
    assert credit.credit_balance(world["customer"]) == Decimal("0.00")
    large.refresh_from_db()
    assert large.on_hand == 1  # the new size left the shelf…
    assert StockMovement.objects.filter(
        kind=MovementKind.RETURN, location=world["shelf1"], variant=world["jumper"]
    ).exists()  # …and the returned one came back to it
