"""Addresses a promise cannot be made for are refused in words, with nothing written:
through the API (400, the field named) and on the tablet's cart."""

from __future__ import annotations

import pytest

from tests.orders.test_api import body, nothing_written, shop  # noqa: F401

pytestmark = pytest.mark.django_db

ADDRESS = {"name": "Ana", "line1": "5 place Bellecour", "city": "Lyon", "postcode": "69002"}


def _ship(address):
    return body(fulfillment={"method": "ship", "address": address})


@pytest.mark.parametrize(
    ("address", "field", "words"),
    [
        ({**ADDRESS, "country": "FR", "postcode": "6900"}, "postcode", "is not a postcode in FR"),
        ({**ADDRESS, "country": "PT", "postcode": "4000"}, "postcode", "is not a postcode in PT"),
    ],
)
def test_an_address_sourcing_cannot_place_is_refused(shop, address, field, words):  # noqa: F811
    response = shop.post("/api/v1/orders/", _ship(address))
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "validation_error"
    assert words in " ".join(data["errors"][f"fulfillment.address.{field}"])
    nothing_written()


def test_a_country_the_network_does_not_serve_is_refused(shop):  # noqa: F811
    response = shop.post(
        "/api/v1/orders/", _ship({**ADDRESS, "country": "GB", "postcode": "LS1 4AP"})
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["fulfillment.address.country"] == [
        "The network does not deliver to GB: it serves the countries of its currency (EUR)."
    ]
    nothing_written()


def test_the_order_service_refuses_it_too(store):
    from orders import services
    from orders.services import LineInput, OrderInput
    from tests import factories

    coat = factories.VariantFactory(sku="COAT-9")
    customer = factories.CustomerFactory(email="ana@example.com")
    data = OrderInput(
        order_ref="X-1", channel="web", customer=customer,
        lines=[LineInput(coat, 1, coat.price)], method="ship",
        address={"postcode": "10001", "country": "US"}, tender="card", amount=coat.price,
    )  # fmt: skip
    with pytest.raises(services.OrderValidationError) as refused:
        services.order_place(data)
    assert (
        "does not deliver to US" in refused.value.extra["errors"]["fulfillment.address.country"][0]
    )
    nothing_written()


def test_the_cart_refuses_an_address_abroad(client, store):
    from django.urls import reverse

    from clienteling.models import Cart
    from tests import factories

    associate = factories.StaffFactory(role="associate", home_store=store)
    client.force_login(associate)
    address = {"delivery": "home", "name": "Ann", "line1": "1 High St", "city": "Leeds"}
    response = client.post(
        reverse("cart:delivery"), {**address, "postcode": "LS1 4AP", "country": "GB"}
    )
    assert response.status_code == 400
    assert "The network does not deliver to GB" in response.content.decode()
    assert Cart.objects.get(associate=associate).delivery == "pickup_here"
