"""Real threads on PostgreSQL: the last returnable unit goes back once, whether two
associates at two stores' counters take it at the same moment or an online request
(`POST /api/v1/returns/`) races a counter return."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from inventory.models import MovementKind, StockMovement
from orders.models import OrderLine, Refund
from orders.returning import NotReturnable
from returns import services
from returns.models import Return, ReturnState
from returns.services import LineAsk
from tests import factories
from tests.orders.test_concurrency import run_threads
from tests.retail.api.conftest import ApiClientHelper
from tests.returns import world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 6


@pytest.fixture
def net():
    return world.network(units=80)


def _last_unit_left(net, ref: str):
    """A delivered order of 3 jumpers (180.00 less 30.00: 50.00 a unit) of which two
    went back already: one unit is left to return."""
    order = world.delivered([(net["jumper"], 3)], ref=ref, discount=Decimal("30.00"))
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    line = order.lines.get()
    services.return_at_counter(
        order=order,
        asks=[LineAsk(quantity=2, reason="size", order_line=line)],
        store=net["s1"],
        by=clerk,
        return_ref=f"R-{ref}-first",
    )
    line.refresh_from_db()
    assert (line.claimed_quantity, line.returned_quantity) == (2, 2)
    return order


def _reconciles(assert_ledger_reconciles) -> None:
    assert_ledger_reconciles()
    out = io.StringIO()
    call_command("stock_reconcile", stdout=out)
    assert "reconciles: no drift" in out.getvalue()


def _one_unit_refunded(order) -> None:
    """Over the whole order: 3 units claimed and returned, 150.00 back, the last
    return's refund exactly one unit (50.00)."""
    line = OrderLine.objects.get(order=order)
    assert (line.claimed_quantity, line.returned_quantity) == (3, 3)
    refunds = Refund.objects.filter(order=order)
    assert sum(r.amount for r in refunds) == Decimal("150.00")
    last = Return.objects.filter(order=order).exclude(return_ref__endswith="-first").get()
    assert sum(r.amount for r in refunds.filter(return_ref=last.return_ref)) == Decimal("50.00")
    assert (
        StockMovement.objects.filter(kind=MovementKind.RETURN, source=f"return:{last.pk}")
        .values_list("quantity", flat=True)
        .get()
        == 1
    )


def test_the_last_unit_returned_at_two_stores_at_once_goes_back_once(net, assert_ledger_reconciles):
    assert connection.vendor == "postgresql"
    clerks = [
        factories.StaffFactory(role="associate", home_store=net["s1"]),
        factories.StaffFactory(role="associate", home_store=net["s2"]),
    ]
    winners = {"S01": 0, "S02": 0}
    for n in range(ROUNDS):
        order = _last_unit_left(net, f"WEB-TWO-{n}")
        line = order.lines.get()

        def give_back(i, order=order, line=line):
            store = net["s1"] if i == 0 else net["s2"]
            try:
                ret, created = services.return_at_counter(
                    order=order,
                    asks=[LineAsk(quantity=1, reason="fit", order_line=line)],
                    store=store,
                    by=clerks[i],
                    return_ref=f"R-{uuid.uuid4().hex}",
                )
                assert created and ret.state == ReturnState.COMPLETED
                return f"returned at {store.code}"
            except NotReturnable as exc:
                assert exc.extra["lines"] == [{"sku": "JUMPER-M", "reason": "exceeds_returnable"}]
                return "refused"

        results, errors = run_threads(give_back, 2)
        assert errors == []
        assert len(results) == 2 and results.count("refused") == 1, results
        winner = next(r for r in results if r != "refused")
        winners[winner[-3:]] += 1
        assert Return.objects.filter(order=order).count() == 2  # the first, and the winner
        _one_unit_refunded(order)
    assert sum(winners.values()) == ROUNDS
    _reconciles(assert_ledger_reconciles)


def test_many_associates_racing_for_the_last_unit_return_it_once(net, assert_ledger_reconciles):
    order = _last_unit_left(net, "WEB-MANY")
    line = order.lines.get()
    stores = [net["s1"], net["s2"]]
    clerks = [factories.StaffFactory(role="associate", home_store=stores[i % 2]) for i in range(12)]

    def give_back(i):
        try:
            services.return_at_counter(
                order=order,
                asks=[LineAsk(quantity=1, reason="fit", order_line=line)],
                store=stores[i % 2],
                by=clerks[i],
                return_ref=f"R-{uuid.uuid4().hex}",
            )
            return "returned"
        except NotReturnable:
            return "refused"

    results, errors = run_threads(give_back, 12)
    assert errors == []
    assert results.count("returned") == 1 and results.count("refused") == 11
    _one_unit_refunded(order)
    _reconciles(assert_ledger_reconciles)


