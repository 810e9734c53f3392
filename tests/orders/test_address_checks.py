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
