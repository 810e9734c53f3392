"""Placing, cancelling and moving orders through their services."""

from decimal import Decimal

import pytest

from inventory.models import StockLevel, StockMovement
from orders import services
from orders.models import Fulfillment, Order, OrderEvent, Refund, State
from orders.services import LineInput, OrderInput
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def net(store, other_store):
    dc = factories.StockLocationFactory(code="DC1")
    s01 = factories.store_location(store)
    s02 = factories.store_location(other_store, ships_to_customers=True)
    cat = factories.CategoryFactory(code="tops", tax_rate=Decimal("20.00"))
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("60.00"), product__category=cat)
    scarf = factories.VariantFactory(sku="SCARF", price=Decimal("20.00"), product__category=cat)
    customer = factories.CustomerFactory()
    return {
        "dc": dc,
        "s01": s01,
        "s02": s02,
        "jumper": jumper,
        "scarf": scarf,
        "customer": customer,
    }


def order_input(
    net, ref="WEB-1", method="pickup", store=None, lines=None, discount="0", amount=None, **kw
):
    lines = lines or [(net["jumper"], 1, Decimal("60.00"))]
    total = sum(p * q for _v, q, p in lines) - Decimal(discount)
    return OrderInput(
        order_ref=ref,
        channel="web",
        customer=net["customer"],
        lines=[LineInput(v, q, p) for v, q, p in lines],
        method=method,
        store=store,
        address=kw.pop("address", None),
        discount=Decimal(discount),
        tender="card",
        amount=total if amount is None else Decimal(amount),
        payment_reference="psp-1",
        fingerprint=kw.pop("fingerprint", "f1"),
        **kw,
    )


def test_pickup_from_the_shelf_reserves_stock_and_records_events(
    net, store, assert_ledger_reconciles
):
    factories.give_stock(net["s01"], net["jumper"], 3)
    order, created = services.order_place(order_input(net, store=store))
    assert created
    fulfillment = order.fulfillments.get()
    assert (fulfillment.method, fulfillment.state, fulfillment.location) == (
        "pickup",
        "reserved",
        net["s01"],
    )
    assert StockLevel.objects.get(location=net["s01"], variant=net["jumper"]).reserved == 1
    assert list(order.events.values_list("kind", flat=True)) == [
        "order_placed",
        "fulfillment_created",
    ]
    from retail.models import OutboxEntry

    assert OutboxEntry.objects.filter(name="order_placed").count() == 1
    assert_ledger_reconciles()


def test_same_order_ref_and_body_returns_the_existing_order(net, store):
    factories.give_stock(net["s01"], net["jumper"], 3)
    first, _ = services.order_place(order_input(net, store=store))
    for _attempt in range(3):
        again, created = services.order_place(order_input(net, store=store))
        assert (again.pk, created) == (first.pk, False)
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(location=net["s01"], variant=net["jumper"]).reserved == 1


def test_same_order_ref_with_another_body_is_a_conflict(net, store):
    factories.give_stock(net["s01"], net["jumper"], 3)
    services.order_place(order_input(net, store=store))
    with pytest.raises(services.OrderRefConflict):
        services.order_place(order_input(net, store=store, fingerprint="other"))


def test_insufficient_stock_reserves_nothing(net, store, assert_ledger_reconciles):
    factories.give_stock(net["s01"], net["jumper"], 1)
    with pytest.raises(services.OutOfStock) as info:
        services.order_place(
            order_input(
                net,
                store=store,
                lines=[(net["jumper"], 1, Decimal("60.00")), (net["scarf"], 1, Decimal("20.00"))],
            )
        )
    assert info.value.extra["skus"] == ["SCARF"]
    assert not Order.objects.exists()
    assert StockLevel.objects.get(location=net["s01"], variant=net["jumper"]).reserved == 0
    assert_ledger_reconciles()


def test_price_above_catalog_and_wrong_payment_are_refused(net, store):
    factories.give_stock(net["s01"], net["jumper"], 3)
    with pytest.raises(services.PriceMismatch):
        services.order_place(
            order_input(net, store=store, lines=[(net["jumper"], 1, Decimal("61.00"))])
        )
    with pytest.raises(services.PaymentMismatch):
        services.order_place(order_input(net, store=store, amount="59.00"))
    assert not Order.objects.exists()


def test_discount_is_shared_by_value_with_tax_shares(net, store):
    factories.give_stock(net["s01"], net["jumper"], 3)
    factories.give_stock(net["s01"], net["scarf"], 3)
    order, _ = services.order_place(
        order_input(
            net,
            store=store,
            lines=[(net["jumper"], 1, Decimal("60.00")), (net["scarf"], 2, Decimal("20.00"))],
            discount="10.00",
        )
    )
    jumper_line, scarf_line = order.lines.order_by("pk")
    assert (jumper_line.discount_share, scarf_line.discount_share) == (
        Decimal("6.00"),
        Decimal("4.00"),
    )
    assert (jumper_line.line_total, scarf_line.line_total) == (Decimal("54.00"), Decimal("36.00"))
    assert jumper_line.tax_amount == Decimal("9.00")  # 54 × 20/120
    assert order.total == Decimal("90.00")


def test_cancel_releases_stock_and_records_the_refund(net, store, assert_ledger_reconciles):
    factories.give_stock(net["s01"], net["jumper"], 3)
    order, _ = services.order_place(order_input(net, store=store))
    services.order_cancel(order=order, by=None)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert StockLevel.objects.get(location=net["s01"], variant=net["jumper"]).reserved == 0
    assert Refund.objects.get(order=order).amount == Decimal("60.00")
    # Already cancelled: unchanged.
    services.order_cancel(order=order, by=None)
    assert Refund.objects.count() == 1
    assert_ledger_reconciles()


