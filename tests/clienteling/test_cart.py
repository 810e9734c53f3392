"""The endless aisle's cart on the tablet: items from the whole network, the customer
or a walk-in guest, the delivery, the sourcing plan before placing, and one order
placed at catalog prices, credited to the associate, with a confirmation."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from clienteling.models import Cart, CartLine, CartState
from inventory.models import StockLevel
from orders.models import Order
from retail.models import Customer, OutboundMessage
from retail.services import customer_merge
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(store):
    """S01's shelf holds the M jacket; only the DC holds the L."""
    shelf = factories.store_location(store)
    dc = factories.StockLocationFactory(code="DC1", lead_time_days=2)
    product = factories.ProductFactory(style_code="JKT-1", name="Waxed field jacket")
    medium = factories.VariantFactory(product=product, sku="JKT-1-M", size="M", price="120.00")
    large = factories.VariantFactory(product=product, sku="JKT-1-L", size="L", price="120.00")
    factories.give_stock(shelf, medium, 2)
    factories.give_stock(dc, large, 5)
    return {"shelf": shelf, "dc": dc, "medium": medium, "large": large}


@pytest.fixture
def associate(store):
    return factories.StaffFactory(role="associate", home_store=store)


@pytest.fixture
def tablet(associate):
    client = Client()
    client.force_login(associate)
    return client


@pytest.fixture
def customer(store):
    return factories.CustomerFactory(
        name="Mei Lin Chen", email="mei@example.com", preferred_store=store
    )


def post(tablet, name, data=None, **kwargs):
    return tablet.post(reverse(name, kwargs=kwargs or None), data or {})


def the_cart(associate) -> Cart:
    return Cart.objects.get(associate=associate, state=CartState.OPEN)


