"""The order API of the online channel, against the design's contract and the schema."""

import copy
from decimal import Decimal

import pytest

from inventory.models import StockLevel, StockMovement
from orders import services
from orders.models import Order, State
from tests import factories
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import assert_matches_schema

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/orders/"


@pytest.fixture
def shop(store, other_store):
    factories.store_location(store)
    factories.StockLocationFactory(code="DC1")
    no_pickup = factories.StoreFactory(code="S03", pickup_enabled=False)
    factories.store_location(no_pickup)
    cat = factories.CategoryFactory(code="tops", tax_rate=Decimal("20.00"))
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("59.90"), product__category=cat)
    factories.give_stock(store.stock_location, jumper, 2)
    factories.CustomerFactory(customer_ref="WEB-C1")
    _client, key = factories.api_client(
        "orders:write", "orders:read", channels=["web", "app", "store", "social"]
    )
    return ApiClientHelper(key)


BODY = {
    "order_ref": "WEB-1001",
    "channel": "web",
    "customer_ref": "WEB-C1",
    "lines": [{"sku": "JUMPER-M", "quantity": 1, "unit_price": "59.90"}],
    "fulfillment": {"method": "pickup", "store": "S01"},
    "payment": {"tender": "card", "amount": "59.90", "reference": "psp-1"},
}


def body(**changes):
    data = copy.deepcopy(BODY)
    for key, value in changes.items():
        data[key] = value
    return data


def nothing_written():
    assert not Order.objects.exists()
    assert not StockLevel.objects.filter(reserved__gt=0).exists()
    assert not StockMovement.objects.filter(kind="reservation").exists()


def test_order_is_created_read_and_matches_the_schema(shop, assert_ledger_reconciles):
    created = shop.post(CREATE, BODY)
    assert created.status_code == 201, created.json()
    assert_matches_schema(created, "POST", "/api/v1/orders/")
    order = created.json()
    assert (order["status"], order["total"], order["currency"]) == ("open", "59.90", "EUR")
    (fulfillment,) = order["fulfillments"]
    assert (fulfillment["method"], fulfillment["location"], fulfillment["state"]) == (
        "pickup",
        "S01",
        "reserved",
    )
    read = shop.get("/api/v1/orders/WEB-1001/")
    assert read.status_code == 200
    assert_matches_schema(read, "GET", "/api/v1/orders/{order_ref}/")
    assert read.json() == order
    assert_ledger_reconciles()


def test_resending_three_times_leaves_one_order(shop, assert_ledger_reconciles):
    first = shop.post(CREATE, BODY)
    for _ in range(3):
        again = shop.post(CREATE, BODY)
        assert again.status_code == 200
        assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(variant__sku="JUMPER-M", location__code="S01").reserved == 1
    assert_ledger_reconciles()


def test_same_ref_with_another_body_is_a_conflict(shop):
    shop.post(CREATE, BODY)
    response = shop.post(
        CREATE, body(payment={"tender": "cash", "amount": "59.90", "reference": ""})
    )
    assert response.status_code == 409
    assert response.json()["code"] == "order_ref_conflict"


def test_insufficient_stock_names_the_skus_and_reserves_nothing(shop):
    response = shop.post(
        CREATE,
        body(
            lines=[{"sku": "JUMPER-M", "quantity": 3, "unit_price": "59.90"}],
            payment={"tender": "card", "amount": "179.70", "reference": ""},
        ),
    )
    assert response.status_code == 409
    assert_matches_schema(response, "POST", "/api/v1/orders/")
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["skus"] == ["JUMPER-M"]
    nothing_written()


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        (
            {"lines": [{"sku": "JUMPER-M", "quantity": 0, "unit_price": "59.90"}]},
            400,
            "validation_error",
        ),
        (
            {"lines": [{"sku": "JUMPER-M", "quantity": -1, "unit_price": "59.90"}]},
            400,
            "validation_error",
        ),
        (
            {"lines": [{"sku": "JUMPER-M", "quantity": "two", "unit_price": "59.90"}]},
            400,
            "validation_error",
        ),
        (
            {"lines": [{"sku": "NO-SUCH", "quantity": 1, "unit_price": "59.90"}]},
            400,
            "validation_error",
        ),
        ({"lines": []}, 400, "validation_error"),
        ({"customer_ref": "WEB-UNKNOWN"}, 400, "validation_error"),
        ({"fulfillment": {"method": "pickup", "store": "S99"}}, 400, "validation_error"),
        ({"fulfillment": {"method": "pickup", "store": "S03"}}, 400, "validation_error"),
        ({"fulfillment": {"method": "ship"}}, 400, "validation_error"),
        (
            {
                "lines": [{"sku": "JUMPER-M", "quantity": 1, "unit_price": "69.90"}],
                "payment": {"tender": "card", "amount": "69.90", "reference": ""},
            },
            409,
            "price_mismatch",
        ),
        (
            {"payment": {"tender": "card", "amount": "50.00", "reference": ""}},
            400,
            "payment_mismatch",
        ),
        ({"order_ref": "R" * 5000}, 400, "validation_error"),
        (
            {"payment": {"tender": "card", "amount": "lots", "reference": ""}},
            400,
            "validation_error",
        ),
        ({"discount": "-5"}, 400, "validation_error"),
        ({"channel": "carrier-pigeon"}, 400, "validation_error"),
    ],
)
def test_bad_orders_are_refused_with_a_code_and_nothing_written(shop, changes, status, code):
    response = shop.post(CREATE, body(**changes))
    assert response.status_code == status, response.json()
    payload = response.json()
    assert payload["code"] == code
    assert payload["detail"]
    nothing_written()


