"""Ship-from-store and a stock count on the tablet, in a real browser at 1024×768.

An associate picks a web order by typing barcodes into the scan field (a wrong one
is refused in place, by htmx), packs it, opens the packing slip, ships it with a
tracking reference and marks it delivered; then counts a shelf and records it.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from inventory.models import MovementKind, StockLevel, StockMovement
from orders.models import Fulfillment, State
from orders.services import LineInput, OrderInput, order_place
from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def parcel(live_server):
    store = factories.StoreFactory(code="S01", name="Paris Rivoli")
    shelf = factories.store_location(store, ships_to_customers=True)
    coat = factories.VariantFactory(sku="COAT-M", price=Decimal("120.00"), colour="camel")
    hat = factories.VariantFactory(sku="HAT", price=Decimal("15.00"), size="One size")
    factories.give_stock(shelf, coat, 3)
    factories.give_stock(shelf, hat, 5)
    order, _created = order_place(
        OrderInput(
            order_ref="WEB-SHIP-1",
            channel="web",
            customer=factories.CustomerFactory(),
            lines=[LineInput(coat, 1, coat.price), LineInput(hat, 1, hat.price)],
            method="ship",
            address={
                "name": "Ada Lovelace",
                "line1": "12 Rue du Faubourg Saint-Honoré",
                "city": "Paris",
                "postcode": "75008",
                "country": "FR",
            },
            tender="card",
            amount=Decimal("135.00"),
        )
    )
    associate = factories.StaffFactory(role="associate", home_store=store, email="a@test.aisle")
    return {"order": order, "coat": coat, "hat": hat, "shelf": shelf, "associate": associate}


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/store/$"))


def scan(page: Page, code: str) -> None:
    field = page.locator("#scan-code")
    field.fill(code)
    field.press("Enter")


def test_an_associate_picks_packs_ships_and_counts_on_the_tablet(page: Page, shot, parcel):
    sign_in(page, parcel["associate"].email)
    page.get_by_role("link", name="Shipping").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Shipping")
    shot(page, "ship-queue")
    page.get_by_role("link", name=re.compile("WEB-SHIP-1")).click()
    expect(page.locator("#pick-list")).to_contain_text("COAT-M")
    shot(page, "pick-list")

    scan(page, "4006381333931")
    expect(page.get_by_role("alert")).to_contain_text("is not in this order")
    expect(page.get_by_role("alert")).to_contain_text("COAT-M")
    shot(page, "wrong-barcode-refused")
    scan(page, parcel["coat"].barcode)
    expect(page.locator("#work")).to_contain_text("COAT-M scanned.")
    scan(page, "hat")
    expect(page.locator("#work")).to_contain_text("0 units still to scan.")
    shot(page, "all-scanned")
    page.get_by_role("button", name="Packed").click()
    expect(page.locator(".messages")).to_contain_text("packed")
    shot(page, "packed")

    with page.context.expect_page() as slip_info:
        page.get_by_role("link", name="Print the packing slip").click()
    slip = slip_info.value
    expect(slip.get_by_role("heading", level=1)).to_have_text("Packing slip")
    expect(slip.locator("body")).to_contain_text("12 Rue du Faubourg Saint-Honoré")
    shot(slip, "packing-slip")
    slip.close()

    page.get_by_label("Carrier tracking reference").fill("JD0002 1234")
    page.get_by_role("button", name="Shipped").click()
    expect(page.locator(".messages")).to_contain_text("tracking JD0002 1234")
    shot(page, "shipped")
    page.get_by_role("button", name="Delivered").click()
    expect(page.locator(".facts")).to_contain_text("Delivered")
    shot(page, "delivered")
    fulfillment = Fulfillment.objects.get(order=parcel["order"])
    assert (fulfillment.state, fulfillment.tracking_ref) == (State.DELIVERED, "JD0002 1234")

    page.get_by_role("link", name="Stock count").first.click()
    field = page.locator("#count-code")
    for n in (1, 2):
        field.fill(parcel["coat"].barcode)
        field.press("Enter")
        expect(page.locator("#sheet")).to_contain_text(f"COAT-M: {n} counted.")
    expect(page.locator("#count-sheet")).to_contain_text("COAT-M")
    shot(page, "count-review")
    page.get_by_role("button", name=re.compile("Record the count")).click()
    expect(page.locator("#count-result")).to_contain_text("COAT-M")
    shot(page, "count-recorded")
    level = StockLevel.objects.get(location=parcel["shelf"], variant=parcel["coat"])
    assert level.on_hand == 2
    assert StockMovement.objects.filter(kind=MovementKind.COUNT).count() == 1
