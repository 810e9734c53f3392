"""The endless aisle on the tablet, in a real browser at 1024×768 (#7, Done when 1).

An associate opens a customer, sees that an item she viewed online is not on the
shelf here in her size, adds it from the 360 page to the cart in one tap, sees it
sourced from the distribution centre, places a home-delivery order, and the order
is sourced from there and credited to the associate.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clienteling.models import SalesCredit
from inventory.models import LocationKind, StockLocation
from orders.models import Order
from retail.models import Store
from tests import factories
from tests.browser.test_store_shell import demo, find_and_open_customer, sign_in  # noqa: F401
from tests.clienteling.factories import BrowsingEventFactory

pytestmark = pytest.mark.browser


def test_a_viewed_item_missing_here_is_sold_from_the_network_and_credited(
    page: Page,
    shot,
    demo,  # noqa: F811
):
    associate, customer = demo["associate"], demo["customer"]
    customer.sizes = {"top": "M"}
    customer.tracking_consent = True
    customer.save()
    parka = factories.ProductFactory(style_code="PARKA-B1", name="Storm parka")
    medium = factories.VariantFactory(
        product=parka, sku="PARKA-B1-M", size="M", price=Decimal("180.00")
    )
    small = factories.VariantFactory(
        product=parka, sku="PARKA-B1-S", size="S", price=Decimal("180.00")
    )
    shelf = StockLocation.objects.get(store=Store.objects.get(code="S01"))
    dc = StockLocation.objects.filter(kind=LocationKind.DC).order_by("code").first()
    factories.give_stock(shelf, small, 3)  # here only in S
    factories.give_stock(dc, medium, 4)
    BrowsingEventFactory(
        customer=customer, variant=medium, occurred_at=timezone.now() - dt.timedelta(minutes=5)
    )

    sign_in(page, shot)
    find_and_open_customer(page, shot, customer)
    card = page.locator("#viewed .product-card", has_text="Storm parka")
    expect(card).to_contain_text(re.compile(r"Not here in M; available at .*" + dc.code))
    shot(page, "viewed-not-here-in-her-size")
    card.get_by_role("button", name="Add to cart (M)").click()
    expect(card).to_contain_text("Added to the cart: Storm parka.")
    shot(page, "added-in-one-tap")

    page.get_by_role("navigation").get_by_role("link", name="Cart").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cart")
    expect(page.locator("#cart-customer")).to_contain_text(customer.name)
    expect(page.locator('#cart-lines tr[data-sku="PARKA-B1-M"]')).to_be_visible()
    delivery = page.locator("#cart-delivery")
    delivery.get_by_label("Delivery to the customer's address").check()
    delivery.get_by_role("textbox", name="Name", exact=True).fill(customer.name)
    delivery.get_by_role("textbox", name="Street", exact=True).fill("5 Rue des Rosiers")
    delivery.get_by_role("textbox", name="City", exact=True).fill("Paris")
    delivery.get_by_role("textbox", name="Postcode", exact=True).fill("75004")
    delivery.get_by_role("textbox", name="Country (two letters)", exact=True).fill("FR")
    delivery.get_by_role("button", name="Save and plan").click()
    plan = page.locator("#cart-plan")
    expect(plan.locator(f'tr[data-location="{dc.code}"]')).to_contain_text("1 × PARKA-B1-M")
    shot(page, "cart-sourced-from-the-dc")

    page.get_by_role("button", name="Place the order").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("placed")
    expect(page.locator(f'#placed li[data-location="{dc.code}"]')).to_be_visible()
    shot(page, "order-placed")

    order = Order.objects.get(customer=customer, channel="store")
    assert order.credited_to == associate
    assert {(f.method, f.location_id) for f in order.fulfillments.all()} == {
        ("ship_to_home", dc.pk)
    }
    credit = SalesCredit.objects.get(order=order)
    assert (credit.associate, credit.amount) == (associate, Decimal("180.00"))
