"""API clients place orders only in the channels HQ allows them, and never with a
discount above the order (issue 16, Info: "an API client may place orders in any
channel (`store`, `kiosk`) and with a 100 % discount")."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from orders.models import Order
from retail.models import ApiClient
from tests import factories
from tests.retail.api.conftest import ApiClientHelper

pytestmark = pytest.mark.django_db
CREATE = "/api/v1/orders/"
BODY = {
    "order_ref": "WEB-1001",
    "channel": "web",
    "customer_ref": "WEB-C1",
    "lines": [{"sku": "JUMPER-M", "quantity": 1, "unit_price": "59.90"}],
    "fulfillment": {"method": "pickup", "store": "S01"},
    "payment": {"tender": "card", "amount": "59.90", "reference": "psp-1"},
}


@pytest.fixture
def world(store):
    factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("59.90"))
    factories.give_stock(store.stock_location, jumper, 3)
    factories.CustomerFactory(customer_ref="WEB-C1")
    client, key = factories.api_client("orders:write", "orders:read", name="web-shop")
    return client, ApiClientHelper(key)


def body(**changes):
    data = copy.deepcopy(BODY)
    data.update(changes)
    return data


@pytest.mark.parametrize("channel", ["store", "kiosk"])
def test_the_web_shop_cannot_place_store_or_kiosk_orders(world, channel):
    """Failed before: 201, an order in a channel the client does not speak for."""
    _client, shop = world
    response = shop.post(CREATE, body(channel=channel))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert channel in response.json()["detail"]
    assert not Order.objects.exists()


def test_a_channel_hq_allows_is_accepted_at_once(world):
    client, shop = world
    assert shop.post(CREATE, body(channel="store")).status_code == 403
    client.channels = ["web", "store"]
    client.save()
    response = shop.post(CREATE, body(channel="store"))
    assert response.status_code == 201, response.json()
    assert Order.objects.get().channel == "store"
    assert shop.post(CREATE, body(channel="web", order_ref="WEB-1002")).status_code == 201


def test_new_clients_default_to_web_app_and_social(world):
    client, _shop = world
    assert ApiClient.objects.get(pk=client.pk).channels == ["web", "app", "social"]


def test_a_discount_above_the_subtotal_is_refused(world):
    """Checked: already a validation error before issue 16 (no fix was needed)."""
    _client, shop = world
    response = shop.post(
        CREATE,
        body(discount="60.00", payment={"tender": "card", "amount": "0.00", "reference": "x"}),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "discount" in str(response.json())
    assert not Order.objects.exists()
