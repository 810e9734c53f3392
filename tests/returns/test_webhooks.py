"""Return changes reach the online channel's webhook receiver in order with the
order's own changes, signed, each body carrying the order and the return as the API
shows them; a retried delivery keeps its `X-Aisle-Delivery`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from orders.models import OrderEvent
from retail import webhooks
from retail.api_clients import api_client_create
from retail.models import WebhookDelivery, WebhookState
from returns import services
from returns.models import ReturnEvent
from returns.services import LineAsk
from tests import factories
from tests.orders.test_webhooks import Receiver, valid_signature
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import assert_matches_schema
from tests.returns import world

pytestmark = pytest.mark.django_db


class Shown:
    """A webhook body's section checked against the schema as if the API answered it."""

    status_code = 200

    def __init__(self, data):
        self.data = data

    def json(self):
        return self.data


@pytest.fixture
def net():
    return world.network()


def test_every_return_change_reaches_the_receiver_in_order_signed_and_shaped(
    net, django_capture_on_commit_callbacks
):
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    with Receiver() as receiver:
        hook, key = api_client_create(
            name="webshop", scopes=["orders:read", "orders:write"], webhook_url=receiver.url
        )
        api = ApiClientHelper(key)
        with django_capture_on_commit_callbacks(execute=True):
            order = world.delivered(
                [(net["jumper"], 2), (net["scarf"], 2)], discount=Decimal("10.00")
            )
        placed = len(receiver.requests)
        # Online: requested, then received at the DC (completed).
        with django_capture_on_commit_callbacks(execute=True):
            started = api.post(
                "/api/v1/returns/",
                {
                    "return_ref": "RET-1",
                    "order_ref": order.order_ref,
                    "lines": [{"sku": "JUMPER-M", "quantity": 1, "reason": "size"}],
                },
            )
        assert started.status_code == 201, started.json()
        with django_capture_on_commit_callbacks(execute=True):
            assert api.post("/api/v1/returns/RET-1/receive/", {"location": "DC1"}).status_code == (
                200
            )
        # At a counter: started and completed at once.
        with django_capture_on_commit_callbacks(execute=True):
            services.return_at_counter(
                order=order,
                asks=[LineAsk(quantity=1, reason="fit", order_line=order.lines.get(sku="SCARF-1"))],
                store=net["s1"],
                by=clerk,
                return_ref="RET-2",
            )
        # Requested online, then cancelled.
        with django_capture_on_commit_callbacks(execute=True):
            api.post(
                "/api/v1/returns/",
                {
                    "return_ref": "RET-3",
                    "order_ref": order.order_ref,
                    "lines": [{"sku": "JUMPER-M", "quantity": 1, "reason": "other"}],
                },
            )
        with django_capture_on_commit_callbacks(execute=True):
            assert api.post("/api/v1/returns/RET-3/cancel/", {}).status_code == 200
        got = receiver.delivered()
        final_order = api.get(f"/api/v1/orders/{order.order_ref}/").json()
        final_return = {ref: api.get(f"/api/v1/returns/{ref}/").json() for ref in ("RET-2",)}

    assert len(receiver.requests) == len(got)  # every request answered 204
    assert all(valid_signature(hook.webhook_secret, g["raw"], g["signature"]) for g in got)
    assert len({g["delivery"] for g in got}) == len(got)
    order_part, return_part = got[:placed], got[placed:]
    # The order's own changes first, as the order's webhooks send them…
    expected_order = list(
        OrderEvent.objects.filter(order=order)
        .exclude(kind="refund_recorded")  # told by the return's own change
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert [g["event"] for g in order_part] == expected_order
    # …then every return change, in the order it happened, in the same chain.
    expected_returns = list(
        ReturnEvent.objects.order_by("pk").values_list(
            "kind", "ret__return_ref", "from_state", "to_state"
        )
    )
    assert [
        (
            g["event"],
            g["json"]["change"]["return_ref"],
            g["json"]["change"]["from"],
            g["json"]["change"]["to"],
        )
        for g in return_part
    ] == expected_returns
    assert [(ref, to) for _k, ref, _f, to in expected_returns] == [
        ("RET-1", "requested"),
        ("RET-1", "completed"),
        ("RET-2", "requested"),
        ("RET-2", "completed"),
        ("RET-3", "requested"),
        ("RET-3", "cancelled"),
    ]
    ats = [g["json"]["at"] for g in got]
    assert ats == sorted(ats)
    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    assert [d.event for d in deliveries] == [g["event"] for g in got]
    assert {d.subject_id for d in deliveries} == {order.pk}  # one chain: the order's
    assert all(d.state == WebhookState.DELIVERED for d in deliveries)
    for g in return_part:
        body = g["json"]
        assert set(body) == {"event", "order_ref", "at", "change", "order", "return"}
        assert body["order_ref"] == order.order_ref == body["order"]["order_ref"]
        assert body["return"]["return_ref"] == body["change"]["return_ref"]
        assert body["return"]["state"] == body["change"]["to"]
        assert_matches_schema(Shown(body["order"]), "GET", "/api/v1/orders/{order_ref}/")
        assert_matches_schema(Shown(body["return"]), "GET", "/api/v1/returns/{return_ref}/")
    # The received return's body shows its refund and the order's returned unit.
    completed = next(
        g["json"]
        for g in return_part
        if g["json"]["change"] == {"return_ref": "RET-1", "from": "requested", "to": "completed"}
    )
    assert completed["return"]["refund"] == {
        "amount": "56.25",
        "fee": "0.00",
        "to": "original",
    }  # 112.50 / 2
    jumper = next(x for x in completed["order"]["lines"] if x["sku"] == "JUMPER-M")
    assert jumper["returned_quantity"] == 1
    assert any(r.get("return_ref") == "RET-1" for r in completed["order"]["refunds"])
    # The last body carries the order as GET shows it after every change.
    assert got[-1]["json"]["order"] == final_order
    counter_done = [g["json"] for g in return_part if g["json"]["change"]["return_ref"] == "RET-2"]
    assert counter_done[-1]["return"] == final_return["RET-2"]


def test_a_retried_return_delivery_keeps_its_id_and_nothing_overtakes_it(
    net, django_capture_on_commit_callbacks
):
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    with Receiver() as receiver:
        hook = api_client_create(name="webshop", scopes=["orders:read"], webhook_url=receiver.url)[
            0
        ]
        with django_capture_on_commit_callbacks(execute=True):
            order = world.delivered([(net["scarf"], 2)])
        placed = len(receiver.requests)
        receiver.down = True
        start = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            services.return_at_counter(
                order=order,
                asks=[LineAsk(quantity=1, reason="fit", order_line=order.lines.get())],
                store=net["s1"],
                by=clerk,
                return_ref="RET-R",
            )
        assert receiver.answered[placed:] == [500]  # the rest wait behind it
        failed = receiver.requests[placed]
        receiver.down = False
        with (
            time_machine.travel(start + dt.timedelta(minutes=5), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert webhooks.retry_due() >= 1
        got = receiver.delivered()[placed:]
    assert [g["event"] for g in got] == ["return_started", "return_changed"]
    assert got[0]["delivery"] == failed["headers"]["X-Aisle-Delivery"]
    assert got[0]["raw"] == failed["body"]  # the same bytes, signed the same
    assert all(valid_signature(hook.webhook_secret, g["raw"], g["signature"]) for g in got)
    assert [g["json"]["change"]["to"] for g in got] == ["requested", "completed"]
    first = WebhookDelivery.objects.get(
        change_key__startswith="return_event:", event="return_started"
    )
    assert (first.state, first.attempts) == (WebhookState.DELIVERED, 2)


def test_an_approval_and_a_refusal_reach_the_receiver_in_order(
    net, django_capture_on_commit_callbacks
):
    clerk = factories.StaffFactory(role="associate", home_store=net["s1"])
    boss = factories.StaffFactory(role="store_manager", home_store=net["s1"])
    with Receiver() as receiver:
        hook = api_client_create(name="webshop", scopes=["orders:read"], webhook_url=receiver.url)[
            0
        ]
        with django_capture_on_commit_callbacks(execute=True):
            order = world.delivered([(net["jumper"], 9)])  # 540.00: a manager approves
        placed = len(receiver.requests)
        line = order.lines.get()
        with django_capture_on_commit_callbacks(execute=True):
            ret, _c = services.return_at_counter(
                order=order,
                asks=[LineAsk(quantity=9, reason="quality", order_line=line)],
                store=net["s1"],
                by=clerk,
                return_ref="RET-A",
            )
        with django_capture_on_commit_callbacks(execute=True):
            services.return_refuse(ret=ret, by=boss, reason="worn, tags removed")
        with django_capture_on_commit_callbacks(execute=True):
            again, _c = services.return_at_counter(
                order=order,
                asks=[LineAsk(quantity=9, reason="quality", order_line=line)],
                store=net["s1"],
                by=clerk,
                return_ref="RET-B",
            )
        with django_capture_on_commit_callbacks(execute=True):
            services.return_approve(ret=again, by=boss, reason="checked")
        got = receiver.delivered()[placed:]
    assert all(valid_signature(hook.webhook_secret, g["raw"], g["signature"]) for g in got)
    assert [
        (g["event"], g["json"]["change"]["return_ref"], g["json"]["change"]["to"]) for g in got
    ] == [
        ("return_started", "RET-A", "requested"),
        ("return_changed", "RET-A", "awaiting_approval"),
        ("return_changed", "RET-A", "refused"),
        ("return_started", "RET-B", "requested"),
        ("return_changed", "RET-B", "awaiting_approval"),
        ("return_approved", "RET-B", "awaiting_approval"),
        ("return_changed", "RET-B", "completed"),
    ]
    for g in got:
        assert_matches_schema(Shown(g["json"]["return"]), "GET", "/api/v1/returns/{return_ref}/")
        assert_matches_schema(Shown(g["json"]["order"]), "GET", "/api/v1/orders/{order_ref}/")
    assert got[-1]["json"]["return"]["refund"]["amount"] == "540.00"
    assert got[-1]["json"]["order"]["lines"][0]["returned_quantity"] == 9
