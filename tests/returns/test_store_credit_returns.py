"""Store credit issued by a return pays later orders: at the till and for a pickup
through the API; spending beyond the balance is refused with nothing written; a
return of what credit paid for gives the credit back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import StockLevel, StockMovement
from orders import credit
from orders.models import CreditKind, Order, OrderLine, Payment, Refund, StoreCreditEntry
from returns import services
from returns.models import Return
from returns.services import LineAsk
from tests import factories
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import assert_matches_schema
from tests.returns import world

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/orders/"


@pytest.fixture
def net():
    return world.network()


@pytest.fixture
def api(net):
    _client, key = factories.api_client(
        "orders:write", "orders:read", channels=["web", "app", "store", "social"]
    )
    return ApiClientHelper(key)


@pytest.fixture
def customer(net):
    return factories.CustomerFactory(customer_ref="WEB-C1", name="Ada Lovelace", email="")


def order_body(ref, *, method="carry_out", sku="SCARF-1", quantity=1, amount="20.00"):
    return {
        "order_ref": ref,
        "channel": "store" if method == "carry_out" else "web",
        "customer_ref": "WEB-C1",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "20.00"}],
        "fulfillment": {"method": method, "store": "S01"},
        "payment": {"tender": "store_credit", "amount": amount, "reference": ""},
    }


def entries(customer):
    return list(
        StoreCreditEntry.objects.filter(account__customer=customer)
        .order_by("pk")
        .values_list("kind", "amount", "balance_after", "return_ref")
    )


def test_a_return_as_store_credit_pays_a_till_sale_and_a_pickup_then_runs_out(
    net, api, customer, assert_ledger_reconciles
):
    order = world.delivered([(net["jumper"], 2)], customer=customer)
    clerk = factories.StaffFactory(role="associate", home_store=net["s2"])
    ret, _c = services.return_at_counter(
        order=order,
        asks=[LineAsk(quantity=1, reason="size", order_line=order.lines.get())],
        store=net["s2"],
        by=clerk,
        return_ref="R-CREDIT",
        refund_to="store_credit",
    )
    assert ret.refund_amount == Decimal("60.00")
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.tender, refund.to_store_credit, refund.return_ref) == (
        Decimal("60.00"),
        "card",
        True,
        "R-CREDIT",
    )
    assert credit.credit_balance(customer) == Decimal("60.00")
    assert entries(customer) == [
        (CreditKind.ISSUED, Decimal("60.00"), Decimal("60.00"), "R-CREDIT")
    ]

    # A till sale paid with it.
    till = api.post(CREATE, order_body("TILL-1"))
    assert till.status_code == 201, till.json()
    assert_matches_schema(till, "POST", "/api/v1/orders/")
    assert till.json()["payments"][0]["tender"] == "store_credit"
    assert credit.credit_balance(customer) == Decimal("40.00")
    # A pickup paid with what is left.
    pick = api.post(CREATE, order_body("WEB-P1", method="pickup", quantity=2, amount="40.00"))
    assert pick.status_code == 201, pick.json()
    assert credit.credit_balance(customer) == Decimal("0.00")
    assert [(k, a) for k, a, _b, _r in entries(customer)] == [
        (CreditKind.ISSUED, Decimal("60.00")),
        (CreditKind.SPENT, Decimal("-20.00")),
        (CreditKind.SPENT, Decimal("-40.00")),
    ]

    # Beyond the balance: 409, nothing written (no order, payment, stock or credit move).
    before = (
        Order.objects.count(),
        Payment.objects.count(),
        StockMovement.objects.count(),
        StoreCreditEntry.objects.count(),
        list(StockLevel.objects.order_by("pk").values_list("on_hand", "reserved")),
    )
    for method in ("carry_out", "pickup"):
        short = api.post(CREATE, order_body(f"TILL-X-{method}", method=method))
        assert short.status_code == 409
        assert_matches_schema(short, "POST", CREATE)
        assert (short.json()["code"], short.json()["balance"]) == ("insufficient_credit", "0.00")
    after = (
        Order.objects.count(),
        Payment.objects.count(),
        StockMovement.objects.count(),
        StoreCreditEntry.objects.count(),
        list(StockLevel.objects.order_by("pk").values_list("on_hand", "reserved")),
    )
    assert after == before
    assert credit.credit_balance(customer) == Decimal("0.00")
    assert_ledger_reconciles()


def test_returning_what_credit_paid_for_gives_the_credit_back(
    net, api, customer, assert_ledger_reconciles
):
    credit.credit_issue(customer=customer, amount=Decimal("25.00"), reason="goodwill")
    assert api.post(CREATE, order_body("TILL-2")).status_code == 201
    assert credit.credit_balance(customer) == Decimal("5.00")
    order = Order.objects.get(order_ref="TILL-2")
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    services.return_at_counter(
        order=order,
        asks=[LineAsk(quantity=1, reason="changed_mind", order_line=order.lines.get())],
        store=net["s1"],
        by=clerk,
        return_ref="R-BACK",
    )
    refund = Refund.objects.get(order=order)
    assert (refund.tender, refund.amount, refund.to_store_credit) == (
        "store_credit",
        Decimal("20.00"),
        False,
    )
    assert credit.credit_balance(customer) == Decimal("25.00")
    assert StoreCreditEntry.objects.filter(kind=CreditKind.RESTORED, order=order).count() == 1
    assert_ledger_reconciles()


def test_an_online_return_as_store_credit_credits_the_customer_when_received(net, api, customer):
    order = world.delivered([(net["scarf"], 1)], customer=customer)
    started = api.post(
        "/api/v1/returns/",
        {
            "return_ref": "RET-SC",
            "order_ref": order.order_ref,
            "lines": [{"sku": "SCARF-1", "quantity": 1, "reason": "quality"}],
            "refund_to": "store_credit",
        },
    )
    assert started.status_code == 201, started.json()
    assert credit.credit_balance(customer) == Decimal("0.00")  # not before it arrives
    received = api.post("/api/v1/returns/RET-SC/receive/", {"location": "DC1"})
    assert received.status_code == 200
    assert received.json()["refund"] == {"amount": "20.00", "fee": "0.00", "to": "store_credit"}
    assert credit.credit_balance(customer) == Decimal("20.00")
    again = api.post("/api/v1/returns/RET-SC/receive/", {"location": "DC1"})
    assert again.status_code == 200
    assert credit.credit_balance(customer) == Decimal("20.00")  # issued once


def test_store_credit_for_a_sale_without_a_customer_is_refused_and_nothing_written(net):
    from orders import services as orders

    till, _c = orders.order_place(
        orders.OrderInput(
            order_ref="TILL-ANON",
            channel="store",
            customer=None,
            lines=[orders.LineInput(net["scarf"], 1, net["scarf"].price)],
            method="carry_out",
            store=net["s1"],
            tender="cash",
            amount=net["scarf"].price,
        )
    )
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    with pytest.raises(services.ReturnError) as refused:
        services.return_at_counter(
            order=till,
            asks=[LineAsk(quantity=1, reason="fit", order_line=till.lines.get())],
            store=net["s1"],
            by=clerk,
            return_ref="R-ANON",
            refund_to="store_credit",
        )
    assert refused.value.extra["field"] == "refund_to"
    assert not Return.objects.exists() and not Refund.objects.exists()
    assert not StoreCreditEntry.objects.exists()
    assert OrderLine.objects.get(order=till).claimed_quantity == 0
