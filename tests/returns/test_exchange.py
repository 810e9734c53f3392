"""Exchanges at the counter: a return turned into a new order, paid first by what the
return refunds (as store credit, spent in the same transaction), the difference
charged with any tender or refunded by the returns rules; refused with nothing
written when it cannot be made; the exchange order is an ordinary order."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clienteling.models import SalesCredit
from inventory.models import MovementKind, StockLevel, StockMovement
from orders import credit
from orders import services as order_services
from orders.errors import OrderError
from orders.models import Method, Order, Payment, Refund, State
from orders.pickup.queue import pickups_at
from orders.shipping import ship_queue
from retail.models import OutboxEntry, OutboxKind
from returns import exchange
from returns.exchange import ExchangeAsk, ExchangeItem
from returns.models import Return, ReturnEvent, ReturnState
from returns.services import LineAsk, NotAllowed
from tests import factories
from tests.returns import world

pytestmark = pytest.mark.django_db

C = Decimal


@pytest.fixture
def net():
    net = world.network()
    jumper = net["jumper"]
    # Another size of the jumper: on the Soho shelf; a dearer one only in Lyon; a
    # size nobody stocks; and a dearer coat from the endless aisle on the Soho shelf.
    net["large"] = factories.VariantFactory(
        product=jumper.product, sku="JUMPER-L", size="L", price=C("60.00")
    )
    net["xl"] = factories.VariantFactory(
        product=jumper.product, sku="JUMPER-XL", size="XL", price=C("65.00")
    )
    net["xxl"] = factories.VariantFactory(
        product=jumper.product, sku="JUMPER-XXL", size="XXL", price=C("60.00")
    )
    net["coat"] = factories.VariantFactory(
        sku="COAT-1", price=C("85.50"), product__category=jumper.product.category
    )
    factories.give_stock(net["shelf1"], net["large"], 3)
    factories.give_stock(net["shelf2"], net["xl"], 2)
    factories.give_stock(net["shelf1"], net["coat"], 2)
    return net


@pytest.fixture
def clerk(net):
    return factories.StaffFactory(role="associate", home_store=net["s1"])


@pytest.fixture
def order(net):
    return world.delivered([(net["jumper"], 1)], ref="WEB-X1")


def on_hand(location, variant) -> int:
    level = StockLevel.objects.filter(location=location, variant=variant).first()
    return level.on_hand if level else 0


def asks(order, units=1):
    return [LineAsk(quantity=units, reason="size", order_line=order.lines.get())]


def do_exchange(order, net, clerk, variant, *, method="carry_out", tender="card", **kw):
    return exchange.exchange_at_counter(
        order=order,
        asks=asks(order),
        store=net["s1"],
        by=clerk,
        return_ref=kw.pop("return_ref", "R-" + "a" * 32),
        want=ExchangeAsk(
            items=[ExchangeItem(variant, kw.pop("quantity", 1))],
            method=method,
            tender=tender,
            address=kw.pop("address", None),
        ),
        **kw,
    )


def counts():
    return (
        Return.objects.count(),
        Order.objects.count(),
        Refund.objects.count(),
        Payment.objects.count(),
        StockMovement.objects.count(),
        ReturnEvent.objects.count(),
    )


def customer_tender_refunds(order):
    """Refunds that go back to a payment (not onto store credit)."""
    return list(
        Refund.objects.filter(order=order, to_store_credit=False)
        .exclude(tender=credit.TENDER)
        .values_list("tender", "amount")
    )


# --- Money ----------------------------------------------------------------------------


def test_an_even_swap_from_the_shelf_moves_no_money_and_moves_stock_through_the_ledger(
    net, clerk, order, assert_ledger_reconciles
):
    jumper_before = on_hand(net["shelf1"], net["jumper"])
    large_before = on_hand(net["shelf1"], net["large"])
    ret, created = do_exchange(order, net, clerk, net["large"])
    assert created and ret.state == ReturnState.COMPLETED
    new = ret.exchange_order
    assert new is not None and new.channel == "store" and new.total == C("60.00")
    assert new.order_ref == f"S01-X{ret.pk}"
    assert (new.placed_by, new.credited_to) == (clerk, clerk)
    assert list(new.payments.values_list("tender", "amount")) == [("store_credit", C("60.00"))]
    # The return's refund went onto store credit and was spent at once: no customer
    # tender was refunded or charged, and the balance is where it started.
    assert customer_tender_refunds(order) == []
    assert list(Refund.objects.filter(order=order).values_list("amount", "to_store_credit")) == [
        (C("60.00"), True)
    ]
    assert credit.credit_balance(order.customer) == C("0.00")
    [f] = new.fulfillments.all()
    assert (f.method, f.state, f.location) == (Method.CARRY_OUT, State.COLLECTED, net["shelf1"])
    # Stock: the returned unit back on the shelf, the new one sold from it.
    assert on_hand(net["shelf1"], net["jumper"]) == jumper_before + 1
    assert on_hand(net["shelf1"], net["large"]) == large_before - 1
    assert StockMovement.objects.filter(
        variant=net["jumper"], location=net["shelf1"], kind=MovementKind.RETURN, quantity=1
    ).exists()
    assert StockMovement.objects.filter(
        variant=net["large"], location=net["shelf1"], kind=MovementKind.SALE, on_hand_delta=-1
    ).exists()
    # The new order's domain event is recorded as for any order.
    assert OutboxEntry.objects.filter(
        kind=OutboxKind.EVENT, name="order_placed", payload__order_ref=new.order_ref
    ).exists()
    event = ReturnEvent.objects.get(ret=ret, kind="return_exchanged")
    assert new.order_ref in event.reason and event.by == clerk
    view = exchange.exchange_view(ret)
    assert (view.credit, view.charged, view.refunded, view.even) == (
        C("60.00"),
        C("0.00"),
        C("0.00"),
        True,
    )
    assert_ledger_reconciles()


def test_a_dearer_item_charges_exactly_the_difference_on_the_chosen_tender(
    net, clerk, order, assert_ledger_reconciles
):
    ret, _created = do_exchange(order, net, clerk, net["coat"], tender="cash")
    new = ret.exchange_order
    assert new.total == C("85.50")
    payments = sorted(new.payments.values_list("tender", "amount"))
    assert payments == [("cash", C("25.50")), ("store_credit", C("60.00"))]
    assert customer_tender_refunds(order) == []
    assert credit.credit_balance(order.customer) == C("0.00")
    view = exchange.exchange_view(ret)
    assert (view.charged, view.charged_tenders, view.refunded) == (
        C("25.50"),
        [("cash", C("25.50"))],
        C("0.00"),
    )
    assert_ledger_reconciles()


def test_a_cheaper_item_refunds_exactly_the_rest_to_the_original_payment(
    net, clerk, order, assert_ledger_reconciles
):
    ret, _created = do_exchange(order, net, clerk, net["scarf"])
    assert ret.refund_amount == C("60.00")
    new = ret.exchange_order
    assert list(new.payments.values_list("tender", "amount")) == [("store_credit", C("20.00"))]
    # 20.00 paid the scarf (through store credit), 40.00 went back to the card.
    assert customer_tender_refunds(order) == [("card", C("40.00"))]
    assert Refund.objects.filter(order=order, to_store_credit=True).get().amount == C("20.00")
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == C("60.00")
    assert credit.credit_balance(order.customer) == C("0.00")
    assert exchange.exchange_view(ret).refunded == C("40.00")
    assert_ledger_reconciles()


def test_a_cheaper_item_refunds_the_rest_as_store_credit_when_chosen(net, clerk, order):
    ret, _created = do_exchange(order, net, clerk, net["scarf"], refund_to="store_credit")
    assert customer_tender_refunds(order) == []
    assert credit.credit_balance(order.customer) == C("40.00")
    assert exchange.exchange_view(ret).refunded == C("40.00")


def test_a_difference_paid_in_store_credit_draws_on_the_balance(net, clerk, order):
    credit.credit_issue(customer=order.customer, amount=C("30.00"), reason="goodwill")
    ret, _created = do_exchange(order, net, clerk, net["coat"], tender="store_credit")
    assert sorted(ret.exchange_order.payments.values_list("tender", "amount")) == [
        ("store_credit", C("25.50")),
        ("store_credit", C("60.00")),
    ]
    assert credit.credit_balance(order.customer) == C("4.50")


# --- Sourcing and queues ---------------------------------------------------------------


def test_another_size_sourced_from_another_store_lands_in_both_stores_queues(
    net, clerk, order, assert_ledger_reconciles
):
    ret, _created = do_exchange(order, net, clerk, net["xl"], method="pickup")
    new = ret.exchange_order
    [f] = new.fulfillments.all()
    assert (f.method, f.location, f.pickup_store, f.state) == (
        Method.SHIP_TO_STORE,
        net["shelf2"],
        net["s1"],
        State.RESERVED,
    )
    assert f in ship_queue(net["s2"])["send"]  # Lyon sends it
    assert pickups_at(net["s1"]).filter(pk=f.pk).exists()  # Soho hands it over
    assert StockLevel.objects.get(location=net["shelf2"], variant=net["xl"]).reserved == 1
    assert sorted(new.payments.values_list("tender", "amount")) == [
        ("card", C("5.00")),
        ("store_credit", C("60.00")),
    ]
    assert_ledger_reconciles()


def test_an_exchange_shipped_to_the_customer_needs_an_address(net, clerk, order):
    before = counts()
    with pytest.raises(exchange.ExchangeRefused, match="postcode"):
        do_exchange(order, net, clerk, net["large"], method="ship", address={"name": "Ada"})
    assert counts() == before
    ret, _c = do_exchange(order, net, clerk, net["scarf"], method="ship", address=world.ADDRESS)
    [f] = ret.exchange_order.fulfillments.all()
    assert f.method in (Method.SHIP_TO_HOME, Method.SHIP_FROM_STORE, Method.DROP_SHIP)


# --- Refusals: nothing written ---------------------------------------------------------


def test_an_item_out_of_stock_everywhere_is_refused_with_nothing_written(net, clerk, order):
    before = counts()
    balance = credit.credit_balance(order.customer)
    with pytest.raises(exchange.ExchangeUnavailable) as exc:
        do_exchange(order, net, clerk, net["xxl"], method="pickup")
    assert exc.value.status == 409 and exc.value.extra["skus"] == ["JUMPER-XXL"]
    assert counts() == before
    assert credit.credit_balance(order.customer) == balance
    assert order.lines.get().claimed_quantity == 0
    # Not on this shelf for a carry-out either.
    with pytest.raises(exchange.ExchangeUnavailable):
        do_exchange(order, net, clerk, net["xl"], method="carry_out")
    assert counts() == before


def test_store_credit_beyond_the_balance_is_refused_with_nothing_written(net, clerk, order):
    credit.credit_issue(customer=order.customer, amount=C("10.00"), reason="goodwill")
    before = counts()
    with pytest.raises(credit.InsufficientCredit, match=r"balance is €10\.00"):
        do_exchange(order, net, clerk, net["coat"], tender="store_credit")
    assert counts() == before
    assert credit.credit_balance(order.customer) == C("10.00")


def test_a_tender_the_customer_cannot_use_is_refused(net, clerk, order):
    before = counts()
    with pytest.raises(exchange.ExchangeRefused, match="pays the difference"):
        do_exchange(order, net, clerk, net["coat"], tender="voucher")
    assert counts() == before


def test_a_till_sale_without_a_customer_cannot_become_an_exchange(net, clerk):
    order, _c = order_services.order_place(
        order_services.OrderInput(
            order_ref="TILL-1",
            channel="store",
            customer=None,
            lines=[order_services.LineInput(net["jumper"], 1, C("60.00"))],
            method="carry_out",
            store=net["s1"],
            tender="cash",
            amount=C("60.00"),
        )
    )
    before = counts()
    with pytest.raises(exchange.ExchangeRefused, match="needs a customer"):
        do_exchange(order, net, clerk, net["large"])
    assert counts() == before


def test_units_that_cannot_be_returned_are_refused_with_nothing_written(net, clerk, order):
    do_exchange(order, net, clerk, net["large"])
    before = counts()
    with pytest.raises(OrderError) as exc:
        do_exchange(order, net, clerk, net["large"], return_ref="R-" + "b" * 32)
    assert exc.value.code == "not_returnable"
    assert counts() == before


def test_a_return_waiting_for_a_manager_cannot_become_an_exchange(net, clerk):
    big = world.delivered([(net["jumper"], 9)], ref="WEB-BIG")
    before = counts()
    with pytest.raises(exchange.ExchangeRefused, match="approval"):
        exchange.exchange_at_counter(
            order=big,
            asks=asks(big, units=9),
            store=net["s1"],
            by=clerk,
            return_ref="R-" + "c" * 32,
            want=ExchangeAsk(items=[ExchangeItem(net["large"], 1)]),
        )
    assert counts() == before


def test_an_associate_of_another_store_cannot_exchange_here(net, order):
    lyon = factories.StaffFactory(role="associate", home_store=net["s2"])
    before = counts()
    with pytest.raises(NotAllowed):
        do_exchange(order, net, lyon, net["large"])
    assert counts() == before


# --- Afterwards ---------------------------------------------------------------------------


def test_a_cancelled_exchange_order_refunds_by_the_order_rules_and_leaves_the_return(
    net, clerk, order
):
    ret, _created = do_exchange(order, net, clerk, net["xl"], method="pickup")
    before = (ret.state, ret.refund_amount, list(Refund.objects.filter(order=order).values()))
    order_services.order_cancel(order=ret.exchange_order, by=clerk, reason="changed mind")
    new = Order.objects.get(pk=ret.exchange_order_id)
    assert new.status == "cancelled"
    # The card gets its 5.00 back, the store credit its 60.00 (restored to the balance).
    assert sorted(Refund.objects.filter(order=new).values_list("tender", "amount")) == [
        ("card", C("5.00")),
        ("store_credit", C("60.00")),
    ]
    assert credit.credit_balance(order.customer) == C("60.00")
    assert StockLevel.objects.get(location=net["shelf2"], variant=net["xl"]).reserved == 0
    ret.refresh_from_db()
    after = (ret.state, ret.refund_amount, list(Refund.objects.filter(order=order).values()))
    assert after == before


def test_the_associate_is_credited_with_the_exchange_order(
    net, clerk, order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ret, _created = do_exchange(order, net, clerk, net["coat"])
    [sale] = SalesCredit.objects.filter(order=ret.exchange_order)
    assert (sale.associate, sale.amount, sale.share) == (clerk, C("85.50"), C("100"))


def test_the_same_exchange_sent_twice_places_one_order(net, clerk, order):
    first, created = do_exchange(order, net, clerk, net["large"])
    again, created_again = do_exchange(order, net, clerk, net["large"])
    assert (created, created_again) == (True, False) and again.pk == first.pk
    assert Order.objects.filter(channel="store").count() == 1


# --- The pages --------------------------------------------------------------------------


def _form(order, *, ref="R-" + "d" * 32, refund_to="original", **x) -> dict:
    line = order.lines.get()
    data = {
        "return_ref": ref,
        "refund_to": refund_to,
        f"l{line.pk}_qty": "1",
        f"l{line.pk}_reason": "size",
        f"l{line.pk}_disp": "restock",
    }
    data.update({f"x_{k}": v for k, v in x.items()})
    return data


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def test_the_exchange_page_lists_other_sizes_and_aisle_matches_then_confirms_once(
    net, clerk_client, order
):
    url = reverse("returns_store:order_exchange", args=[order.pk])
    page = clerk_client.post(url, _form(order, step="choose"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="JUMPER-L"' in html and 'value="JUMPER-XL"' in html
    assert 'value="COAT-1"' not in html
    found = clerk_client.post(url, _form(order, step="choose", q="COAT-1"))
    assert 'value="COAT-1"' in found.content.decode()
    preview = clerk_client.post(url, _form(order, step="preview", sku="COAT-1", method="carry_out"))
    text = preview.content.decode()
    assert re.search(r'id="quote-charged">€25.50<', text)
    assert Return.objects.count() == 0
    data = _form(order, step="confirm", sku="COAT-1", method="carry_out", tender="card")
    done = clerk_client.post(url, data)
    ret = Return.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "returns_store:detail", args=[ret.pk]
    )
    assert clerk_client.post(url, data).status_code == 302  # a double tap: one order
    assert Order.objects.filter(channel="store").count() == 1
    detail = clerk_client.get(done["Location"]).content.decode()
    assert ret.exchange_order.order_ref in detail
    assert re.search(r'id="exchange-charged">€25.50<', detail)
    receipt = clerk_client.get(reverse("returns_store:receipt", args=[ret.pk])).content.decode()
    assert ret.exchange_order.order_ref in receipt


def test_the_page_refuses_an_item_nobody_has_with_409_and_writes_nothing(net, clerk_client, order):
    url = reverse("returns_store:order_exchange", args=[order.pk])
    before = counts()
    preview = clerk_client.post(
        url, _form(order, step="preview", sku="JUMPER-XXL", method="pickup")
    )
    assert preview.status_code == 200 and 'id="quote-unavailable"' in preview.content.decode()
    response = clerk_client.post(
        url, _form(order, step="confirm", sku="JUMPER-XXL", method="pickup")
    )
    assert response.status_code == 409
    assert "cannot be had anywhere" in response.content.decode()
    assert counts() == before


def test_the_page_refuses_credit_beyond_the_balance_with_409(net, clerk_client, order):
    url = reverse("returns_store:order_exchange", args=[order.pk])
    before = counts()
    data = _form(order, step="confirm", sku="COAT-1", method="carry_out", tender="store_credit")
    response = clerk_client.post(url, data)
    assert response.status_code == 409
    assert "Not enough store credit" in response.content.decode()
    bad = clerk_client.post(url, {**data, "x_tender": "bitcoin"})
    assert bad.status_code == 400
    assert counts() == before


def test_the_exchange_page_is_for_store_staff_only(net, client, order):
    url = reverse("returns_store:order_exchange", args=[order.pk])
    data = _form(order, step="confirm", sku="JUMPER-L")
    before = counts()
    anonymous = client.post(url, data)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(factories.StaffFactory(role="kiosk", home_store=net["s1"]))
    assert client.post(url, data).status_code == 403
    assert counts() == before


def test_the_exchange_needs_the_csrf_token(net, clerk, order):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(clerk)
    url = reverse("returns_store:order_exchange", args=[order.pk])
    before = counts()
    response = csrf_client.post(url, _form(order, step="confirm", sku="JUMPER-L"))
    assert response.status_code == 403
    assert counts() == before


def test_the_exchange_page_and_the_return_page_run_a_fixed_number_of_queries(
    net, clerk, clerk_client, order
):
    url = reverse("returns_store:order_exchange", args=[order.pk])
    data = _form(order, step="preview", sku="JUMPER-L", q="jumper", method="pickup")

    def measure(target, payload=None):
        send = (lambda: clerk_client.post(target, payload)) if payload else None
        send = send or (lambda: clerk_client.get(target))
        send()  # warm the process caches (catalog index, network)
        with CaptureQueriesContext(connection) as queries:
            assert send().status_code == 200
        return len(queries)

    small = measure(url, data)
    for i in range(8):
        more = factories.VariantFactory(
            product=net["jumper"].product, sku=f"JUMPER-{i}", size=str(i), price=C("60.00")
        )
        factories.give_stock(net["shelf2"], more, 1)
        factories.give_stock(net["dc"], more, 1)
    big = measure(url, data)
    assert 'value="JUMPER-7"' in clerk_client.post(url, data).content.decode()
    assert big == small

    ret, _c = do_exchange(order, net, clerk, net["scarf"], method="pickup")
    detail = reverse("returns_store:detail", args=[ret.pk])
    one = measure(detail)
    second = world.delivered([(net["jumper"], 1)], ref="WEB-X2", customer=order.customer)
    several = [(net["scarf"], 1), (net["coat"], 1), (net["large"], 1)]
    ret2, _c = exchange.exchange_at_counter(
        order=second,
        asks=asks(second),
        store=net["s1"],
        by=clerk,
        return_ref="R-" + "e" * 32,
        want=ExchangeAsk(items=[ExchangeItem(v, q) for v, q in several], method="pickup"),
    )
    assert ret2.exchange_order.lines.count() == 3
    assert measure(reverse("returns_store:detail", args=[ret2.pk])) == one


def test_the_exchange_speaks_the_associates_language(net, clerk, clerk_client, order):
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    page = clerk_client.get(reverse("returns_store:order", args=[order.pk]), **zh)
    assert "改为换货" in page.content.decode()
    url = reverse("returns_store:order_exchange", args=[order.pk])
    preview = clerk_client.post(url, _form(order, step="preview", sku="JUMPER-L"), **zh)
    html = preview.content.decode()
    assert "预览换货" in html and "等价换货" in html
    refused = clerk_client.post(
        url, _form(order, step="confirm", sku="JUMPER-XXL", method="pickup"), **zh
    )
    assert refused.status_code == 409 and "目前在整个网络中都无货" in refused.content.decode()
    assert Return.objects.count() == 0
