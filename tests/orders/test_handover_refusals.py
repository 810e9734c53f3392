"""Units a customer refuses at a pickup's hand-over were never theirs: the hand-over
sells only what is taken, releases the refused units to the store's shelf (available
again at once), counts them cancelled and refunds their exact value to the tender —
no return needed. Paid at the counter, only the taken units are paid for."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import MovementKind, StockLevel, StockMovement
from orders import pickup, services
from orders.models import OrderEvent, OrderLine, Payment, Refund, State
from orders.pickup.counter import PaymentDue
from orders.returning import returnable_units
from orders.services import LineInput, OrderInput
from returns import services as returns
from returns.models import Return
from returns.services import LineAsk
from tests import factories
from tests.orders.pickups import make_ready, network
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import assert_matches_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def net(store):
    return network(store, shelf_units=5)


def place(store, lines, *, ref="WEB-R1", discount=Decimal("0.00"), pay_at_pickup=False):
    total = sum((v.price * q for v, q in lines), Decimal("0.00")) - discount
    order, _created = services.order_place(
        OrderInput(
            order_ref=ref,
            channel="kiosk" if pay_at_pickup else "web",
            customer=factories.CustomerFactory(),
            lines=[LineInput(v, q, v.price) for v, q in lines],
            method="pickup",
            store=store,
            discount=discount,
            tender="" if pay_at_pickup else "card",
            amount=Decimal("0.00") if pay_at_pickup else total,
            pay_at_pickup=pay_at_pickup,
        )
    )
    return order


def ready(order, store, by):
    f = order.fulfillments.get()
    make_ready(f, store, by)
    f.refresh_from_db()
    return f


def sold(variant, location) -> int:
    return -sum(
        StockMovement.objects.filter(
            kind=MovementKind.SALE, variant=variant, location=location
        ).values_list("on_hand_delta", flat=True)
    )


def level(variant, location):
    return StockLevel.objects.get(variant=variant, location=location)


def test_a_refusal_sells_only_what_is_taken_releases_and_refunds_the_rest(
    net, store, associate, assert_ledger_reconciles
):
    jumper, scarf, shelf = net["jumper"], net["scarf"], net["shelf"]
    # 120.00 + 60.00 less 18.00: the jumpers carry 12.00 of it (54.00 a unit), the
    # scarves 6.00 (18.00 a unit).
    order = place(store, [(jumper, 2), (scarf, 3)], discount=Decimal("18.00"))
    Payment.objects.filter(order=order).delete()  # paid 100.00 by card, 62.00 in cash
    Payment.objects.create(order=order, tender="cash", amount=Decimal("62.00"))
    Payment.objects.create(order=order, tender="card", amount=Decimal("100.00"))
    f = ready(order, store, associate)
    fl = {x.order_line.sku: x for x in f.lines.select_related("order_line")}
    pickup.pickup_hand_over(
        fulfillment=f,
        code=f.pickup_code,
        by=associate,
        store=store,
        refusals={fl[jumper.sku].pk: (1, "too big"), fl[scarf.sku].pk: (2, "wrong colour")},
    )
    f.refresh_from_db()
    assert f.state == State.COLLECTED
    # The ledger sold the taken units only; the refused ones are back on the shelf.
    assert (sold(jumper, shelf), sold(scarf, shelf)) == (1, 1)
    for variant in (jumper, scarf):
        stock = level(variant, shelf)
        assert (stock.on_hand, stock.reserved, stock.available) == (4, 0, 4)
    released = StockMovement.objects.filter(kind=MovementKind.RELEASE, location=shelf)
    assert sorted(released.values_list("variant__sku", "quantity")) == sorted(
        [(jumper.sku, 1), (scarf.sku, 2)]
    )
    # Counted cancelled, never received: a return cannot claim them.
    lines = {line.sku: line for line in OrderLine.objects.filter(order=order)}
    assert (lines[jumper.sku].cancelled_quantity, lines[jumper.sku].received_quantity) == (1, 1)
    assert (lines[scarf.sku].cancelled_quantity, lines[scarf.sku].received_quantity) == (2, 1)
    assert returnable_units(lines[jumper.sku]) == 1 and returnable_units(lines[scarf.sku]) == 1
    # Their exact value back (54.00 + 2 × 18.00), card first, no return involved.
    refunds = list(Refund.objects.filter(order=order))
    assert [(r.tender, r.amount, r.return_ref) for r in refunds] == [("card", Decimal("90.00"), "")]
    assert refunds[0].source == f"fulfillment:{f.pk}"
    assert not Return.objects.exists()
    assert OrderEvent.objects.filter(order=order, kind="line_refused").count() == 2
    # Available again at once: another customer's order takes the refused jumper.
    other = place(store, [(jumper, 4)], ref="WEB-R2")
    assert other.fulfillments.get().location == shelf
    # The order GET shows it.
    _client, key = factories.api_client("orders:read")
    read = ApiClientHelper(key).get(f"/api/v1/orders/{order.order_ref}/")
    assert_matches_schema(read, "GET", "/api/v1/orders/{order_ref}/")
    shape = read.json()
    got = {x["sku"]: x for x in shape["lines"]}
    assert (got[jumper.sku]["cancelled_quantity"], got[scarf.sku]["cancelled_quantity"]) == (1, 2)
    assert [r["amount"] for r in shape["refunds"]] == ["90.00"]
    assert shape["refunds"][0]["reason"].startswith("refused at hand-over")
    assert "return_ref" not in shape["refunds"][0]
    assert shape["fulfillments"][0]["state"] == "collected"
    assert_ledger_reconciles()


def test_the_refused_units_cannot_be_returned_and_the_taken_ones_refund_the_rest(
    net, store, associate, assert_ledger_reconciles
):
    jumper = net["jumper"]
    order = place(store, [(jumper, 3)], discount=Decimal("80.00"))  # 100.00: 33.33 a unit
    f = ready(order, store, associate)
    pickup.pickup_hand_over(
        fulfillment=f,
        code=f.pickup_code,
        by=associate,
        store=store,
        refusals={f.lines.get().pk: (2, "changed mind")},
    )
    assert [r.amount for r in Refund.objects.filter(order=order)] == [Decimal("66.66")]
    line = OrderLine.objects.get(
        order=order,
    )
    with pytest.raises(returns.NotReturnable):
        returns.return_at_counter(
            order=order,
            asks=[LineAsk(quantity=2, reason="fit", order_line=line)],
            store=store,
            by=associate,
            return_ref="R-TOO-MANY",
        )
    ret, _c = returns.return_at_counter(
        order=order,
        asks=[LineAsk(quantity=1, reason="fit", order_line=line)],
        store=store,
        by=associate,
        return_ref="R-LAST",
    )
    assert ret.refund_amount == Decimal("33.34")  # the line's last unit: the remainder
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == Decimal("100.00")
    assert level(jumper, net["shelf"]).available == 5
    assert_ledger_reconciles()


def test_paid_at_the_counter_a_refusal_takes_payment_for_the_taken_units_only(
    net, store, associate, assert_ledger_reconciles
):
    jumper, scarf = net["jumper"], net["scarf"]
    order = place(store, [(jumper, 2), (scarf, 1)], ref="K-S01-ABC", pay_at_pickup=True)
    assert not Payment.objects.filter(order=order).exists()
    f = ready(order, store, associate)
    fl = {x.order_line.sku: x for x in f.lines.select_related("order_line")}
    refusals = {fl[jumper.sku].pk: (1, "too big")}
    assert pickup.amount_due(order, f, refusals) == Decimal("80.00")
    with pytest.raises(PaymentDue) as due:
        pickup.pickup_hand_over(
            fulfillment=f, code=f.pickup_code, by=associate, store=store, refusals=refusals
        )
    assert due.value.extra["amount"] == "80.00"
    f.refresh_from_db()
    assert f.state == State.READY and not StockMovement.objects.filter(kind="sale").exists()
    pickup.pickup_hand_over(
        fulfillment=f,
        code=f.pickup_code,
        by=associate,
        store=store,
        refusals=refusals,
        tender="cash",
    )
    assert [(p.tender, p.amount) for p in Payment.objects.filter(order=order)] == [
        ("cash", Decimal("80.00"))
    ]
    assert not Refund.objects.filter(order=order).exists()  # nothing paid for the refused
    assert OrderLine.objects.get(order=order, sku=jumper.sku).cancelled_quantity == 1
    assert (sold(jumper, net["shelf"]), sold(scarf, net["shelf"])) == (1, 1)
    assert level(jumper, net["shelf"]).available == 4
    # Returning what was taken gives back what was paid for it, not more.
    ret, _c = returns.return_at_counter(
        order=order,
        asks=[
            LineAsk(
                quantity=1,
                reason="fit",
                order_line=OrderLine.objects.get(order=order, sku=jumper.sku),
            ),
            LineAsk(
                quantity=1,
                reason="fit",
                order_line=OrderLine.objects.get(order=order, sku=scarf.sku),
            ),
        ],
        store=store,
        by=associate,
        return_ref="R-K",
    )
    assert ret.refund_amount == Decimal("80.00")
    assert [(r.tender, r.amount) for r in Refund.objects.filter(order=order)] == [
        ("cash", Decimal("80.00"))
    ]
    assert_ledger_reconciles()
