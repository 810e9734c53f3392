"""`POST /api/v1/stock/movements/` and `inventory.feed`: stock from the ERP, through the
ledger and its shortage rules."""

from decimal import Decimal

import pytest

from inventory import feed
from inventory.models import StockFeed, StockLevel, StockMovement
from orders import services as orders
from orders.models import Refund
from retail.models import AuditLog
from tests import factories
from tests.orders.test_services import order_input
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import assert_matches_schema

pytestmark = pytest.mark.django_db

URL = "/api/v1/stock/movements/"


@pytest.fixture
def net(store, other_store):
    s01 = factories.store_location(store)
    dc = factories.StockLocationFactory(code="DC1")
    cat = factories.CategoryFactory(code="tops", tax_rate=Decimal("20.00"))
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("60.00"), product__category=cat)
    scarf = factories.VariantFactory(sku="SCARF", price=Decimal("20.00"), product__category=cat)
    return {
        "s01": s01,
        "s02": factories.store_location(other_store),
        "dc": dc,
        "jumper": jumper,
        "scarf": scarf,
        "customer": factories.CustomerFactory(),
    }


def api(*scopes) -> ApiClientHelper:
    _client, key = factories.api_client(*scopes)
    return ApiClientHelper(key)


@pytest.fixture
def erp(db):
    return api("stock:write")


def body(**changes):
    data = {
        "movement_ref": "ERP-1",
        "location": "S01",
        "kind": "receipt",
        "lines": [{"sku": "JUMPER-M", "quantity": 5}, {"sku": "SCARF", "quantity": 2}],
        "reason": "delivery 778",
    }
    data.update(changes)
    return data


def on_hand(location, variant) -> int:
    level = StockLevel.objects.filter(location=location, variant=variant).first()
    return level.on_hand if level else 0


def test_a_receipt_is_applied_through_the_ledger_then_a_resend_is_200(
    erp, net, assert_ledger_reconciles
):
    response = erp.post(URL, body())
    assert response.status_code == 201, response.json()
    assert_matches_schema(response, "POST", URL)
    assert response.json() == {"movement_ref": "ERP-1", "applied": 2}
    assert on_hand(net["s01"], net["jumper"]) == 5
    rows = StockMovement.objects.filter(source="feed:ERP-1")
    assert sorted(rows.values_list("kind", "on_hand_delta")) == [("receipt", 2), ("receipt", 5)]
    assert rows.first().reason == "delivery 778"
    log = AuditLog.objects.get(action="stock.feed")
    assert log.detail["movement_ref"] == "ERP-1" and log.detail["lines"] == 2
    assert "api_client" in log.detail

    again = erp.post(URL, body())
    assert again.status_code == 200
    assert again.json() == {"movement_ref": "ERP-1", "applied": 2}
    assert on_hand(net["s01"], net["jumper"]) == 5
    assert StockMovement.objects.filter(source="feed:ERP-1").count() == 2
    assert_ledger_reconciles()


def test_the_same_ref_with_another_body_is_a_409(erp, net):
    assert erp.post(URL, body()).status_code == 201
    response = erp.post(URL, body(lines=[{"sku": "JUMPER-M", "quantity": 6}]))
    assert response.status_code == 409
    assert_matches_schema(response, "POST", URL)
    assert response.json()["code"] == "movement_ref_conflict"
    assert on_hand(net["s01"], net["jumper"]) == 5


def test_unknown_location_is_a_400_by_field(erp, net):
    response = erp.post(URL, body(location="NOPE"))
    assert response.status_code == 400
    assert_matches_schema(response, "POST", URL)
    assert list(response.json()["errors"]) == ["location"]
    assert not StockFeed.objects.exists()


