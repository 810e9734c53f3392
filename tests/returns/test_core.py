"""The returns core: a return of any order at any store, refunded exactly, restocked
through the ledger, claimed once; the Returns API against the design's contract."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from inventory.models import StockLevel, StockMovement
from orders.models import Refund
from orders.returning import NotReturnable
from retail.models import OutboundMessage
from returns import services
from returns.models import Return, ReturnState
from returns.services import LineAsk
from tests import factories
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import assert_matches_schema
from tests.returns import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def net():
    return world.network()


def _ask(order, sku, quantity, reason="size"):
    line = order.lines.get(sku=sku)
    return LineAsk(quantity=quantity, reason=reason, order_line=line)


def _counter(order, store, by, asks, **kw):
    return services.return_at_counter(
        order=order, asks=asks, store=store, by=by, return_ref=f"R-{uuid.uuid4().hex}", **kw
    )


def test_a_delivered_web_order_is_returned_at_another_store(net, assert_ledger_reconciles):
    order = world.delivered(
        [(net["jumper"], 2), (net["scarf"], 1)], discount=Decimal("14.00")
    )  # 140.00 less 14.00: the jumper line carries 12.00 of it (108.00), the scarf 2.00
    clerk = factories.StaffFactory(role="associate", home_store=net["s2"])
    shelf = StockLevel.objects.get(location=net["shelf2"], variant=net["jumper"])
    before = shelf.available
    ret, created = _counter(order, net["s2"], clerk, [_ask(order, "JUMPER-M", 1)])
    assert created and ret.state == ReturnState.COMPLETED
    assert ret.refund_amount == Decimal("54.00")  # half of 108.00, the discount not taken twice
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.tender, refund.return_ref) == (
        Decimal("54.00"),
        "card",
        ret.return_ref,
    )
    assert refund.tax_amount == Decimal("9.00")  # 54.00 at 20 % included
    shelf.refresh_from_db()
    assert shelf.available == before + 1
    movement = StockMovement.objects.get(kind="return", location=net["shelf2"])
    assert movement.quantity == 1 and movement.source == f"return:{ret.pk}"
    assert OutboundMessage.objects.filter(key=f"return_receipt:{ret.pk}").exists()
    line = order.lines.get(sku="JUMPER-M")
    assert (line.claimed_quantity, line.returned_quantity) == (1, 1)
    # the second unit, then the whole line: exactly the line total
    _counter(order, net["s2"], clerk, [_ask(order, "JUMPER-M", 1, "fit")])
    total = sum(r.amount for r in Refund.objects.filter(order=order))
    assert total == Decimal("108.00")
    with pytest.raises(NotReturnable) as refused:
        _counter(order, net["s2"], clerk, [_ask(order, "JUMPER-M", 1)])
    assert refused.value.extra["lines"] == [{"sku": "JUMPER-M", "reason": "exceeds_returnable"}]
    assert Return.objects.count() == 2
    assert_ledger_reconciles()


def test_a_double_tap_returns_once(net):
    order = world.delivered([(net["scarf"], 2)])
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    ref = "R-double"
    first, created = services.return_at_counter(
        order=order, asks=[_ask(order, "SCARF-1", 1)], store=net["s1"], by=clerk, return_ref=ref
    )
    again, created_again = services.return_at_counter(
        order=order, asks=[_ask(order, "SCARF-1", 1)], store=net["s1"], by=clerk, return_ref=ref
    )
    assert created and not created_again and again.pk == first.pk
    assert Refund.objects.filter(order=order).count() == 1


def test_damaged_units_go_to_the_hold_and_never_count_as_available(net, assert_ledger_reconciles):
    order = world.delivered([(net["scarf"], 1)])
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    ask = _ask(order, "SCARF-1", 1, "damaged")
    ask.disposition = "damaged"
    shelf = StockLevel.objects.get(location=net["shelf1"], variant=net["scarf"])
    ret, _created = _counter(order, net["s1"], clerk, [ask])
    assert ret.state == ReturnState.COMPLETED
    assert StockLevel.objects.get(pk=shelf.pk).on_hand == shelf.on_hand
    hold = StockLevel.objects.get(location__code="S01-HOLD", variant=net["scarf"])
    assert hold.on_hand == 1
    from inventory.availability import network_availability

    listed = network_availability(["SCARF-1"])["skus"][0]["locations"]
    assert "S01-HOLD" not in {loc["location"] for loc in listed}
    assert_ledger_reconciles()


def test_an_order_not_yet_delivered_cannot_be_returned(net):
    from orders import services as orders

    order, _c = orders.order_place(
        orders.OrderInput(
            order_ref="WEB-OPEN",
            channel="web",
            customer=factories.CustomerFactory(),
            lines=[orders.LineInput(net["scarf"], 1, net["scarf"].price)],
            method="ship",
            address=world.ADDRESS,
            tender="card",
            amount=net["scarf"].price,
        )
    )
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    with pytest.raises(NotReturnable) as refused:
        _counter(order, net["s1"], clerk, [_ask(order, "SCARF-1", 1)])
    assert refused.value.extra["lines"][0]["reason"] == "not_received"
    assert not Return.objects.exists()


def test_a_big_return_waits_for_a_manager_of_the_store(net):
    order = world.delivered([(net["jumper"], 9)])  # 540.00: above the 500.00 threshold
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    ret, _created = _counter(order, net["s1"], clerk, [_ask(order, "JUMPER-M", 9)])
    assert ret.state == ReturnState.AWAITING_APPROVAL
    assert not Refund.objects.filter(order=order).exists()
    assert order.lines.get().claimed_quantity == 9
    with pytest.raises(services.NotAllowed):
        services.return_approve(ret=ret, by=clerk)
    elsewhere = factories.StaffFactory(role="store_manager", home_store=net["s2"])
    with pytest.raises(services.NotAllowed):
        services.return_approve(ret=ret, by=elsewhere)
    boss = factories.StaffFactory(role="store_manager", home_store=net["s1"])
    done = services.return_approve(ret=ret, by=boss)
    assert done.state == ReturnState.COMPLETED
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == Decimal("540.00")


def test_a_refused_return_frees_its_units(net):
    order = world.delivered([(net["jumper"], 9)])
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    boss = factories.StaffFactory(role="store_manager", home_store=net["s1"])
    ret, _created = _counter(order, net["s1"], clerk, [_ask(order, "JUMPER-M", 9)])
    with pytest.raises(services.ReturnError):
        services.return_refuse(ret=ret, by=boss, reason="")
    services.return_refuse(ret=ret, by=boss, reason="Worn, tags removed")
    ret.refresh_from_db()
    assert ret.state == ReturnState.REFUSED
    assert order.lines.get().claimed_quantity == 0


# --- The API ------------------------------------------------------------------------------


@pytest.fixture
def api(net):
    _client, key = factories.api_client("orders:write", "orders:read")
    return ApiClientHelper(key)


def test_the_returns_api_follows_the_contract(net, api, assert_ledger_reconciles):
    order = world.delivered([(net["jumper"], 2)], customer=factories.CustomerFactory())
    body = {
        "return_ref": "RET-1",
        "order_ref": order.order_ref,
        "lines": [{"sku": "JUMPER-M", "quantity": 1, "reason": "size"}],
    }
    created = api.post("/api/v1/returns/", body)
    assert created.status_code == 201, created.json()
    assert_matches_schema(created, "POST", "/api/v1/returns/")
    data = created.json()
    assert data["state"] == "requested" and len(data["code"]) == 8
    assert api.post("/api/v1/returns/", body).status_code == 200
    other = dict(body, lines=[{"sku": "JUMPER-M", "quantity": 2, "reason": "size"}])
    assert api.post("/api/v1/returns/", other).json()["code"] == "return_ref_conflict"
    too_many = dict(
        body, return_ref="RET-2", lines=[{"sku": "JUMPER-M", "quantity": 2, "reason": "fit"}]
    )
    refused = api.post("/api/v1/returns/", too_many)
    assert refused.status_code == 409
    assert refused.json()["lines"] == [{"sku": "JUMPER-M", "reason": "exceeds_returnable"}]
    unknown = api.post("/api/v1/returns/", dict(body, return_ref="RET-3", order_ref="NOPE"))
    assert unknown.status_code == 404
    received = api.post("/api/v1/returns/RET-1/receive/", {"location": "DC1"})
    assert received.status_code == 200, received.json()
    assert_matches_schema(received, "POST", "/api/v1/returns/{return_ref}/receive/")
    got = received.json()
    assert got["state"] == "completed" and got["refund"] == {
        "amount": "60.00",
        "fee": "0.00",
        "to": "original",
    }
    assert got["location"] == "DC1"
    assert api.post("/api/v1/returns/RET-1/receive/", {"location": "DC1"}).status_code == 200
    assert api.post("/api/v1/returns/RET-1/cancel/", {}).json()["code"] == "not_cancellable"
    read = api.get(f"/api/v1/orders/{order.order_ref}/")
    assert_matches_schema(read, "GET", "/api/v1/orders/{order_ref}/")
    shape = read.json()
    assert shape["lines"][0]["returned_quantity"] == 1
    assert shape["refunds"][0]["return_ref"] == "RET-1"
    assert shape["returns"] == [{"return_ref": "RET-1", "state": "completed"}]
    got = api.get("/api/v1/returns/RET-1/")
    assert_matches_schema(got, "GET", "/api/v1/returns/{return_ref}/")
    assert_ledger_reconciles()


def test_a_requested_return_is_cancelled_and_frees_its_units(net, api):
    order = world.delivered([(net["scarf"], 1)])
    body = {
        "return_ref": "RET-9",
        "order_ref": order.order_ref,
        "lines": [{"sku": "SCARF-1", "quantity": 1, "reason": "other"}],
    }
    assert api.post("/api/v1/returns/", body).status_code == 201
    cancelled = api.post("/api/v1/returns/RET-9/cancel/", {})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert api.post("/api/v1/returns/RET-9/cancel/", {}).status_code == 200
    assert api.post("/api/v1/returns/RET-9/receive/", {"location": "DC1"}).json()["code"] == (
        "not_receivable"
    )
    assert order.lines.get().claimed_quantity == 0


def test_a_return_without_receipt_waits_for_a_manager_and_pays_store_credit_at_the_lowest_price(
    net, assert_ledger_reconciles
):
    import datetime as dt

    import time_machine

    from orders import credit
    from tests.returns.factories import ReturnPolicyFactory

    jumper = net["jumper"]
    ReturnPolicyFactory(category=jumper.product.category, receiptless_allowed=True)
    customer = factories.CustomerFactory()
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    boss = factories.StaffFactory(role="store_manager", home_store=net["s1"])
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1), tick=False):
        jumper.price = Decimal("45.00")  # on sale for a while…
        jumper.save()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=2), tick=False):
        jumper.price = Decimal("60.00")  # …and back
        jumper.save()
        ask = LineAsk(quantity=1, reason="other", variant=jumper)
        with pytest.raises(services.ReturnError):  # store credit needs a customer
            _counter(None, net["s1"], clerk, [ask])
        ret, _c = _counter(None, net["s1"], clerk, [ask], customer=customer)
        assert ret.state == ReturnState.AWAITING_APPROVAL and ret.refund_to == "store_credit"
        assert credit.credit_balance(customer) == 0
        services.return_approve(ret=ret, by=boss)
    assert credit.credit_balance(customer) == Decimal("45.00")
    assert ret.lines.get().unit_basis == Decimal("45.00")
    assert_ledger_reconciles()


def test_store_credit_chosen_at_the_counter_lands_on_the_balance(net):
    from orders import credit

    order = world.delivered([(net["scarf"], 2)])
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    _counter(order, net["s1"], clerk, [_ask(order, "SCARF-1", 1)], refund_to="store_credit")
    assert credit.credit_balance(order.customer) == Decimal("20.00")
    refund = Refund.objects.get(order=order)
    assert refund.to_store_credit and refund.tender == "card"


def test_hq_reads_a_return_in_admin_with_its_lines_and_events_and_cannot_change_it(net, client):
    order = world.delivered([(net["scarf"], 1)])
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    ret, _c = _counter(order, net["s1"], clerk, [_ask(order, "SCARF-1", 1)])
    hq = factories.StaffFactory(role="hq_admin")
    factories.login_with_totp(client, hq)
    listing = client.get("/admin/returns/return/?state=completed")
    assert listing.status_code == 200 and ret.return_ref in listing.content.decode()
    page = client.get(f"/admin/returns/return/{ret.pk}/change/")  # the view page
    html = page.content.decode()
    assert page.status_code == 200
    assert "return_started" in html and "return_changed" in html and "SCARF-1" in html
    assert 'name="_save"' not in html  # read-only: nothing to save
    assert client.get("/admin/returns/return/add/").status_code == 403


def test_a_return_ref_of_another_order_is_a_conflict_and_a_store_without_stock_refuses(net):
    first = world.delivered([(net["scarf"], 1)], ref="WEB-A")
    second = world.delivered([(net["scarf"], 1)], ref="WEB-B")
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    services.return_at_counter(
        order=first, asks=[_ask(first, "SCARF-1", 1)], store=net["s1"], by=clerk, return_ref="R-1"
    )
    with pytest.raises(services.ReturnRefConflict):
        services.return_at_counter(
            order=second,
            asks=[_ask(second, "SCARF-1", 1)],
            store=net["s1"],
            by=clerk,
            return_ref="R-1",
        )
    assert second.lines.get().claimed_quantity == 0
    bare = factories.StoreFactory(code="S09")  # a store with no stock location
    there = factories.StaffFactory(role="associate", home_store=bare)
    with pytest.raises(services.ReturnError) as refused:
        _counter(second, bare, there, [_ask(second, "SCARF-1", 1)])
    assert "keeps no stock" in refused.value.detail
    assert second.lines.get().claimed_quantity == 0 and not Refund.objects.filter(order=second)