def test_items_go_into_a_cart_kept_on_the_server(tablet, associate, shop):
    back = reverse("aisle:product", args=["JKT-1"])
    response = post(tablet, "cart:add", {"sku": "JKT-1-L", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    post(tablet, "cart:add", {"sku": "JKT-1-L", "quantity": "2"})
    [line] = the_cart(associate).lines.all()
    assert (line.variant.sku, line.quantity) == ("JKT-1-L", 3)
    html = tablet.get(reverse("cart:detail")).content.decode()  # a reload finds it again
    assert 'data-sku="JKT-1-L"' in html and "360.00" in html


@pytest.mark.parametrize(
    "data, message",
    [
        ({"sku": "NOPE"}, "This item is no longer sold."),
        ({"sku": "JKT-1-M", "quantity": "21"}, "A quantity is from 0 to 20."),
        ({"sku": "JKT-1-M", "quantity": "two"}, "A quantity is a whole number."),
        ({"sku": "JKT-1-M", "quantity": "0"}, "Add at least one unit."),
    ],
)
def test_bad_items_are_refused_with_a_message(tablet, associate, shop, data, message):
    response = post(tablet, "cart:add", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CartLine.objects.exists()


def test_a_line_is_changed_and_removed(tablet, associate, shop):
    post(tablet, "cart:add", {"sku": "JKT-1-M"})
    line = the_cart(associate).lines.get()
    post(tablet, "cart:line", {"quantity": "2"}, line_id=line.pk)
    line.refresh_from_db()
    assert line.quantity == 2
    post(tablet, "cart:line", {"quantity": "0"}, line_id=line.pk)
    assert not CartLine.objects.exists()


def test_another_associates_cart_cannot_be_touched(tablet, associate, store, shop):
    other = factories.StaffFactory(role="associate", home_store=store)
    theirs = Client()
    theirs.force_login(other)
    post(theirs, "cart:add", {"sku": "JKT-1-M"})
    line = Cart.objects.get(associate=other).lines.get()
    response = post(tablet, "cart:line", {"quantity": "0"}, line_id=line.pk)
    assert response.status_code == 400
    assert "not in the cart any more" in response.content.decode()
    assert CartLine.objects.filter(pk=line.pk).exists()


def test_a_walk_in_guest_is_matched_to_the_customer_with_that_email(
    tablet, associate, customer, store
):
    post(tablet, "cart:guest", {"name": "Mei", "email": " MEI@example.com "})
    assert the_cart(associate).customer == customer
    post(tablet, "cart:guest", {"name": "New Person", "phone": "06 12 34 56 78"})
    walk_in = the_cart(associate).customer
    assert (walk_in.name, walk_in.phone) == ("New Person", "+33612345678")
    assert not walk_in.customer_ref  # a walk-in profile
    before = Customer.objects.count()
    bad_email = post(tablet, "cart:guest", {"name": "X", "email": "not-an-email"})
    nothing = post(tablet, "cart:guest", {"name": "Y"})
    assert Customer.objects.count() == before
    assert bad_email.status_code == nothing.status_code == 400
    assert "Enter a valid email address." in bad_email.content.decode()
    assert "Give the customer" in nothing.content.decode()


def test_delivery_is_checked(tablet, associate, other_store):
    half = post(tablet, "cart:delivery", {"delivery": "home", "name": "Mei", "city": "Paris"})
    assert half.status_code == 400 and "Give the name, street" in half.content.decode()
    assert the_cart(associate).delivery == "pickup_here"
    address = {"delivery": "home", "name": "Mei", "line1": "8 rue du Bac", "city": "Paris"}
    wrong = post(tablet, "cart:delivery", {**address, "postcode": "7500", "country": "FR"})
    assert wrong.status_code == 400
    assert "“7500” is not a postcode in FR (for example 75001)." in wrong.content.decode()
    assert the_cart(associate).delivery == "pickup_here"
    post(tablet, "cart:delivery", {"delivery": "pickup_other", "pickup_store": "NOPE"})
    assert the_cart(associate).delivery == "pickup_here"
    post(tablet, "cart:delivery", {"delivery": "pickup_other", "pickup_store": other_store.code})
    assert the_cart(associate).pickup_store == other_store


def test_the_plan_shows_where_each_line_comes_from_before_placing(tablet, associate, shop):
    post(tablet, "cart:add", {"sku": "JKT-1-M"})
    post(tablet, "cart:add", {"sku": "JKT-1-L"})
    html = tablet.get(reverse("cart:detail")).content.decode()
    plan = html[html.index('id="cart-plan"') :]
    assert 'data-location="S01"' in plan and 'data-location="DC1"' in plan
    assert "Ship to store" in plan
    # Two parts, said plainly, each with why it comes from there.
    assert "In 2 parts: no single location has everything." in plan
    assert "On this store&#x27;s shelf: picked and ready within opening hours." in plan


def test_placing_makes_one_order_at_catalog_prices_credited_and_confirmed(
    tablet, associate, customer, store, shop
):
    post(tablet, "cart:for_customer", pk=customer.pk)
    post(tablet, "cart:add", {"sku": "JKT-1-M", "price": "1.00"})  # a posted price is ignored
    post(tablet, "cart:add", {"sku": "JKT-1-L"})
    response = post(tablet, "cart:place", {"tender": "card", "store": "S99", "amount": "1"})
    again = post(tablet, "cart:place", {"tender": "card"})  # a double tap
    assert response.status_code == again.status_code == 302
    assert response["Location"] == again["Location"]
    order = Order.objects.get()
    assert (order.channel, order.customer, order.total) == ("store", customer, Decimal("240.00"))
    assert order.credited_to == associate
    assert {line.unit_price for line in order.lines.all()} == {Decimal("120.00")}
    assert {(f.method, f.location.code) for f in order.fulfillments.all()} == {
        ("pickup", "S01"),
        ("ship_to_store", "DC1"),
    }
    assert StockLevel.objects.get(location=shop["shelf"], variant=shop["medium"]).reserved == 1
    assert StockLevel.objects.get(location=shop["dc"], variant=shop["large"]).reserved == 1
    [message] = OutboundMessage.objects.filter(customer=customer, template="order_confirmation")
    assert message.context["order_ref"] == order.order_ref
    placed = tablet.get(response["Location"]).content.decode()
    assert order.order_ref in placed and "240.00" in placed
    assert tablet.get(reverse("cart:detail")).context["preview"].lines == []  # a new cart


def test_home_delivery_is_sourced_from_the_dc_and_credited_here(
    tablet, associate, customer, store, shop, django_capture_on_commit_callbacks
):
    from clienteling.models import SalesCredit

    post(tablet, "cart:for_customer", pk=customer.pk)
    post(tablet, "cart:add", {"sku": "JKT-1-L"})
    address = {"name": "Mei", "line1": "12 rue de la Ré", "city": "Lyon", "postcode": "69002"}
    post(tablet, "cart:delivery", {"delivery": "home", **address, "country": "fr"})
    with django_capture_on_commit_callbacks(execute=True):
        post(tablet, "cart:place", {"tender": "cash"})
    order = Order.objects.get()
    [fulfillment] = order.fulfillments.all()
    assert (fulfillment.method, fulfillment.location.code) == ("ship_to_home", "DC1")
    credit = SalesCredit.objects.get(order=order)  # no store on the order: the cart's
    assert (credit.associate, credit.store, credit.amount) == (associate, store, order.total)


def test_more_than_the_network_holds_is_refused_and_nothing_written(
    tablet, associate, customer, shop
):
    post(tablet, "cart:for_customer", pk=customer.pk)
    post(tablet, "cart:add", {"sku": "JKT-1-L", "quantity": "9"})
    html = tablet.get(reverse("cart:detail")).content.decode()
    assert "The network cannot promise these now: JKT-1-L" in html
    response = post(tablet, "cart:place", {"tender": "card"})
    assert response.status_code == 400
    assert not Order.objects.exists()
    assert "Not enough stock" in response.content.decode()
    assert StockLevel.objects.get(location=shop["dc"], variant=shop["large"]).reserved == 0


def test_placing_needs_a_customer_and_a_tender(tablet, associate, shop):
    post(tablet, "cart:add", {"sku": "JKT-1-M"})
    no_customer = post(tablet, "cart:place", {"tender": "card"})
    assert no_customer.status_code == 400 and "Choose the customer" in no_customer.content.decode()
    post(tablet, "cart:place", {"tender": "cheque"})
    assert not Order.objects.exists()
    assert the_cart(associate).state == CartState.OPEN


def test_carts_follow_a_customer_merge(tablet, associate, customer, store):
    duplicate = factories.CustomerFactory(preferred_store=store)
    post(tablet, "cart:for_customer", pk=duplicate.pk)
    customer_merge(survivor=customer, duplicate=duplicate, by=None)
    assert the_cart(associate).customer == customer


def test_a_viewed_product_goes_into_the_cart_in_one_tap_from_the_customers_page(
    tablet, associate, store, shop
):
    from tests.clienteling.factories import BrowsingEventFactory

    customer = factories.CustomerFactory(sizes={"top": "L"}, tracking_consent=True)
    BrowsingEventFactory(customer=customer, variant=shop["large"])
    panel = tablet.get(f"/store/customers/{customer.pk}/").content.decode()
    viewed = panel[panel.index('id="viewed"') :]
    assert 'data-sku="JKT-1-L"' in viewed and "Add to cart (L)" in viewed
    answer = tablet.post(reverse("cart:add"), {"sku": "JKT-1-L"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert "Added to the cart: Waxed field jacket." in answer.content.decode()
    assert [line.variant.sku for line in the_cart(associate).lines.all()] == ["JKT-1-L"]
    refused = tablet.post(reverse("cart:add"), {"sku": "GONE"}, HTTP_HX_REQUEST="true")
    assert 'role="alert"' in refused.content.decode()
    assert "no longer sold" in refused.content.decode()


def test_the_same_add_form_sent_twice_adds_once(tablet, associate, shop):
    page = tablet.get(reverse("aisle:product", args=["JKT-1"])).content.decode()
    nonce = re.search(r'name="nonce" value="([^"]+-JKT-1-M)"', page).group(1)
    for _ in range(2):
        post(tablet, "cart:add", {"sku": "JKT-1-M", "nonce": nonce})
    assert the_cart(associate).lines.get().quantity == 1


def test_a_cart_with_another_customers_items_is_not_switched(
    tablet, associate, customer, store, shop
):
    post(tablet, "cart:for_customer", pk=customer.pk)
    post(tablet, "cart:add", {"sku": "JKT-1-M"})
    other = factories.CustomerFactory(preferred_store=store)
    answer = tablet.post(
        reverse("cart:add"), {"sku": "JKT-1-L", "customer": other.pk}, HTTP_HX_REQUEST="true"
    )
    assert "another customer" in answer.content.decode()
    refused = post(tablet, "cart:for_customer", pk=other.pk)
    assert refused.status_code == 400
    cart = the_cart(associate)
    assert cart.customer == customer and [ln.variant.sku for ln in cart.lines.all()] == ["JKT-1-M"]


def test_the_cart_page_runs_in_a_fixed_number_of_queries(
    tablet, associate, customer, store, shop, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post(tablet, "cart:for_customer", pk=customer.pk)
    post(tablet, "cart:add", {"sku": "JKT-1-M"})
    tablet.get(reverse("cart:detail"))  # the network is loaded once
    with CaptureQueriesContext(connection) as captured:
        assert tablet.get(reverse("cart:detail")).status_code == 200
    small = len(captured.captured_queries)
    assert small > 0
    for n in range(8):
        variant = factories.VariantFactory(sku=f"MORE-{n}", price=Decimal("10.00"))
        factories.give_stock(shop["dc"], variant, 3)
        post(tablet, "cart:add", {"sku": variant.sku})
    with django_assert_max_num_queries(small):
        assert tablet.get(reverse("cart:detail")).status_code == 200
