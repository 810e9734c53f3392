"""Webhooks to the online channel: every order change, signed, retried, in order."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import OrderEvent, State
from orders.services import LineInput, OrderInput
from orders.webhooks import deliveries
from retail import webhooks
from retail.api_clients import api_client_create
from retail.models import WebhookDelivery, WebhookState
from tests import factories

pytestmark = pytest.mark.django_db


class Receiver:
    """A local webhook receiver (threading http.server) that answers 500 to its
    first `fail_first` requests, then 204, and keeps every request."""

    def __init__(self, fail_first: int = 0, delay: float = 0.0):
        self.fail_first = fail_first
        self.down = False  # answer 500 to everything while True
        self.delay = delay
        self.requests: list[dict] = []
        self.answered: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                failing = receiver.down or len(receiver.requests) <= receiver.fail_first
                status = 500 if failing else 204
                receiver.answered.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/aisle"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> list[dict]:
        """The requests answered 2xx, as (event, delivery id, parsed body, signature, raw)."""
        return [
            {
                "event": json.loads(r["body"])["event"],
                "delivery": r["headers"]["X-Aisle-Delivery"],
                "json": json.loads(r["body"]),
                "signature": r["headers"]["X-Aisle-Signature"],
                "raw": r["body"],
            }
            for r, status in zip(self.requests, self.answered, strict=True)
            if status < 300
        ]


@pytest.fixture
def shop(store):
    shelf = factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("60.00"))
    factories.give_stock(shelf, jumper, 5)
    return {"shelf": shelf, "jumper": jumper, "customer": factories.CustomerFactory()}


def place(shop, store, ref="WEB-1"):
    order, _created = services.order_place(
        OrderInput(
            order_ref=ref,
            channel="web",
            customer=shop["customer"],
            lines=[LineInput(shop["jumper"], 1, Decimal("60.00"))],
            method="pickup",
            store=store,
            tender="card",
            amount=Decimal("60.00"),
            payment_reference="psp-1",
            fingerprint=ref,
        )
    )
    return order


def hook_client(url, scopes=("orders:read",), name="webshop"):
    client, _key = api_client_create(name=name, scopes=list(scopes), webhook_url=url)
    return client


def valid_signature(secret: str, raw: bytes, signature: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def test_receiver_failing_twice_still_gets_every_change_once_in_order_with_valid_signatures(
    shop, store, associate, django_capture_on_commit_callbacks
):
    with Receiver(fail_first=2) as receiver:
        client = hook_client(receiver.url)
        start = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            order = place(shop, store)
        fulfillment = order.fulfillments.get()
        for to in (State.PICKING, State.READY, State.COLLECTED):
            with django_capture_on_commit_callbacks(execute=True):
                services.fulfillment_transition(fulfillment=fulfillment, to=to, by=associate)
        # The first attempt failed; the deliveries after it wait for it.
        assert receiver.answered == [500]
        head = WebhookDelivery.objects.order_by("pk").first()
        assert (head.attempts, head.last_status, head.state) == (1, 500, WebhookState.PENDING)
        assert head.last_error == "HTTP 500"
        # Before its wait is over the beat sweep sends nothing.
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.retry_due() == 0
        assert len(receiver.requests) == 1
        # Time passes: the beat sweep retries (a second failure), then delivers the lot.
        for minutes in (1, 3):
            later = start + dt.timedelta(minutes=minutes)
            with (
                time_machine.travel(later, tick=False),
                django_capture_on_commit_callbacks(execute=True),
            ):
                assert webhooks.retry_due() == 1
        assert receiver.answered[:3] == [500, 500, 204]

    changes = list(OrderEvent.objects.filter(order=order).order_by("pk"))
    kinds = [e.kind for e in changes]
    assert kinds == [
        "order_placed",
        "fulfillment_created",
        "fulfillment_changed",
        "fulfillment_changed",
        "fulfillment_changed",
        "order_status",
    ]
    got = receiver.delivered()
    # Every change once, in order, each with a valid signature over the exact bytes.
    assert [g["event"] for g in got] == kinds
    assert len({g["delivery"] for g in got}) == len(kinds)
    assert all(valid_signature(client.webhook_secret, g["raw"], g["signature"]) for g in got)
    assert [g["json"]["change"]["to"] for g in got[2:5]] == ["picking", "ready", "collected"]
    # Each body carries the order as GET shows it right after that change.
    assert [g["json"]["order"]["fulfillments"][0]["state"] for g in got[1:5]] == [
        "reserved",
        "picking",
        "ready",
        "collected",
    ]
    assert got[-1]["json"]["order"]["status"] == "completed"
    assert got[0]["json"]["order_ref"] == "WEB-1"
    assert set(got[0]["json"]) == {"event", "order_ref", "at", "change", "order"}
    assert all(
        d.state == WebhookState.DELIVERED and d.last_status == 204
        for d in WebhookDelivery.objects.all()
    )
    assert WebhookDelivery.objects.get(change_key=f"order_event:{changes[0].pk}").attempts == 3


def test_only_active_clients_with_a_url_and_orders_read_hear_about_orders(
    shop, store, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        reader = hook_client(receiver.url)
        hook_client(receiver.url, scopes=("availability:read",), name="no-scope")
        hook_client("", name="no-url")
        inactive = hook_client(receiver.url, name="inactive")
        inactive.is_active = False
        inactive.save()
        with django_capture_on_commit_callbacks(execute=True):
            place(shop, store)
    assert set(WebhookDelivery.objects.values_list("client", flat=True)) == {reader.pk}
    assert len(receiver.requests) == 2


def test_no_client_means_no_delivery_and_the_order_still_places(shop, store):
    place(shop, store)
    assert WebhookDelivery.objects.count() == 0


def test_a_delivery_that_never_succeeds_fails_blocks_its_order_and_hq_can_resend_it(
    shop, store, associate, settings, django_capture_on_commit_callbacks
):
    settings.AISLE_WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver(fail_first=2) as receiver:
        hook_client(receiver.url)
        start = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            order = place(shop, store)
        with (
            time_machine.travel(start + dt.timedelta(minutes=1), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            webhooks.retry_due()
        first, second = WebhookDelivery.objects.order_by("pk")
        assert (first.state, first.attempts) == (WebhookState.FAILED, 2)
        assert second.state == WebhookState.PENDING  # waits behind the failed one
        with (
            time_machine.travel(start + dt.timedelta(hours=2), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            webhooks.retry_due()
        assert len(receiver.requests) == 2  # nothing jumps the queue
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.delivery_resend(deliveries=[first]) == 1
        assert [r["event"] for r in receiver.delivered()] == [
            "order_placed",
            "fulfillment_created",
        ]
    assert set(deliveries(order).values_list("state", flat=True)) == {"delivered"}


def test_an_unreachable_receiver_is_recorded_as_an_error_not_raised(
    shop, store, django_capture_on_commit_callbacks
):
    hook_client("http://127.0.0.1:9/nothing-listens-here")
    with django_capture_on_commit_callbacks(execute=True):
        place(shop, store)
    first = WebhookDelivery.objects.order_by("pk").first()
    assert first.attempts == 1 and first.last_status is None
    assert "Error" in first.last_error
    assert first.next_attempt_at > timezone.now()


def test_hq_sees_deliveries_in_admin_and_resends_after_confirming(
    shop, store, hq_client, django_capture_on_commit_callbacks
):
    with Receiver(fail_first=1) as receiver:
        hook_client(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            place(shop, store)
        first = WebhookDelivery.objects.order_by("pk").first()
        url = reverse("admin:retail_webhookdelivery_changelist")
        listing = hq_client.get(url, {"health": "failing"})
        assert listing.status_code == 200
        assert "HTTP 500" in listing.content.decode()
        assert hq_client.get(url, {"q": "WEB-1"}).status_code == 200
        detail = hq_client.get(reverse("admin:retail_webhookdelivery_change", args=[first.pk]))
        assert detail.status_code == 200
        assert 'name="attempts"' not in detail.content.decode()  # read-only
        on_order = hq_client.get(reverse("admin:orders_order_change", args=[first.subject_id]))
        assert "HTTP 500" in on_order.content.decode()  # the order's page lists them too
        data = {"action": "resend_deliveries", "_selected_action": [first.pk]}
        confirm = hq_client.post(url, data)
        assert confirm.status_code == 200
        assert "Resend 1 delivery" in confirm.content.decode()
        assert len(receiver.requests) == 1  # nothing sent before confirming
        with django_capture_on_commit_callbacks(execute=True):
            done = hq_client.post(url, {**data, "confirm": "yes"})
        assert done.status_code == 302
        assert [r["event"] for r in receiver.delivered()] == [
            "order_placed",
            "fulfillment_created",
        ]


def test_each_webhook_body_is_the_order_as_the_api_shows_it(
    shop, store, associate, client, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        _hook, key = api_client_create(
            name="shop", scopes=["orders:read"], webhook_url=receiver.url
        )
        with django_capture_on_commit_callbacks(execute=True):
            order = place(shop, store)
            services.fulfillment_transition(
                fulfillment=order.fulfillments.get(), to=State.PICKING, by=associate
            )
    api = client.get("/api/v1/orders/WEB-1/", HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 200
    assert receiver.delivered()[-1]["json"]["order"] == api.json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_pumps_send_each_delivery_once_and_in_order(shop, store, associate):
    with Receiver(delay=0.02) as receiver:
        hook = hook_client(receiver.url)
        receiver.down = True
        order = place(shop, store)
        fulfillment = order.fulfillments.get()
        for to in (State.PICKING, State.READY, State.COLLECTED):
            services.fulfillment_transition(fulfillment=fulfillment, to=to, by=associate)
        assert receiver.answered == [500]
        receiver.down = False
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
        barrier = threading.Barrier(20)
        errors = []

        def pump():
            try:
                barrier.wait()
                webhooks.webhooks_send(client_id=hook.pk)
            except Exception as exc:  # collected and asserted below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=pump) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert errors == []
    expected = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
    assert len(expected) == 6
    assert [int(r["delivery"]) for r in receiver.delivered()] == expected
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}


@pytest.mark.parametrize("orders", [1, 5])
def test_the_admin_list_of_deliveries_runs_in_a_fixed_number_of_queries(
    shop, store, hq_client, orders, django_assert_max_num_queries
):
    hook_client("http://127.0.0.1:9/never-called")
    for i in range(orders):
        place(shop, store, ref=f"WEB-{i}")  # recorded; not sent without a commit
    assert WebhookDelivery.objects.count() == 2 * orders
    # Deployed with Redis the session is read from the cache; the embedded default
    # (SQLite, no shared cache) reads it from the database: one query more.
    session_read = 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1
    with django_assert_max_num_queries(16 + session_read):
        page = hq_client.get(reverse("admin:retail_webhookdelivery_changelist"))
    assert page.status_code == 200


def test_one_pump_per_order_and_change_sends_every_delivery(
    shop, store, associate, django_capture_on_commit_callbacks
):
    from retail.models import OutboxEntry

    with Receiver() as receiver:
        hook_client(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            order = place(shop, store)  # two changes in one transaction
        assert OutboxEntry.objects.filter(name=webhooks.SEND).count() == 1
        with django_capture_on_commit_callbacks(execute=True):
            services.fulfillment_transition(
                fulfillment=order.fulfillments.get(), to=State.PICKING, by=associate
            )
        assert OutboxEntry.objects.filter(name=webhooks.SEND).count() == 2
    assert [r["event"] for r in receiver.delivered()] == [
        "order_placed",
        "fulfillment_created",
        "fulfillment_changed",
    ]


def test_the_retry_sweep_is_a_registered_beat_task(settings):
    from retail.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["webhooks-retry"]
    assert entry["task"] == "retail.webhooks.webhooks_retry_due"
    assert entry["task"] in app.tasks
    assert app.tasks[entry["task"]].apply().get() == 0  # nothing due: nothing queued


def test_deliveries_delivered_long_ago_are_pruned_unless_their_order_is_still_sending(
    shop, store, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        hook_client(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            done = place(shop, store, ref="DONE")
    hook_client("http://127.0.0.1:9/down", name="down")
    with django_capture_on_commit_callbacks(execute=True):
        sending = place(shop, store, ref="SENDING")
    WebhookDelivery.objects.filter(subject_id=sending.pk).update(
        state=WebhookState.DELIVERED, delivered_at=timezone.now()
    )
    WebhookDelivery.objects.filter(subject_id=sending.pk, client__name="down").order_by(
        "-pk"
    ).update(state=WebhookState.PENDING, delivered_at=None)
    later = timezone.now() + dt.timedelta(days=31)
    assert webhooks.prune(now=timezone.now()) == 0  # nothing old enough
    WebhookDelivery.objects.filter(subject_id=sending.pk, state="delivered").update(
        delivered_at=timezone.now() - dt.timedelta(days=40)
    )
    assert webhooks.prune(now=later) == 2  # the finished order's two deliveries
    assert not deliveries(done).exists()
    assert deliveries(sending).count() == 4