def test_malformed_json_and_huge_bodies(shop):
    assert shop.post(CREATE, '{"order_ref": ').json()["code"] == "parse_error"
    huge = shop.post(CREATE, '{"order_ref": "' + "x" * (5 * 1024 * 1024) + '"}')
    assert (huge.status_code, huge.json()["code"]) == (413, "too_large")
    nothing_written()


def test_cancel_releases_stock_and_records_the_refund(shop, assert_ledger_reconciles):
    shop.post(CREATE, BODY)
    response = shop.post("/api/v1/orders/WEB-1001/cancel/", "")
    assert response.status_code == 200
    assert_matches_schema(response, "POST", "/api/v1/orders/{order_ref}/cancel/")
    order = response.json()
    assert order["status"] == "cancelled"
    assert order["refunds"][0]["amount"] == "59.90"
    assert StockLevel.objects.get(variant__sku="JUMPER-M", location__code="S01").reserved == 0
    again = shop.post("/api/v1/orders/WEB-1001/cancel/", "")
    assert again.status_code == 200
    assert len(again.json()["refunds"]) == 1
    assert_ledger_reconciles()


def test_cancel_after_hand_over_is_not_cancellable(shop, assert_ledger_reconciles):
    shop.post(CREATE, BODY)
    fulfillment = Order.objects.get().fulfillments.get()
    for state in (State.PICKING, State.READY, State.COLLECTED):
        fulfillment = services.fulfillment_transition(fulfillment=fulfillment, to=state, by=None)
    response = shop.post("/api/v1/orders/WEB-1001/cancel/", "")
    assert (response.status_code, response.json()["code"]) == (409, "not_cancellable")
    assert_matches_schema(response, "POST", "/api/v1/orders/{order_ref}/cancel/")
    assert_ledger_reconciles()


def test_unknown_order_is_not_found(shop):
    response = shop.get("/api/v1/orders/NOPE/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert shop.post("/api/v1/orders/NOPE/cancel/", "").status_code == 404


def test_till_sale_without_customer(shop, store, assert_ledger_reconciles):
    sale = body(
        order_ref="TILL-1", channel="store", fulfillment={"method": "carry_out", "store": "S01"}
    )
    del sale["customer_ref"]
    response = shop.post(CREATE, sale)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "completed"
    assert response.json()["fulfillments"][0]["state"] == "collected"
    assert StockLevel.objects.get(variant__sku="JUMPER-M", location__code="S01").on_hand == 1
    assert_ledger_reconciles()


@pytest.mark.parametrize("orders", [1, 8])
def test_reading_an_order_runs_in_a_fixed_number_of_queries(
    shop, orders, django_assert_max_num_queries
):
    factories.give_stock(
        factories.StockLocationFactory(code="DC1"), factories.VariantFactory(sku="X"), 50
    )
    lines = [{"sku": "X", "quantity": 1, "unit_price": "59.90"}] * orders
    shop.post(
        CREATE,
        body(
            order_ref="BIG",
            lines=lines,
            payment={
                "tender": "card",
                "amount": f"{Decimal('59.90') * orders:.2f}",
                "reference": "",
            },
        ),
    )
    with django_assert_max_num_queries(9):
        assert shop.get("/api/v1/orders/BIG/").status_code == 200
