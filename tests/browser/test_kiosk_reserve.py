"""Reserve and collect at the kiosk, in a real browser at 1024×768 (#7, Done when 2).

A customer finds a product on the kiosk, reserves it for pickup here with their
e-mail, and receives the confirmation; the kiosk shows no customer data. At the
counter the associate records the payment and hands the order over.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Order, Payment
from retail.models import OutboundMessage
from tests import factories
from tests.browser.test_pickup import sign_in
from tests.orders.pickups import make_ready

pytestmark = pytest.mark.browser


@pytest.fixture
def world(live_server):
    store = factories.StoreFactory(code="S01", name="Paris Rivoli")
    parka = factories.VariantFactory(
        sku="PARKA-M",
        size="M",
        colour="navy",
        price=Decimal("150.00"),
        product__name="Storm parka",
        product__style_code="PARKA",
    )
    factories.give_stock(factories.store_location(store), parka, 2)
    known = factories.CustomerFactory(name="Grace Hopper", email="grace@example.com")
    return {
        "store": store,
        "known": known,
        "associate": factories.StaffFactory(
            role="associate", home_store=store, email="associate@test.aisle"
        ),
        "kiosk": factories.StaffFactory(role="kiosk", home_store=store, email="kiosk@test.aisle"),
    }


def test_a_customer_reserves_at_the_kiosk_and_pays_at_the_counter(new_page, shot, world):
    kiosk = new_page()
    assert kiosk.viewport_size == {"width": 1024, "height": 768}
    sign_in(kiosk, "kiosk@test.aisle")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/$"))
    kiosk.get_by_role("link", name="Find a product").click()
    kiosk.locator("#kiosk-q").fill("parka")
    kiosk.get_by_role("button", name="Search").click()
    kiosk.locator('[data-style="PARKA"]').click()
    shot(kiosk, "kiosk-product")
    kiosk.locator('[data-sku="PARKA-M"] input').check()
    kiosk.locator("#kiosk-email").fill("grace@example.com")
    # Her profile is hers only once she proves it: a one-time code to her e-mail.
    kiosk.locator("#kiosk-send-code").click()
    expect(kiosk.locator("#kiosk-code")).to_be_visible()
    sent = OutboundMessage.objects.get(customer=world["known"], template="kiosk_code")
    kiosk.locator("#kiosk-code").fill(sent.context["code"])
    shot(kiosk, "kiosk-code-typed")
    kiosk.locator("#kiosk-reserve").click()
    expect(kiosk.get_by_role("heading", level=1)).to_have_text("Reserved!")
    body = kiosk.locator("main").inner_text()
    assert "Grace" not in body and "grace@example.com" not in body  # no customer data
    shot(kiosk, "kiosk-reserved")

    order = Order.objects.get(channel="kiosk")
    assert order.customer == world["known"] and not order.payments.exists()
    message = OutboundMessage.objects.get(customer=world["known"], template="order_confirmation")
    assert message.to_address == "grace@example.com" and order.order_ref in message.body

    # Picked and made ready; at the counter the associate takes the payment.
    [f] = order.fulfillments.all()
    f = make_ready(f, world["store"], by=world["associate"])
    page = new_page()
    sign_in(page, "associate@test.aisle")
    page.goto(f"/store/pickups/{f.pk}/handover/")
    expect(page.locator("#payment-due")).to_contain_text("take €150.00")
    shot(page, "counter-payment-due")
    page.locator("#handover-code").fill(f.pickup_code)
    page.locator("select[name=tender]").select_option("card")
    page.locator("#hand-over").click()
    expect(page.locator("#pickup-state")).to_have_attribute("data-state", "collected")
    shot(page, "counter-paid-and-handed-over")
    [payment] = Payment.objects.filter(order=order)
    assert (payment.tender, payment.amount) == ("card", Decimal("150.00"))
