"""The webhook core: no HTTP inside a transaction, leases, order per subject, the
per-client cap and breaker, bad receivers, and what HQ sees."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from retail import webhooks
from retail.api_clients import api_client_create, api_client_deactivate
from retail.models import OutboxEntry, WebhookCircuit, WebhookDelivery, WebhookState
from retail.webhooks import Subject

pytestmark = pytest.mark.django_db


class Receiver:
    """A local webhook receiver. `answer(delivery_id, seen_before)` returns the status
    (and may wait first); every request is kept, in arrival order."""

    def __init__(self, answer=None, location: str = ""):
        self.answer = answer or (lambda delivery_id, seen: 204)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery_id = int(self.headers["X-Aisle-Delivery"])
                with receiver.lock:
                    seen = any(r["delivery"] == delivery_id for r in receiver.requests)
                    receiver.requests.append(
                        {"delivery": delivery_id, "body": body, "headers": dict(self.headers)}
                    )
                status = receiver.answer(delivery_id, seen)
                try:
                    self.send_response(status)
                    if location:
                        self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender gave up waiting: nothing to answer
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[int]:
        return [r["delivery"] for r in self.requests]


def hook_client(url: str, name: str = "webshop"):
    client, _key = api_client_create(name=name, scopes=["orders:read"], webhook_url=url)
    return client


def record_chain(client, n: int, subject: Subject | None = None) -> list[WebhookDelivery]:
    subject = subject or Subject("parcel", 1, "WEB-1")
    out = []
    for i in range(n):
        out += webhooks.record(
            clients=[client],
            subject=subject,
            event="order_changed",
            body=json.dumps({"event": "order_changed", "n": i}),
            change_key=f"test:{subject.type}:{subject.id}:{i}",
        )
    return out


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- No HTTP inside a transaction (Done when 1) ------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_while_the_receiver_holds_the_request_no_row_is_locked_and_no_sender_is_in_a_transaction(
    store,
):
    from decimal import Decimal

    from orders import services
    from orders.services import LineInput, OrderInput
    from tests import factories

    seen: list[dict] = []

    def answer(delivery_id, _seen):
        # A second connection (this thread's own) looks at the database mid-request.
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM retail_webhookdelivery WHERE id = %s FOR UPDATE NOWAIT",
                    [delivery_id],
                )
                locked_ok = cursor.fetchone() is not None
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
                )
                idle_in_transaction = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE a.datname = current_database() AND l.pid <> pg_backend_pid() "
                    "AND l.mode = 'RowShareLock'"
                )
                row_share = cursor.fetchone()[0]
            seen.append(
                {"row_lockable": locked_ok, "idle_in_tx": idle_in_transaction, "rs": row_share}
            )
        except Exception as exc:  # asserted below
            seen.append({"error": repr(exc)})
        finally:
            connections.close_all()
        return 204

    shelf = factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("60.00"))
    factories.give_stock(shelf, jumper, 5)
    with Receiver(answer) as receiver:
        hook_client(receiver.url)
        # The real path: the change commits, the outbox runs the sender, which sends.
        services.order_place(
            OrderInput(
                order_ref="WEB-1",
                channel="web",
                customer=factories.CustomerFactory(),
                lines=[LineInput(jumper, 1, Decimal("60.00"))],
                method="pickup",
                store=store,
                tender="card",
                amount=Decimal("60.00"),
                payment_reference="psp-1",
                fingerprint="WEB-1",
            )
        )
    assert len(seen) == 2  # order_placed, fulfillment_created
    assert all(s.get("row_lockable") is True for s in seen), seen
    assert all(s.get("idle_in_tx") == 0 for s in seen), seen
    assert all(s.get("rs") == 0 for s in seen), seen  # no FOR UPDATE held by anyone
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_receiver_slower_than_the_timeout_advances_its_chain_one_delivery_at_a_time(
    monkeypatch, settings
):
    """50 deliveries wait for a receiver that answers each one's first attempt after
    the timeout: every attempt is recorded (committed) before the next, the chain
    moves one delivery at a time, and nothing is rolled back and started again."""
    monkeypatch.setattr(webhooks, "ANSWER_TIMEOUT", 0.15)
    monkeypatch.setattr(webhooks, "SEND_BUDGET", 600.0)
    monkeypatch.setattr(webhooks, "backoff", lambda attempts: dt.timedelta(0))
    settings.AISLE_WEBHOOK_BREAKER_FAILURES = 1000
    committed: list[tuple] = []

    def answer(delivery_id, seen_before):
        if not seen_before:
            time.sleep(0.4)  # too slow: the sender has given up
            return 204
        # The retry: its first attempt, and the delivery before it, are committed.
        try:
            rows = dict(
                WebhookDelivery.objects.filter(pk__in=[delivery_id - 1, delivery_id]).values_list(
                    "pk", "attempts"
                )
            )
            before = WebhookDelivery.objects.filter(pk=delivery_id - 1).values_list(
                "state", flat=True
            )
            committed.append((delivery_id, rows.get(delivery_id), list(before)))
        finally:
            connections.close_all()
        return 204

    with Receiver(answer) as receiver:
        client = hook_client(receiver.url)
        with transaction.atomic():
            chain = record_chain(client, 50)  # queued senders run after this commit
        ids = [d.pk for d in chain]
        # Whatever the first sender left (it stops when nothing is due), drive to the end.
        for _ in range(5):
            if not WebhookDelivery.objects.exclude(state=WebhookState.DELIVERED).exists():
                break
            webhooks.webhooks_send(client_id=client.pk)
    assert (
        list(WebhookDelivery.objects.order_by("pk").values_list("state", flat=True))
        == ["delivered"] * 50
    )
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {2}
    # Each delivery twice (late, then on time), strictly one after the other.
    assert receiver.ids() == [i for i in ids for _ in range(2)]
    assert [c[1] for c in committed] == [1] * 50  # the late attempt was on record
    assert committed[0][2] == [] and all(c[2] == ["delivered"] for c in committed[1:])


# --- Leases, caps, breaker ---------------------------------------------------------------


def test_a_chain_under_a_live_lease_waits_and_other_chains_go(settings):
    settings.AISLE_WEBHOOK_IN_FLIGHT = 5
    client = hook_client("http://127.0.0.1:9/never-called")
    a = record_chain(client, 2, Subject("parcel", 1, "A"))
    b = record_chain(client, 1, Subject("parcel", 2, "B"))
    assert webhooks.claim(client.pk).delivery_id == a[0].pk
    assert webhooks.claim(client.pk).delivery_id == b[0].pk  # A's next waits for A's head
    assert webhooks.claim(client.pk) is None


def test_a_client_has_at_most_its_in_flight_cap_of_deliveries_leased(settings):
    client = hook_client("http://127.0.0.1:9/never-called")
    for subject_id in range(1, 6):
        record_chain(client, 1, Subject("parcel", subject_id))
    claims = [webhooks.claim(client.pk) for _ in range(3)]
    assert [c is not None for c in claims] == [True, True, False]  # default cap: 2
    assert WebhookDelivery.objects.filter(leased_until__isnull=False).count() == 2
    # One finishes: one more may go.
    webhooks.record_outcome(claims[0], webhooks.Outcome(True, 204))
    assert webhooks.claim(client.pk) is not None
    assert webhooks.claim(client.pk) is None
    settings.AISLE_WEBHOOK_IN_FLIGHT = 4
    assert webhooks.claim(client.pk) is not None
    assert webhooks.claim(client.pk) is not None
    assert WebhookDelivery.objects.filter(leased_until__isnull=False).count() == 4


def test_a_worker_killed_mid_send_resends_exactly_its_one_delivery_after_the_lease(
    django_capture_on_commit_callbacks,
):
    with Receiver() as receiver:
        client = hook_client(receiver.url)
        chain = record_chain(client, 3)
        start = timezone.now()
        # A worker claims and sends the head, then dies before recording it.
        dead = webhooks.claim(client.pk)
        webhooks.post(dead)
        assert receiver.ids() == [chain[0].pk]
        # While its lease lives, nobody sends that chain.
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.webhooks_send(client_id=client.pk) == 0
            assert webhooks.retry_due() == 0
        # The lease runs out: the sweep queues a sender, which resends that one and goes on.
        later = start + webhooks.LEASE + dt.timedelta(seconds=1)
        with (
            time_machine.travel(later, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert webhooks.retry_due() == 1
        # The dead worker's late outcome is refused: the delivery is someone else's now.
        assert webhooks.record_outcome(dead, webhooks.Outcome(False, 500, "HTTP 500")) is False
    assert receiver.ids() == [chain[0].pk, chain[0].pk, chain[1].pk, chain[2].pk]
    assert list(WebhookDelivery.objects.order_by("pk").values_list("state", "attempts")) == [
        ("delivered", 1),
        ("delivered", 1),
        ("delivered", 1),
    ]


def test_a_failing_client_opens_its_breaker_while_other_clients_flow(
    settings, django_capture_on_commit_callbacks
):
    settings.AISLE_WEBHOOK_BREAKER_FAILURES = 3
    settings.AISLE_WEBHOOK_BREAKER_COOLDOWN = 60
    failing = {"on": True}
    with (
        Receiver(lambda d, s: 500 if failing["on"] else 204) as bad,
        Receiver() as good,
    ):
        sick = hook_client(bad.url, name="sick")
        well = hook_client(good.url, name="well")
        start = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            for subject_id in range(1, 6):
                webhooks.record(
                    clients=[sick, well],
                    subject=Subject("parcel", subject_id),
                    event="order_placed",
                    body="{}",
                )
        # Three failures (one per chain) open the breaker: the other two chains wait.
        assert len(bad.requests) == 3
        assert len(good.requests) == 5
        stats = {s["name"]: s for s in webhooks.client_stats()}
        assert stats["sick"]["breaker"] == "open" and stats["well"]["breaker"] == "closed"
        assert stats["sick"]["waiting"] == 5 and stats["sick"]["failing"] == 3
        # Open: no sender is queued for it, even when its deliveries are due.
        with (
            time_machine.travel(start + dt.timedelta(seconds=30), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert webhooks.retry_due() == 0
            assert webhooks.webhooks_send(client_id=sick.pk) == 0
        # After the cool-down it is half-open: one probe; it fails and the breaker reopens.
        with (
            time_machine.travel(start + dt.timedelta(seconds=61), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert webhooks.client_stats()[0]["breaker"] == "half_open"
            assert webhooks.retry_due() == 1
        assert len(bad.requests) == 4
        circuit = WebhookCircuit.objects.get(client=sick)
        assert circuit.failures == 4
        assert circuit.open_until == start + dt.timedelta(seconds=61 + 120)  # doubled
        # The receiver recovers: the next probe closes the breaker and everything goes.
        failing["on"] = False
        with (
            time_machine.travel(start + dt.timedelta(seconds=61 + 121), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert webhooks.retry_due() == 1
    assert WebhookCircuit.objects.get(client=sick).failures == 0
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}
    assert webhooks.client_stats()[0]["breaker"] == "closed"


# --- Bad input -----------------------------------------------------------------------------


def _one_attempt(url: str, django_capture_on_commit_callbacks) -> WebhookDelivery:
    client = hook_client(url)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = record_chain(client, 1)
    delivery.refresh_from_db()
    return delivery


def _retried(delivery: WebhookDelivery) -> bool:
    return (
        delivery.state == WebhookState.PENDING
        and delivery.attempts == 1
        and delivery.leased_until is None
        and delivery.next_attempt_at > timezone.now()
    )


def test_a_url_that_does_not_resolve_is_a_failed_attempt_with_its_reason(
    monkeypatch, django_capture_on_commit_callbacks
):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    delivery = _one_attempt("http://hooks.example.invalid/x", django_capture_on_commit_callbacks)
    assert delivery.last_error == "gaierror: the webhook host does not resolve."
    assert _retried(delivery)


def test_a_name_lookup_that_hangs_is_given_up_after_the_connect_timeout(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks, "CONNECT_TIMEOUT", 0.2)

    def hanging_lookup(*args, **kwargs):
        time.sleep(1)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_lookup)
    delivery = _one_attempt("http://hooks.example.invalid/x", django_capture_on_commit_callbacks)
    assert delivery.last_error == "TimeoutError: no DNS answer within 0.2 s."
    assert _retried(delivery)


def test_a_refused_connection_is_a_failed_attempt_with_its_reason(
    django_capture_on_commit_callbacks,
):
    url = f"http://127.0.0.1:{closed_port()}/x"
    delivery = _one_attempt(url, django_capture_on_commit_callbacks)
    assert delivery.last_error == "ConnectionRefusedError: the receiver refused the connection."
    assert delivery.last_status is None
    assert _retried(delivery)


def test_a_redirect_is_not_followed(django_capture_on_commit_callbacks):
    with Receiver(lambda d, s: 302, location="http://127.0.0.1:9/elsewhere") as receiver:
        delivery = _one_attempt(receiver.url, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    assert (delivery.last_status, delivery.last_error) == (
        302,
        "HTTP 302: redirects are not followed.",
    )
    assert _retried(delivery)


def test_a_500_is_retried_later(django_capture_on_commit_callbacks):
    with Receiver(lambda d, s: 500) as receiver:
        delivery = _one_attempt(receiver.url, django_capture_on_commit_callbacks)
    assert (delivery.last_status, delivery.last_error) == (500, "HTTP 500")
    assert _retried(delivery)


def test_a_receiver_that_hangs_times_out_and_is_retried(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks, "ANSWER_TIMEOUT", 0.2)
    listener = socket.socket()  # accepts connections (the kernel does) and never answers
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
        delivery = _one_attempt(url, django_capture_on_commit_callbacks)
    finally:
        listener.close()
    assert delivery.last_error == "TimeoutError: no answer within 0.2 s."
    assert _retried(delivery)


def test_a_2xx_after_the_deadline_counts_as_a_failure(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks, "ANSWER_TIMEOUT", 0.2)

    def late(delivery_id, seen):
        time.sleep(0.5)
        return 200

    with Receiver(late) as receiver:
        delivery = _one_attempt(receiver.url, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    assert delivery.last_error == "TimeoutError: no answer within 0.2 s."
    assert _retried(delivery)


def test_deliveries_of_a_deactivated_client_are_dropped_and_others_still_go(
    django_capture_on_commit_callbacks,
):
    with Receiver() as receiver:
        gone = hook_client(receiver.url, name="gone")
        stays = hook_client(receiver.url, name="stays")
        # Both hear the same subject; one is deactivated before anything is sent.
        webhooks.record(clients=[gone, stays], subject=Subject("parcel", 7), event="e", body="{}")
        webhooks.record(clients=[gone, stays], subject=Subject("parcel", 7), event="e", body="{}")
        api_client_deactivate(client=gone)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.retry_due(now=timezone.now() + dt.timedelta(minutes=5))
    dropped = WebhookDelivery.objects.filter(client=gone)
    assert set(dropped.values_list("state", "last_error")) == {
        ("dropped", "The API client is inactive.")
    }
    assert set(WebhookDelivery.objects.filter(client=stays).values_list("state", flat=True)) == {
        "delivered"
    }
    assert len(receiver.requests) == 2  # only the active client's


def test_deliveries_of_a_deleted_subject_are_dropped_and_the_next_chain_goes(
    monkeypatch, django_capture_on_commit_callbacks
):
    alive = {2}
    monkeypatch.setitem(webhooks._subject_exists, "thing", lambda pk: pk in alive)
    with Receiver() as receiver:
        client = hook_client(receiver.url)
        gone = record_chain(client, 2, Subject("thing", 1))
        kept = record_chain(client, 1, Subject("thing", 2))
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.retry_due(now=timezone.now() + dt.timedelta(minutes=5))
    assert receiver.ids() == [kept[0].pk]
    assert set(
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in gone]).values_list(
            "state", "last_error"
        )
    ) == {("dropped", "The subject no longer exists.")}


def test_orders_register_their_subject_so_a_deleted_order_is_known():
    assert webhooks._subject_exists["order"](10**12) is False


# --- What HQ sees --------------------------------------------------------------------------


def test_client_stats_give_each_clients_backlog_oldest_wait_failures_and_breaker(
    django_assert_num_queries,
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        a = hook_client("http://127.0.0.1:9/a", name="a")
        b = hook_client("http://127.0.0.1:9/b", name="b")
        hook_client("", name="no-hooks")
        record_chain(a, 3)
    WebhookDelivery.objects.filter(pk=WebhookDelivery.objects.order_by("pk")[0].pk).update(
        attempts=2, last_error="HTTP 500"
    )
    WebhookCircuit.objects.create(client=b, failures=9, open_until=start + dt.timedelta(hours=1))
    with django_assert_num_queries(1):
        stats = webhooks.client_stats(now=start + dt.timedelta(seconds=90))
    assert stats == [
        {
            "client_id": a.pk,
            "name": "a",
            "waiting": 3,
            "oldest_wait_seconds": 90.0,
            "failing": 1,
            "breaker": "closed",
        },
        {
            "client_id": b.pk,
            "name": "b",
            "waiting": 0,
            "oldest_wait_seconds": 0.0,
            "failing": 0,
            "breaker": "open",
        },
    ]


@pytest.mark.parametrize("clients", [1, 6])
def test_the_api_client_list_shows_webhook_health_in_a_fixed_number_of_queries(
    hq_client, clients, django_assert_max_num_queries
):
    for i in range(clients):
        client = hook_client(f"http://127.0.0.1:9/{i}", name=f"client-{i}")
        record_chain(client, 2, Subject("parcel", i))
        WebhookCircuit.objects.create(client=client, failures=i)
    with django_assert_max_num_queries(12):
        page = hq_client.get(reverse("admin:retail_apiclient_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "webhooks waiting" in html.lower() and "webhook breaker" in html.lower()
    assert html.count("closed (sending)") + html.count("open (paused") == clients


def test_hq_sees_why_a_delivery_was_dropped(hq_client):
    client = hook_client("http://127.0.0.1:9/x")
    record_chain(client, 1)
    api_client_deactivate(client=client)
    assert webhooks.claim(client.pk) is None
    page = hq_client.get(reverse("admin:retail_webhookdelivery_changelist"), {"health": "dropped"})
    assert page.status_code == 200
    assert "The API client is inactive." in page.content.decode()


def test_one_sender_is_queued_per_client_and_transaction_on_the_webhooks_queue(
    settings, django_capture_on_commit_callbacks
):
    client = hook_client("http://127.0.0.1:9/x")
    with django_capture_on_commit_callbacks(execute=False):
        record_chain(client, 3)
    entries = OutboxEntry.objects.filter(name=webhooks.SEND)
    assert [(e.payload, e.queue) for e in entries] == [({"client_id": client.pk}, "webhooks")]


def test_a_pump_queued_before_the_move_hands_over_to_the_core_sender(
    django_capture_on_commit_callbacks,
):
    from orders import webhooks as order_webhooks

    with Receiver() as receiver:
        client = hook_client(receiver.url)
        (delivery,) = record_chain(client, 1)  # waiting, no sender queued (no commit)
        with django_capture_on_commit_callbacks(execute=True):
            order_webhooks.webhook_pump(client_id=client.pk, order_id=1)
    assert receiver.ids() == [delivery.pk]
    handed_over = OutboxEntry.objects.filter(name=webhooks.SEND).latest("pk")
    assert (handed_over.queue, handed_over.state) == ("webhooks", "done")


def test_an_attempt_in_flight_when_the_breaker_opens_does_not_lengthen_the_pause(settings):
    settings.AISLE_WEBHOOK_BREAKER_FAILURES = 2
    settings.AISLE_WEBHOOK_IN_FLIGHT = 3
    client = hook_client("http://127.0.0.1:9/x")
    for subject_id in range(3):
        record_chain(client, 1, Subject("parcel", subject_id))
    claims = [webhooks.claim(client.pk) for _ in range(3)]
    failed = webhooks.Outcome(False, 500, "HTTP 500")
    webhooks.record_outcome(claims[0], failed)
    webhooks.record_outcome(claims[1], failed)
    opened = WebhookCircuit.objects.get(client=client).open_until
    assert opened is not None and webhooks.claim(client.pk) is None
    webhooks.record_outcome(claims[2], failed)
    circuit = WebhookCircuit.objects.get(client=client)
    assert (circuit.failures, circuit.open_until) == (3, opened)


def test_a_sender_hands_over_to_a_fresh_task_after_its_budget(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks, "SEND_BUDGET", 0.0)
    with Receiver() as receiver:
        client = hook_client(receiver.url)
        for subject_id in range(3):
            record_chain(client, 1, Subject("parcel", subject_id))
        before = OutboxEntry.objects.filter(name=webhooks.SEND).count()
        with django_capture_on_commit_callbacks(execute=False) as queued:
            assert webhooks.webhooks_send(client_id=client.pk) == 1
    assert len(receiver.requests) == 1
    assert OutboxEntry.objects.filter(name=webhooks.SEND).count() == before + 1
    assert len(queued) == 1  # published after its commit, on the webhooks queue