def test_an_online_request_racing_a_counter_return_claims_the_unit_once(
    net, assert_ledger_reconciles
):
    _client, key = factories.api_client("orders:write", "orders:read")
    clerk = factories.StaffFactory(role="associate", home_store=net["s2"])
    outcomes = {"api": 0, "counter": 0}
    for n in range(ROUNDS):
        order = _last_unit_left(net, f"WEB-API-{n}")
        line = order.lines.get()
        api_ref = f"RET-API-{n}"

        def race(i, order=order, line=line, api_ref=api_ref):
            if i == 0:
                response = ApiClientHelper(key).post(
                    "/api/v1/returns/",
                    {
                        "return_ref": api_ref,
                        "order_ref": order.order_ref,
                        "lines": [{"sku": "JUMPER-M", "quantity": 1, "reason": "size"}],
                    },
                )
                if response.status_code == 201:
                    return "api"
                body = response.json()
                assert response.status_code == 409, body
                assert body["code"] == "not_returnable"
                assert body["lines"] == [{"sku": "JUMPER-M", "reason": "exceeds_returnable"}]
                return "refused"
            try:
                services.return_at_counter(
                    order=order,
                    asks=[LineAsk(quantity=1, reason="fit", order_line=line)],
                    store=net["s2"],
                    by=clerk,
                    return_ref=f"R-{uuid.uuid4().hex}",
                )
                return "counter"
            except NotReturnable:
                return "refused"

        results, errors = run_threads(race, 2)
        assert errors == []
        assert sorted(results) in (["api", "refused"], ["counter", "refused"]), results
        winner = "api" if "api" in results else "counter"
        outcomes[winner] += 1
        line.refresh_from_db()
        assert line.claimed_quantity == 3
        if winner == "api":
            # Requested: claimed, not yet refunded; received, it refunds exactly one unit.
            assert line.returned_quantity == 2
            assert not Refund.objects.filter(order=order, return_ref=api_ref).exists()
            received = ApiClientHelper(key).post(
                f"/api/v1/returns/{api_ref}/receive/", {"location": "DC1"}
            )
            assert received.status_code == 200, received.json()
            assert received.json()["refund"]["amount"] == "50.00"
        else:
            assert not Return.objects.filter(return_ref=api_ref).exists()
        _one_unit_refunded(order)
    assert sum(outcomes.values()) == ROUNDS
    _reconciles(assert_ledger_reconciles)


