"""An endless-aisle delivery to another city, in a real browser on the demo network
(#20, Done when 2).

The associate in Paris (S01) sells a shirt that no DC holds, for delivery to a
customer in Lyon. Paris, Lyon and Berlin stores have it; the plan takes it from the
Lyon store (in the country, nearest to the address), says why, and the order placed
is sourced from there with that promise recorded.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from inventory.models import StockLocation
from orders.models import Order
from tests import factories
from tests.browser.test_store_shell import demo, find_and_open_customer, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_delivery_to_another_city_comes_from_the_nearest_store_in_the_country(
    page: Page,
    shot,
    demo,  # noqa: F811
):
    customer = demo["customer"]
    paris, lyon, berlin = (StockLocation.objects.get(code=c) for c in ("S01", "S02", "S03"))
    assert (paris.country, lyon.country, berlin.country) == ("FR", "FR", "DE")
    for location in (paris, lyon, berlin):  # saved: the cached network reloads
        location.ships_to_customers = True
        location.save()
    shirt = factories.ProductFactory(style_code="SHIRT-L9", name="Linen overshirt")
    medium = factories.VariantFactory(
        product=shirt, sku="SHIRT-L9-M", size="M", price=Decimal("79.00")
    )
    for location, units in ((paris, 1), (lyon, 2), (berlin, 6)):
        factories.give_stock(location, medium, units)

    sign_in(page, shot)
    find_and_open_customer(page, shot, customer)
    page.get_by_role("button", name="Serve in a cart").click()
    expect(page.locator("#cart-customer")).to_contain_text(customer.name)

    page.goto(reverse("aisle:product", args=["SHIRT-L9"]))
    row = page.locator('tr[data-sku="SHIRT-L9-M"]')
    expect(row.locator(".here")).to_contain_text("1")
    shot(page, "product-page-promise")
    row.get_by_role("button", name="Add to cart").click()

    page.get_by_role("navigation").get_by_role("link", name="Cart").click()
    delivery = page.locator("#cart-delivery")
    delivery.get_by_label("Delivery to the customer's address").check()
    delivery.get_by_role("textbox", name="Name", exact=True).fill(customer.name)
    delivery.get_by_role("textbox", name="Street", exact=True).fill("5 place Bellecour")
    delivery.get_by_role("textbox", name="City", exact=True).fill("Lyon")
    delivery.get_by_role("textbox", name="Postcode", exact=True).fill("69002")
    delivery.get_by_role("textbox", name="Country (two letters)", exact=True).fill("FR")
    delivery.get_by_role("button", name="Save and plan").click()

    plan = page.locator("#cart-plan")
    chosen = plan.locator('tr[data-location="S02"]')
    expect(chosen).to_contain_text("1 × SHIRT-L9-M")
    why = chosen.locator(".why")
    expect(why).to_contain_text("is as soon as the others and the nearest.")
    expect(why).to_contain_text("In the same postcode area as the address.")
    expect(why).to_contain_text(re.compile(r"Leaves .+ working days? on the way"))
    expect(plan.locator('tr[data-location="S03"]')).to_have_count(0)  # not across the border
    expect(plan.locator('tr[data-location="S01"]')).to_have_count(0)
    expect(page.locator("#cart-promise")).to_contain_text("Delivered by")
    shot(page, "cart-sourced-from-lyon-and-explained")

    page.get_by_role("button", name="Place the order").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("placed")
    shot(page, "order-placed")

    order = Order.objects.get(customer=customer, channel="store")
    [fulfillment] = order.fulfillments.all()
    assert (fulfillment.method, fulfillment.location_id) == ("ship_from_store", lyon.pk)
    assert fulfillment.promised_by is not None
    assert fulfillment.promise["why"] == "nearest" and fulfillment.promise["same_area"]