def test_cancel_after_hand_over_is_refused(net, store, assert_ledger_reconciles):
    factories.give_stock(net["s01"], net["jumper"], 3)
    order, _ = services.order_place(order_input(net, store=store))
    f = order.fulfillments.get()
    for state in (State.PICKING, State.READY, State.COLLECTED):
        services.fulfillment_transition(fulfillment=f, to=state, by=None)
    order.refresh_from_db()
    assert order.status == "completed"
    with pytest.raises(services.NotCancellable):
        services.order_cancel(order=order, by=None)
    level = StockLevel.objects.get(location=net["s01"], variant=net["jumper"])
    assert (level.on_hand, level.reserved) == (2, 0)
    assert_ledger_reconciles()


def test_transitions_outside_the_state_machine_are_refused(net, store):
    factories.give_stock(net["s01"], net["jumper"], 3)
    order, _ = services.order_place(order_input(net, store=store))
    f = order.fulfillments.get()
    with pytest.raises(services.TransitionRefused):
        services.fulfillment_transition(fulfillment=f, to=State.COLLECTED, by=None)
    # The same state again is a harmless repeat.
    services.fulfillment_transition(fulfillment=f, to=State.PICKING, by=None)
    services.fulfillment_transition(fulfillment=f, to=State.PICKING, by=None)
    assert OrderEvent.objects.filter(kind="fulfillment_changed").count() == 1


def test_ship_to_store_travels_and_is_collected_with_ledger_rows_at_each_location(
    net, store, assert_ledger_reconciles
):
    factories.give_stock(net["dc"], net["jumper"], 5)
    order, _ = services.order_place(order_input(net, store=store))
    f = order.fulfillments.get()
    assert (f.method, f.location, f.pickup_store) == ("ship_to_store", net["dc"], store)
    for state in (State.IN_TRANSIT, State.RECEIVED, State.PICKING, State.READY, State.COLLECTED):
        f = services.fulfillment_transition(fulfillment=f, to=state, by=None)
    kinds = list(
        StockMovement.objects.filter(variant=net["jumper"])
        .order_by("pk")
        .values_list("kind", "location__code")
    )
    assert kinds == [
        ("receipt", "DC1"),
        ("reservation", "DC1"),
        ("transfer_out", "DC1"),
        ("transfer_in", "S01"),
        ("sale", "S01"),
    ]
    assert_ledger_reconciles()


def test_delivery_from_a_store_and_a_supplier(net, assert_ledger_reconciles):
    supplier = factories.StockLocationFactory(code="SUP", kind="supplier", receives_transfers=False)
    factories.give_stock(net["s02"], net["jumper"], 2)
    factories.give_stock(supplier, net["scarf"], 9)
    order, _ = services.order_place(
        order_input(
            net,
            method="ship",
            lines=[(net["jumper"], 1, Decimal("60.00")), (net["scarf"], 1, Decimal("20.00"))],
            address={
                "name": "A",
                "line1": "1 Rue Mercière",
                "city": "Lyon",
                "postcode": "69002",
                "country": "FR",
            },
        )
    )
    methods = sorted(order.fulfillments.values_list("method", "location__code"))
    assert methods == [("drop_ship", "SUP"), ("ship_from_store", "S02")]
    for f in order.fulfillments.all():
        path = [State.SHIPPED, State.DELIVERED]
        if f.method == "ship_from_store":
            path = [State.PICKING, State.PACKED, *path]
        for state in path:
            f = services.fulfillment_transition(fulfillment=f, to=state, by=None)
    order.refresh_from_db()
    assert order.status == "completed"
    assert_ledger_reconciles()


def test_till_sale_takes_reserved_units_and_resources_the_other_order(
    net, store, assert_ledger_reconciles
):
    factories.give_stock(net["s01"], net["jumper"], 1)
    factories.give_stock(net["dc"], net["jumper"], 5)
    web, _ = services.order_place(order_input(net, ref="WEB-1", store=store))
    assert web.fulfillments.get().location == net["s01"]
    till = order_input(net, ref="TILL-1", method="carry_out", store=store)
    till.customer = None
    till_order, _ = services.order_place(till)
    assert till_order.status == "completed"
    # The web order lost its shelf unit and is now sourced from the DC.
    live = web.fulfillments.exclude(state="cancelled").get()
    assert (live.method, live.location, live.state) == ("ship_to_store", net["dc"], "reserved")
    assert web.events.filter(reason__contains="re-sourced").exists()
    level = StockLevel.objects.get(location=net["s01"], variant=net["jumper"])
    assert (level.on_hand, level.reserved) == (0, 0)
    assert_ledger_reconciles()


def test_count_below_reserved_cancels_with_refund_when_nothing_is_anywhere(
    net, store, assert_ledger_reconciles
):
    from inventory import services as stock

    factories.give_stock(net["s01"], net["jumper"], 1)
    order, _ = services.order_place(order_input(net, store=store))
    stock.stock_count(location=net["s01"], variant=net["jumper"], counted=0, by=None)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Refund.objects.get(order=order).amount == Decimal("60.00")
    assert order.lines.get().cancelled_quantity == 1
    assert_ledger_reconciles()


def test_ship_to_store_cannot_be_cancelled_in_transit(net, store):
    factories.give_stock(net["dc"], net["jumper"], 5)
    order, _ = services.order_place(order_input(net, store=store))
    services.fulfillment_transition(
        fulfillment=order.fulfillments.get(), to=State.IN_TRANSIT, by=None
    )
    with pytest.raises(services.NotCancellable):
        services.order_cancel(order=order, by=None)
    assert Fulfillment.objects.get().state == "in_transit"
