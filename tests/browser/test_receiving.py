"""Receiving a ship-to-store parcel with a damaged unit, in a real browser at 1024×768.

The associate scans what arrived, first tries to take the parcel in as all good (refused
in place: one unit was not scanned), records the unit as damaged, and finds the
discrepancy on the pickup page; the count fields are touch-sized.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from inventory.models import StockLevel, StockLocation
from orders.models import Fulfillment, ReceivingDiscrepancy, State
from orders.services import LineInput, OrderInput, fulfillment_transition, order_place
from tests import factories
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def parcel(live_server):
    store = factories.StoreFactory(code="S01", name="Paris Rivoli")
    factories.store_location(store, receives_transfers=True)
    dc = factories.StockLocationFactory(code="DC1")
    coat = factories.VariantFactory(sku="COAT-M", price=Decimal("120.00"), colour="camel")
    factories.give_stock(dc, coat, 3)
    order, _created = order_place(
        OrderInput(
            order_ref="WEB-STS-1",
            channel="web",
            customer=factories.CustomerFactory(),
            lines=[LineInput(coat, 2, coat.price)],
            method="pickup",
            store=store,
            tender="card",
            amount=Decimal("240.00"),
        )
    )
    f = order.fulfillments.get()
    fulfillment_transition(fulfillment=f, to=State.IN_TRANSIT, by=None)
    associate = factories.StaffFactory(role="associate", home_store=store, email="r@test.aisle")
    return {"order": order, "f": f, "coat": coat, "dc": dc, "associate": associate}


def test_an_associate_receives_a_parcel_with_a_damaged_unit(page: Page, shot, parcel):
    sign_in(page, parcel["associate"].email, lands="/store/")
    page.get_by_role("link", name="Shipping").first.click()
    page.get_by_role("link", name=re.compile("WEB-STS-1")).click()
    line = parcel["f"].lines.get()
    good = page.locator(f"#good-{line.pk}")
    expect(good).to_have_value("2")  # all good unless told otherwise
    for field in ("good", "short", "damaged"):
        box = page.locator(f"#{field}-{line.pk}").bounding_box()
        assert box is not None and box["height"] >= 44, (field, box)
    shot(page, "parcel-to-receive")

    field = page.locator("#scan-code")
    field.fill(parcel["coat"].barcode)
    field.press("Enter")
    expect(page.locator("#work")).to_contain_text("1 unit still to scan.")
    page.get_by_role("button", name="Received: to the pickup queue").click()
    expect(page.get_by_role("alert")).to_contain_text("1 unit(s) not scanned yet")
    shot(page, "unscanned-unit-refused")
    assert Fulfillment.objects.get(pk=parcel["f"].pk).state == State.IN_TRANSIT

    page.locator(f"#good-{line.pk}").fill("1")
    page.locator(f"#damaged-{line.pk}").fill("1")
    page.get_by_label("Note (what happened, optional)").fill("sleeve torn")
    shot(page, "one-damaged")
    page.get_by_role("button", name="Received: to the pickup queue").click()
    expect(page.locator(".messages")).to_contain_text("1 unit short or damaged")
    expect(page.locator("#discrepancies")).to_contain_text("sleeve torn")
    shot(page, "received-with-discrepancy")
    page.get_by_role("link", name="Open the pickup").click()
    expect(page).to_have_url(re.compile(rf"/store/pickups/{parcel['f'].pk}/$"))

    d = ReceivingDiscrepancy.objects.get()
    assert (d.good, d.short, d.damaged, d.resourced, d.cancelled) == (1, 0, 1, 1, 0)
    hold = StockLocation.objects.get(code="S01-HOLD")
    assert StockLevel.objects.get(location=hold, variant=parcel["coat"]).on_hand == 1

    expect(page.locator("#discrepancies")).to_contain_text("1 unit re-sourced")
    expect(page.locator("#timeline")).to_contain_text("Received short or damaged")
    shot(page, "pickup-page-discrepancy")
