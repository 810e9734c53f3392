"""A promise given is honoured, or the customer is told before the date passes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from inventory.models import StockLocation
from orders import promises, services
from orders.models import Fulfillment, OrderEvent, State
from orders.services import LineInput, OrderInput
from retail.models import OutboundMessage
from tests import factories
from tests.inventory.places import place

pytestmark = pytest.mark.django_db

WEDNESDAY = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)  # 11:00 in Paris


@pytest.fixture
def world(store):
    place(store, "Paris")
    factories.store_location(store, lead_time_days=0)
    dc = factories.StockLocationFactory(
        code="DC1", country="FR", postcode="95700", time_zone="Europe/Paris", lead_time_days=0,
        latitude=Decimal("49.009700"), longitude=Decimal("2.547900"),
    )  # fmt: skip
    coat = factories.VariantFactory(sku="COAT-1", price=Decimal("90.00"))
    factories.give_stock(dc, coat, 5)
    customer = factories.CustomerFactory(name="Mei Lin Chen", email="mei@example.com")
    return {"coat": coat, "customer": customer}


def _order(world, store, method, ref):
    data = OrderInput(
        order_ref=ref,
        channel="web",
        customer=world["customer"],
        lines=[LineInput(world["coat"], 1, world["coat"].price)],
        method=method,
        store=store if method == "pickup" else None,
        address={"postcode": "69002", "country": "FR"} if method == "ship" else None,
        tender="card",
        amount=world["coat"].price,
        fingerprint=ref,
    )
    with time_machine.travel(WEDNESDAY, tick=False):
        order, _created = services.order_place(data)
    return order.fulfillments.get()


def _watch(at: dt.datetime) -> int:
    with time_machine.travel(at, tick=False):
        return promises.promises_watch()


def test_a_parcel_not_received_when_the_store_opens_on_its_day_is_told_once(world, store):
    f = _order(world, store, "pickup", "WEB-1")
    # Sent from the DC: leaves Wednesday 16:00, received Friday by 11:00 in Paris.
    assert f.promised_by == dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    opening = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris
    assert _watch(opening - dt.timedelta(minutes=1)) == 0
    assert _watch(opening) == 1
    assert _watch(opening + dt.timedelta(hours=1)) == 0  # once
    [message] = OutboundMessage.objects.filter(template="order_late")
    assert message.customer == world["customer"]
    assert message.context["promised"] == "2026-11-27 11:00"
    assert message.context["pickup"] is True and message.context["items"]
    f.refresh_from_db()
    assert f.late_notice_at is not None
    assert OrderEvent.objects.filter(fulfillment=f, kind="promise_at_risk").count() == 1


def test_a_shelf_pickup_is_told_only_if_not_ready_half_an_hour_before(world, store):
    factories.give_stock(StockLocation.objects.get(store=store), world["coat"], 1)
    f = _order(world, store, "pickup", "WEB-7")
    assert (f.method, f.promised_by) == ("pickup", WEDNESDAY + dt.timedelta(hours=2))
    assert _watch(WEDNESDAY + dt.timedelta(minutes=1)) == 0  # a new order is on track
    assert _watch(f.promised_by - dt.timedelta(minutes=31)) == 0
    assert _watch(f.promised_by - dt.timedelta(minutes=30)) == 1


def test_a_pickup_ready_in_time_is_never_told(world, store):
    f = _order(world, store, "pickup", "WEB-2")
    Fulfillment.objects.filter(pk=f.pk).update(state=State.READY)
    assert _watch(f.promised_by - dt.timedelta(hours=1)) == 0
    assert not OutboundMessage.objects.filter(template="order_late").exists()


def test_a_delivery_is_late_when_it_misses_its_carrier(world, store):
    f = _order(world, store, "ship", "WEB-3")
    leaves = dt.datetime.fromisoformat(f.promise["leaves"])
    assert leaves == dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)  # 16:00 in Paris
    assert _watch(leaves - dt.timedelta(minutes=1)) == 0
    assert _watch(leaves) == 1  # the carrier left without it
    [message] = OutboundMessage.objects.filter(template="order_late")
    assert message.context["pickup"] is False


def test_an_estimate_moved_past_the_promise_is_told_at_once(world, store):
    f = _order(world, store, "pickup", "WEB-4")
    Fulfillment.objects.filter(pk=f.pk).update(ready_by=f.promised_by + dt.timedelta(days=2))
    assert _watch(WEDNESDAY + dt.timedelta(hours=1)) == 1
    [message] = OutboundMessage.objects.filter(template="order_late")
    assert message.context["later"] == "2026-11-29 11:00"


def test_the_shipping_page_says_when_the_carrier_collects_and_why(world, store, associate):
    shelf = StockLocation.objects.get(store=store)
    shelf.ships_to_customers = True
    shelf.save()
    factories.give_stock(shelf, world["coat"], 2)
    dc = StockLocation.objects.get(code="DC1")
    dc.active = False
    dc.save()
    f = _order(world, store, "ship", "WEB-5")
    assert (f.method, f.location.store_id) == ("ship_from_store", store.pk)
    client = Client()
    client.force_login(associate)
    with time_machine.travel(WEDNESDAY, tick=False):
        html = client.get(reverse("ship:detail", args=[f.pk])).content.decode()
    # Picked by 13:00 in Paris, the standard carrier collects at 16:00.
    assert 'id="ship-leaves">Wed 25 Nov 16:00' in html
    assert "the only location in the country with stock" in html


def test_admin_shows_the_promise_read_only_in_words(world, store, hq_client):
    f = _order(world, store, "pickup", "WEB-6")
    html = hq_client.get(reverse("admin:orders_fulfillment_change", args=[f.pk])).content.decode()
    assert "Why from there" in html
    assert "the only location in the country with stock" in html
    assert 'name="promised_by' not in html and 'name="promise"' not in html
