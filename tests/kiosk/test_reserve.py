"""Reserve and collect at the kiosk: a customer finds a product, reserves it for
pickup in their name (after proving their e-mail with a one-time code) or as a
guest, and pays at the counter when the associate hands it over. The kiosk never
shows a customer's data."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from inventory.models import StockLevel
from orders import pickup
from orders.models import Order, Payment, Refund
from retail.models import Customer, OutboundMessage
from tests import factories
from tests.orders.pickups import make_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk(store):
    client = Client()
    client.force_login(factories.StaffFactory(role="kiosk", home_store=store))
    return client


@pytest.fixture
def parka(store):
    product = factories.ProductFactory(style_code="PK-1", name="Storm parka", brand="Fellside")
    medium = factories.VariantFactory(
        product=product, sku="PK-1-M", size="M", price=Decimal("150.00")
    )
    factories.give_stock(factories.store_location(store), medium, 3)
    return medium


def nonce_of(html: str) -> str:
    return re.search(r'name="nonce" value="([0-9a-f]{32})"', html).group(1)


def reserve(kiosk, **data):
    page = kiosk.get(reverse("kiosk:aisle_product", args=["PK-1"])).content.decode()
    body = {"nonce": nonce_of(page), "sku": "PK-1-M", **data}
    return kiosk.post(reverse("kiosk:reserve", args=["PK-1"]), body), body


def sent_code(email: str) -> str:
    message = OutboundMessage.objects.filter(template="kiosk_code").latest("pk")
    assert message.to_address == email
    return message.context["code"]


def ask_code(kiosk, email):
    page = kiosk.get(reverse("kiosk:aisle_product", args=["PK-1"])).content.decode()
    body = {"nonce": nonce_of(page), "sku": "PK-1-M", "email": email}
    return kiosk.post(reverse("kiosk:send_code", args=["PK-1"]), body)


def test_a_customer_finds_and_reserves_and_the_kiosk_shows_no_customer_data(kiosk, store, parka):
    known = factories.CustomerFactory(name="Mei Lin Chen", email="mei@example.com")
    found = kiosk.get(reverse("kiosk:aisle"), {"q": "parka"}).content.decode()
    assert 'data-style="PK-1"' in found and "In this store" in found
    asked = ask_code(kiosk, "MEI@example.com")
    assert asked.status_code == 200 and 'name="code"' in asked.content.decode()
    response, body = reserve(kiosk, email="MEI@example.com", code=sent_code("mei@example.com"))
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.channel, order.customer, order.total) == ("kiosk", known, Decimal("150.00"))
    assert not Payment.objects.exists()  # paid at the counter
    assert StockLevel.objects.get(variant=parka).reserved == 1
    message = OutboundMessage.objects.get(customer=known, template="order_confirmation")
    assert message.context["pay_at_pickup"] is True
    shown = kiosk.get(response["Location"]).content.decode()
    assert order.order_ref in shown and "150.00" in shown
    for private in ("Mei", "mei@example.com", known.phone):
        assert private not in shown and private not in found
    again = kiosk.post(reverse("kiosk:reserve", args=["PK-1"]), body)  # a double tap
    assert again["Location"] == response["Location"] and Order.objects.count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        ({"sku": ""}, "Choose a size."),
        ({"email": "not-an-email", "code": "123456"}, "This code is not right"),
        ({"nonce": "x"}, "The page is out of date"),
    ],
)
def test_bad_reservations_are_refused_and_nothing_written(kiosk, parka, data, message):
    customers = Customer.objects.count()
    response, _body = reserve(kiosk, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Order.objects.exists() and Customer.objects.count() == customers


def test_the_counter_records_the_payment_before_handing_over(kiosk, store, parka):
    reserve(kiosk)  # a guest reservation
    order = Order.objects.get()
    assert order.customer is None
    associate = factories.StaffFactory(role="associate", home_store=store)
    [f] = order.fulfillments.all()
    f = make_ready(f, store, by=associate)
    code = f.pickup_code
    assert pickup.amount_due(order, f) == Decimal("150.00")
    with pytest.raises(pickup.PickupError, match=r"paid at the counter: take €150\.00"):
        pickup.pickup_hand_over(fulfillment=f, code=code, by=associate, store=store)
    f.refresh_from_db()
    assert f.state == "ready" and not Payment.objects.exists()
    pickup.pickup_hand_over(fulfillment=f, code=code, by=associate, store=store, tender="card")
    [payment] = Payment.objects.filter(order=order)
    assert (payment.tender, payment.amount) == ("card", Decimal("150.00"))
    f.refresh_from_db()
    assert f.state == "collected"
    assert StockLevel.objects.get(variant=parka).reserved == 0


def test_an_unpaid_reservation_that_expires_refunds_nothing(kiosk, store, parka):
    reserve(kiosk)
    order = Order.objects.get()
    from orders.services import order_cancel

    order_cancel(order=order, by=None, reason="not collected")
    assert not Refund.objects.exists()
    assert StockLevel.objects.get(variant=parka).reserved == 0


def test_a_paid_web_order_owes_nothing_at_the_counter(store, parka):
    from tests.orders.pickups import place

    order = place(store, [(parka, 1)])
    [f] = order.fulfillments.all()
    assert pickup.amount_due(order, f) == Decimal("0.00")


def test_a_reservation_can_be_collected_at_another_store(kiosk, store, other_store, parka):
    factories.store_location(other_store)
    response, _body = reserve(kiosk, collect_at=other_store.code)
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.store == other_store and order.order_ref.startswith(f"K-{store.code}-")
    assert other_store.name in kiosk.get(response["Location"]).content.decode()
    refused, _ = reserve(kiosk, collect_at="NOPE")
    assert refused.status_code == 400 and "offers pickup" in refused.content.decode()


def test_a_refusal_is_worded_for_the_customer_not_for_staff(kiosk, store, parka):
    """Issue #21, finding 6: kiosk errors were worded for staff (SKUs, service codes)."""
    page = kiosk.get(reverse("kiosk:aisle_product", args=["PK-1"])).content.decode()
    body = {"nonce": nonce_of(page), "sku": "PK-1-M"}
    level = StockLevel.objects.get(variant=parka)
    StockLevel.objects.filter(pk=level.pk).update(reserved=level.on_hand)  # sold out meanwhile
    response = kiosk.post(reverse("kiosk:reserve", args=["PK-1"]), body)
    html = response.content.decode()
    assert response.status_code == 409
    assert "this size has just sold out" in html and "ask an associate" in html
    assert "Not enough stock" not in html and not Order.objects.exists()