def test_returns_to_store_credit_racing_credit_spends_never_deadlock_or_overspend(
    net, assert_ledger_reconciles
):
    """Returns refunded as store credit (order, stock rows, then the credit account) and
    till sales paid with it (stock rows, then the account) for one customer at once."""
    from orders import credit
    from orders import services as orders
    from orders.models import StoreCreditEntry

    customer = factories.CustomerFactory(email="")
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    bought = [
        world.delivered([(net["scarf"], 1)], ref=f"WEB-SC-{i}", customer=customer) for i in range(6)
    ]
    credit.credit_issue(customer=customer, amount=Decimal("40.00"), reason="goodwill")

    def act(i):
        if i % 2 == 0:
            order = bought[i // 2]
            services.return_at_counter(
                order=order,
                asks=[LineAsk(quantity=1, reason="fit", order_line=order.lines.get())],
                store=net["s1"],
                by=clerk,
                return_ref=f"R-SC-{i}",
                refund_to="store_credit",
            )
            return "returned"
        try:
            orders.order_place(
                orders.OrderInput(
                    order_ref=f"TILL-SC-{i}",
                    channel="store",
                    customer=customer,
                    lines=[orders.LineInput(net["scarf"], 1, Decimal("20.00"))],
                    method="carry_out",
                    store=net["s1"],
                    tender="store_credit",
                    amount=Decimal("20.00"),
                )
            )
            return "spent"
        except credit.InsufficientCredit:
            return "short"

    results, errors = run_threads(act, 12)
    assert errors == []
    assert results.count("returned") == 6
    spent = results.count("spent")
    assert spent >= 2  # the 40.00 there before pays two at least
    assert credit.credit_balance(customer) == Decimal("40.00") + 6 * Decimal("20.00") - spent * (
        Decimal("20.00")
    )
    chain = list(
        StoreCreditEntry.objects.filter(account__customer=customer)
        .order_by("pk")
        .values_list("amount", "balance_after")
    )
    running = Decimal("0.00")
    for amount, after in chain:
        running += amount
        assert after == running >= 0
    _reconciles(assert_ledger_reconciles)


def test_a_cancel_racing_a_receive_ends_one_way_only(net, assert_ledger_reconciles):
    """The customer cancels online at the moment the DC receives the parcel: either it is
    cancelled (units free, nothing refunded, nothing restocked) or completed (refunded,
    restocked) — never both, never an error."""
    outcomes = {"cancelled": 0, "completed": 0}
    for n in range(ROUNDS):
        order = world.delivered([(net["scarf"], 1)], ref=f"WEB-CR-{n}")
        ret, _c = services.return_request(
            order=order,
            return_ref=f"RET-CR-{n}",
            asks=[LineAsk(quantity=1, reason="size", order_line=order.lines.get())],
        )

        def act(i, ret=ret):
            try:
                if i == 0:
                    services.return_cancel(ret=Return(pk=ret.pk), reason="changed my mind")
                    return "cancel ok"
                services.return_receive(ret=Return(pk=ret.pk), location=net["dc"])
                return "receive ok"
            except services.NotCancellable:
                return "cancel refused"
            except services.NotReceivable:
                return "receive refused"

        results, errors = run_threads(act, 2)
        assert errors == [], errors
        ret.refresh_from_db()
        line = OrderLine.objects.get(order=order)
        movements = StockMovement.objects.filter(source=f"return:{ret.pk}").count()
        refunded = sum(r.amount for r in Refund.objects.filter(order=order))
        if ret.state == ReturnState.CANCELLED:
            assert sorted(results) == ["cancel ok", "receive refused"]
            assert (line.claimed_quantity, line.returned_quantity) == (0, 0)
            assert (movements, refunded) == (0, 0)
        else:
            assert ret.state == ReturnState.COMPLETED
            assert sorted(results) == ["cancel refused", "receive ok"]
            assert (line.claimed_quantity, line.returned_quantity) == (1, 1)
            assert (movements, refunded) == (1, Decimal("20.00"))
        outcomes[ret.state] += 1
    assert sum(outcomes.values()) == ROUNDS
    _reconciles(assert_ledger_reconciles)


def test_two_managers_deciding_at_once_approve_or_refuse_once(net, assert_ledger_reconciles):
    bosses = [factories.StaffFactory(role="store_manager", home_store=net["s1"]) for _ in range(2)]
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    for n in range(ROUNDS):
        order = world.delivered([(net["jumper"], 9)], ref=f"WEB-AP-{n}")  # 540.00
        ret, _c = services.return_at_counter(
            order=order,
            asks=[LineAsk(quantity=9, reason="quality", order_line=order.lines.get())],
            store=net["s1"],
            by=clerk,
            return_ref=f"R-AP-{n}",
        )
        assert ret.state == ReturnState.AWAITING_APPROVAL

        def decide(i, ret=ret):
            try:
                if i == 0:
                    services.return_approve(ret=Return(pk=ret.pk), by=bosses[0])
                    return "approved"
                services.return_refuse(ret=Return(pk=ret.pk), by=bosses[1], reason="worn twice")
                return "refused"
            except services.NotDecidable:
                return "too late"

        results, errors = run_threads(decide, 2)
        assert errors == [], errors
        assert results.count("too late") == 1, results
        ret.refresh_from_db()
        line = OrderLine.objects.get(order=order)
        refunded = sum(r.amount for r in Refund.objects.filter(order=order))
        if ret.state == ReturnState.COMPLETED:
            assert "approved" in results
            assert (line.claimed_quantity, line.returned_quantity, refunded) == (
                9,
                9,
                Decimal("540.00"),
            )
        else:
            assert ret.state == ReturnState.REFUSED and "refused" in results
            assert (line.claimed_quantity, line.returned_quantity, refunded) == (0, 0, 0)
    _reconciles(assert_ledger_reconciles)