def test_bad_lines_are_named_by_index_and_nothing_is_applied(erp, net):
    lines = [
        {"sku": "JUMPER-M", "quantity": 5},
        {"sku": "NOPE", "quantity": 1},
        {"sku": "SCARF", "quantity": 1.5},
        {"sku": "SCARF", "quantity": -1},
    ]
    response = erp.post(URL, body(lines=lines))
    assert response.status_code == 400
    assert_matches_schema(response, "POST", URL)
    errors = response.json()["errors"]
    assert set(errors) == {"2"}  # shape first: a quantity that is not a whole number
    assert "quantity" in errors["2"]
    lines[2]["quantity"] = 1
    response = erp.post(URL, body(lines=lines))
    errors = response.json()["errors"]
    assert set(errors) == {"1", "3"}, errors
    assert "sku" in errors["1"] and "quantity" in errors["3"]
    assert on_hand(net["s01"], net["jumper"]) == 0
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    "lines",
    [[], [{"sku": "X", "quantity": 1}] * 5001, "JUMPER-M", [{"sku": "JUMPER-M"}], [7]],
)
def test_lines_of_the_wrong_shape_are_a_400(erp, net, lines):
    response = erp.post(URL, body(lines=lines))
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_an_adjustment_cannot_take_on_hand_below_zero(erp, net):
    factories.give_stock(net["s01"], net["jumper"], 2)
    response = erp.post(URL, body(kind="adjustment", lines=[{"sku": "JUMPER-M", "quantity": -3}]))
    assert response.status_code == 400
    assert "quantity" in response.json()["errors"]["0"]
    assert on_hand(net["s01"], net["jumper"]) == 2


def test_a_count_sets_on_hand_and_a_matching_count_writes_no_ledger_row(
    erp, net, assert_ledger_reconciles
):
    factories.give_stock(net["s01"], net["jumper"], 7)
    count = body(
        kind="count", lines=[{"sku": "JUMPER-M", "quantity": 4}, {"sku": "SCARF", "quantity": 0}]
    )
    assert erp.post(URL, count).status_code == 201
    assert on_hand(net["s01"], net["jumper"]) == 4
    row = StockMovement.objects.get(source="feed:ERP-1")
    assert (row.kind, row.quantity, row.on_hand_delta) == ("count", 4, -3)
    same = body(movement_ref="ERP-2", kind="count", lines=[{"sku": "JUMPER-M", "quantity": 4}])
    assert erp.post(URL, same).status_code == 201
    assert not StockMovement.objects.filter(source="feed:ERP-2").exists()
    assert StockFeed.objects.get(movement_ref="ERP-2").changed == 0
    assert_ledger_reconciles()


def test_a_count_below_what_is_reserved_resources_the_order(
    erp, net, store, assert_ledger_reconciles
):
    factories.give_stock(net["s01"], net["jumper"], 1)
    factories.give_stock(net["dc"], net["jumper"], 5)
    order, _ = orders.order_place(order_input(net, store=store))
    assert order.fulfillments.get().location == net["s01"]
    count = body(kind="count", lines=[{"sku": "JUMPER-M", "quantity": 0}])
    assert erp.post(URL, count).status_code == 201
    live = order.fulfillments.exclude(state="cancelled").get()
    assert (live.method, live.location) == ("ship_to_store", net["dc"])
    assert order.events.filter(reason__contains="re-sourced").exists()
    level = StockLevel.objects.get(location=net["s01"], variant=net["jumper"])
    assert (level.on_hand, level.reserved) == (0, 0)
    assert_ledger_reconciles()


def test_a_count_below_reserved_with_nothing_elsewhere_cancels_and_refunds(
    erp, net, store, assert_ledger_reconciles
):
    factories.give_stock(net["s01"], net["jumper"], 1)
    order, _ = orders.order_place(order_input(net, store=store))
    count = body(kind="count", lines=[{"sku": "JUMPER-M", "quantity": 0}])
    assert erp.post(URL, count).status_code == 201
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Refund.objects.get(order=order).amount == Decimal("60.00")
    assert_ledger_reconciles()


def test_a_dry_run_returns_the_changes_and_writes_nothing(net):
    factories.give_stock(net["s01"], net["jumper"], 7)
    result = feed.stock_movement_apply(
        movement_ref="DRY-1",
        location="S01",
        kind="count",
        lines=[feed.MovementLine("JUMPER-M", 3), feed.MovementLine("SCARF", 3)],
        dry_run=True,
    )
    assert result.changes == [(0, "JUMPER-M", 7, 3), (1, "SCARF", 0, 3)]
    assert on_hand(net["s01"], net["jumper"]) == 7
    assert not StockFeed.objects.exists()
    assert not StockMovement.objects.filter(source="feed:DRY-1").exists()


def test_replenished_stock_records_the_event(net):
    from retail.models import OutboxEntry

    feed.stock_movement_apply(
        movement_ref="R-1", location="S01", kind="receipt", lines=[feed.MovementLine("SCARF", 2)]
    )
    assert OutboxEntry.objects.filter(name="stock_replenished").count() == 1


def test_the_scope_is_needed(net):
    assert api("orders:write").post(URL, body()).status_code == 403
