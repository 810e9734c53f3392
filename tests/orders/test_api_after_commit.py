"""A committed order is never answered with an error: once `order_place` has
committed, the API answers from what it returned, with no query after commit."""

from contextlib import ExitStack
from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from orders import api, services
from orders.models import Order
from orders.shapes import load_order, order_shape
from retail.models import Customer, Store, Variant
from tests import factories
from tests.retail.api.conftest import ApiClientHelper

pytestmark = pytest.mark.django_db

BODY = {
    "order_ref": "WEB-2001",
    "channel": "web",
    "customer_ref": "WEB-C9",
    "lines": [{"sku": "SCARF-1", "quantity": 1, "unit_price": "25.00"}],
    "fulfillment": {"method": "pickup", "store": "S01"},
    "payment": {"tender": "card", "amount": "25.00", "reference": "psp-9"},
}


@pytest.fixture
def shop(store):
    factories.store_location(store)
    scarf = factories.VariantFactory(sku="SCARF-1", price=Decimal("25.00"))
    factories.give_stock(store.stock_location, scarf, 3)
    factories.CustomerFactory(customer_ref="WEB-C9")
    _client, key = factories.api_client("orders:write", "orders:read")
    return ApiClientHelper(key)


def _database_dies_after_order_place(monkeypatch, stack: ExitStack) -> list[Order]:
    placed = []
    real = services.order_place

    def place_then_die(data):
        result = real(data)
        placed.append(result[0])

        def refuse(execute, sql, params, many, context):
            raise OperationalError("the database went away")

        stack.enter_context(connection.execute_wrapper(refuse))
        return result

    monkeypatch.setattr(api.services, "order_place", place_then_die)
    return placed


@pytest.mark.parametrize("resend", [False, True])
def test_a_placed_order_is_answered_even_if_the_database_fails_right_after(
    shop, monkeypatch, resend
):
    if resend:  # the idempotent replay is answered the same way
        assert shop.post("/api/v1/orders/", BODY).status_code == 201
    with ExitStack() as stack:
        placed = _database_dies_after_order_place(monkeypatch, stack)
        answer = shop.post("/api/v1/orders/", BODY)
    assert placed, "order_place ran"
    assert answer.status_code == (200 if resend else 201), answer.content
    assert answer.json() == shop.get("/api/v1/orders/WEB-2001/").json()
    assert answer.json()["fulfillments"][0]["state"] == "reserved"


def test_order_place_returns_the_order_loaded_for_its_shape(shop, django_assert_num_queries):
    store = Store.objects.get(code="S01")
    order, created = services.order_place(
        services.OrderInput(
            order_ref="WEB-3001",
            channel="web",
            customer=Customer.objects.get(customer_ref="WEB-C9"),
            lines=[
                services.LineInput(
                    Variant.objects.get(sku="SCARF-1"),
                    1,
                    Decimal("25.00"),
                )
            ],
            method="pickup",
            store=store,
            tender="card",
            amount=Decimal("25.00"),
            payment_reference="t-1",
            fingerprint="WEB-3001",
        )
    )
    assert created
    with django_assert_num_queries(0):
        shape = order_shape(order)
    assert shape == order_shape(load_order("WEB-3001"))
