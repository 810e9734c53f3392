"""A split pickup (part on this shelf, part sent from the DC) is one row in the
store's queue, with its parts, counted once; each part's page lists the others."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from orders import pickup
from orders.models import Fulfillment, State
from tests import factories
from tests.orders.pickups import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def split(store):
    shelf = factories.store_location(store, lead_time_days=0)
    dc = factories.StockLocationFactory(code="DC1", lead_time_days=0)
    scarf = factories.VariantFactory(sku="SCARF-1", price=Decimal("30.00"))
    factories.give_stock(shelf, scarf, 1)
    factories.give_stock(dc, scarf, 5)
    order = place(store, [(scarf, 2)])
    return order, list(order.fulfillments.order_by("pk"))


def _rows(client) -> list[str]:
    html = client.get(reverse("orders_store:queue")).content.decode()
    return re.findall(r'id="pickup-(\d+)"', html), html


def test_a_split_order_is_one_row_with_its_parts(store, associate, split):
    _order, (here, sent) = split
    assert (here.method, sent.method) == ("pickup", "ship_to_store")
    client = Client()
    client.force_login(associate)
    rows, html = _rows(client)
    assert rows == [str(here.pk)]  # the DC's part is still on its way
    assert 'data-parts="2"' in html and "In 2 parts:" in html
    Fulfillment.objects.filter(pk=sent.pk).update(state=State.RECEIVED)  # now both in hand
    rows, html = _rows(client)
    assert rows == [str(here.pk)]
    assert pickup.queue_counts(store)["total"] == 1
    assert pickup.queue_counts(store)["new"] == 1
    detail = client.get(reverse("orders_store:detail", args=[here.pk])).content.decode()
    assert 'id="pickup-parts"' in detail
    assert reverse("orders_store:detail", args=[sent.pk]) in detail


def test_two_orders_are_two_rows(store, associate, split):
    scarf = split[1][0].lines.get().order_line.variant
    factories.give_stock(factories.store_location(store), scarf, 1)
    other = place(store, [(scarf, 1)], ref="WEB-2")
    client = Client()
    client.force_login(associate)
    rows, _html = _rows(client)
    assert len(rows) == 2 and str(other.fulfillments.get().pk) in rows
    assert pickup.queue_counts(store)["total"] == 2
