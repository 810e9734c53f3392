"""The webhook core: any app's changes POSTed to API clients, signed, in order, retried.

    webhooks.record(clients=[...], subject=Subject("order", order.pk, order.order_ref),
                    event="order_placed", body=json_text, change_key="order_event:42")

**Apps own the what, the core owns the how.** An app decides which clients hear a
change and builds the body (orders: `orders.webhooks`); it calls `record` inside the
change's own transaction. The core stores one `WebhookDelivery` per client, signs
(``X-Aisle-Signature: sha256=<HMAC-SHA256 of the body with the client's webhook
secret>``), names it (``X-Aisle-Delivery``: the delivery id, the same on every
attempt; ``X-Aisle-Event``), sends, retries and records.

**Order per subject.** A delivery's subject (type and id) defines its chain: the
deliveries of one subject to one client go strictly in `pk` order. An order's
subject is the order, and so is a return's or a fulfilment's, so a change never
overtakes the change that caused it. An app registers each subject type with
`register_subject(type, exists=...)` so that the core can tell a deleted subject.

**No HTTP inside a transaction or under a row lock.** A sender
(`webhooks_send(client_id=...)`, run by the outbox on the `AISLE_WEBHOOK_QUEUE`
Celery queue) repeats three steps:
1. *claim*, in a short transaction: lock the client's breaker row, check the breaker
   and the client's in-flight cap (`AISLE_WEBHOOK_IN_FLIGHT`, default 2), then pick
   with ``SELECT … FOR UPDATE SKIP LOCKED`` the oldest delivery that heads its chain
   (no earlier undelivered one), is due (`next_attempt_at`) and whose chain holds no
   live lease; set its lease (`leased_until`, `LEASE`) and commit;
2. *send*, with no transaction open: resolve the host and connect (and shake hands)
   within `CONNECT_TIMEOUT` (3 s) each, answer within `ANSWER_TIMEOUT` (10 s) — a 2xx
   that comes later is a failure; redirects are never followed;
3. *record*, in another short transaction: the attempt, its status and error; the
   lease ends; the breaker counts the outcome.
A worker killed during step 2 leaves one delivery leased; once the lease runs out the
beat sweep queues a sender and that one delivery (only) is sent again. A sender stops
after `SEND_BUDGET` seconds and queues another, so one client's backlog never keeps
a worker from the others for long.

**Retries.** A failed attempt waits 10 s, doubling, at most an hour; after
`AISLE_WEBHOOK_MAX_ATTEMPTS` (default 12, about three and a half hours) the delivery
is `failed`, its chain waits behind it, and HQ can resend it from admin.

**Circuit breaker, per client.** `AISLE_WEBHOOK_BREAKER_FAILURES` (default 5)
consecutive failed attempts open the client's breaker: none of its deliveries is
claimed (no worker waits on it) for `AISLE_WEBHOOK_BREAKER_COOLDOWN` seconds (default
30, doubling with each failed probe, at most 10 minutes). Then it is half-open: one
delivery at a time is tried; a 2xx closes it, a failure opens it again. Other
clients flow meanwhile.

**Bad input**, each recorded on the delivery with its reason (admin shows it):
- a URL that does not resolve, refuses the connection, redirects (3xx: never
  followed), answers 4xx/5xx, hangs, or answers 2xx after the deadline: a failed
  attempt, retried as above (the breaker counts it);
- the client deactivated, or its webhook URL removed, while deliveries wait: its
  undelivered deliveries are *dropped* (state `dropped`, "The API client is
  inactive." / "has no webhook URL") — they are not sent later; HQ can resend them
  once the client is active again;
- the subject deleted: its chain's undelivered deliveries are dropped ("The
  subject no longer exists.").
Dropped deliveries never hold up a chain, a worker, or another client.

The beat task `webhooks_retry_due` (every 10 s) queues a sender for each client with
a due chain (after a failed attempt's wait, an expired lease, or a lost task) whose
breaker lets it send; `webhooks_prune` forgets deliveries finished long ago
(`AISLE_WEBHOOK_RETENTION_DAYS`, default 30). `client_stats()` gives HQ and the
metrics each client's waiting deliveries, oldest wait, failures and breaker state.

Logs name deliveries and clients by id only; a body may hold personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import logging
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from retail import outbox
from retail.models import (
    ApiClient,
    OutboxEntry,
    OutboxState,
    WebhookCircuit,
    WebhookDelivery,
    WebhookState,
)
from retail.webhook_models import UNDELIVERED

logger = logging.getLogger(__name__)

SEND = "retail.webhooks.webhooks_send"
SIGNATURE_HEADER = "X-Aisle-Signature"
DELIVERY_HEADER = "X-Aisle-Delivery"
EVENT_HEADER = "X-Aisle-Event"
CONNECT_TIMEOUT = 3.0  # seconds to resolve, connect (and shake hands for https)
ANSWER_TIMEOUT = 10.0  # seconds from the request sent to the answer's status line
# How long a claimed delivery is held for its sender: well past both timeouts.
LEASE = dt.timedelta(seconds=60)
# A sender hands over to a fresh task after this long, so clients take turns.
SEND_BUDGET = 20.0
SWEEP_LIMIT = 500
BREAKER_MAX_COOLDOWN = 600


class Breaker:
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


# --- Settings ----------------------------------------------------------------------------


def max_attempts() -> int:
    return int(getattr(settings, "AISLE_WEBHOOK_MAX_ATTEMPTS", 12))


def in_flight_cap() -> int:
    return max(1, int(getattr(settings, "AISLE_WEBHOOK_IN_FLIGHT", 2)))


def breaker_threshold() -> int:
    return max(1, int(getattr(settings, "AISLE_WEBHOOK_BREAKER_FAILURES", 5)))


def breaker_cooldown(failures: int) -> dt.timedelta:
    """The pause after the breaker opens: the base, doubling with each failed probe."""
    base = float(getattr(settings, "AISLE_WEBHOOK_BREAKER_COOLDOWN", 30))
    extra = max(0, failures - breaker_threshold())
    return dt.timedelta(seconds=min(BREAKER_MAX_COOLDOWN, base * 2 ** min(extra, 10)))


def queue() -> str:
    return getattr(settings, "AISLE_WEBHOOK_QUEUE", "webhooks")


def retention() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "AISLE_WEBHOOK_RETENTION_DAYS", 30)))


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the n-th failed attempt: 10 s, 20 s, 40 s … at most an hour."""
    return dt.timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- Subjects ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What a delivery is about, for ordering: ("order", 42, "WEB-1")."""

    type: str
    id: int
    ref: str = ""


_subject_exists: dict[str, Callable[[int], bool]] = {}


def register_subject(subject_type: str, *, exists: Callable[[int], bool]) -> None:
    """An app names a subject type and how to tell whether one still exists."""
    _subject_exists[subject_type] = exists


def _exists(delivery: WebhookDelivery) -> bool:
    check = _subject_exists.get(delivery.subject_type)
    return True if check is None else bool(check(delivery.subject_id))


# --- Recording ---------------------------------------------------------------------------


def record(
    *,
    clients: Iterable[ApiClient],
    subject: Subject,
    event: str,
    body: str,
    change_key: str = "",
    at: dt.datetime | None = None,
) -> list[WebhookDelivery]:
    """Record one delivery of `body` per client, inside the caller's transaction, and
    queue each client's sender to run after commit (once per client per transaction)."""
    deliveries = []
    for client in clients:
        delivery = WebhookDelivery.objects.create(
            client=client,
            subject_type=subject.type,
            subject_id=subject.id,
            subject_ref=subject.ref[:100],
            change_key=change_key,
            event=event,
            body=body,
            next_attempt_at=at or timezone.now(),
        )
        if not _sender_waiting(client.pk):
            _senders.entries[client.pk] = _queue_send(client.pk).pk
        deliveries.append(delivery)
    return deliveries


# The sender this thread last queued for each client. While that outbox entry is still
# pending (its change has not committed yet, or the broker is down), it will send this
# change too: a second sender would find nothing to do.
_senders = threading.local()


def _sender_waiting(client_id: int) -> bool:
    entries = getattr(_senders, "entries", None)
    if entries is None or len(entries) > 1000:
        entries = _senders.entries = {}
    entry_id = entries.get(client_id)
    return (
        entry_id is not None
        and OutboxEntry.objects.filter(
            pk=entry_id, state=OutboxState.PENDING, name=SEND, payload__client_id=client_id
        ).exists()
    )


def _queue_send(client_id: int, *, key: str | None = None) -> OutboxEntry:
    return outbox.enqueue_task(SEND, kwargs={"client_id": client_id}, key=key, queue=queue())


@transaction.atomic
def queue_sender(*, client_id: int) -> OutboxEntry:
    """Queue a sender for the client on the webhooks queue (published after commit)."""
    return _queue_send(client_id)


# --- Claiming ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A delivery leased to this sender, with what sending it needs."""

    delivery_id: int
    client_id: int
    token: str
    url: str
    secret: str
    event: str
    body: str


def _chain_of(outer: str = "") -> dict:
    prefix = outer
    return {
        "client_id": OuterRef(f"{prefix}client_id"),
        "subject_type": OuterRef(f"{prefix}subject_type"),
        "subject_id": OuterRef(f"{prefix}subject_id"),
    }


def due_heads(now: dt.datetime) -> QuerySet[WebhookDelivery]:
    """Deliveries that may be sent now: pending, due, first undelivered of their chain,
    and no delivery of their chain under a live lease."""
    earlier = WebhookDelivery.objects.filter(
        **_chain_of(), pk__lt=OuterRef("pk"), state__in=UNDELIVERED
    )
    leased = WebhookDelivery.objects.filter(**_chain_of(), leased_until__gt=now)
    return (
        WebhookDelivery.objects.filter(state=WebhookState.PENDING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .filter(~Exists(earlier), ~Exists(leased))
    )


def breaker_state(circuit: WebhookCircuit | None, now: dt.datetime) -> str:
    if circuit is None or circuit.failures < breaker_threshold() or circuit.open_until is None:
        return Breaker.CLOSED
    return Breaker.OPEN if circuit.open_until > now else Breaker.HALF_OPEN


def _drop(queryset: QuerySet[WebhookDelivery], reason: str, now: dt.datetime) -> int:
    return queryset.filter(state__in=UNDELIVERED).update(
        state=WebhookState.DROPPED,
        last_error=reason,
        leased_until=None,
        lease_token="",
        last_attempt_at=now,
    )


def _locked_circuit(client_id: int) -> WebhookCircuit | None:
    return (
        WebhookCircuit.objects.select_for_update(of=("self",))
        .select_related("client")
        .only(
            "pk",
            "client_id",
            "failures",
            "open_until",
            "client__id",
            "client__is_active",
            "client__webhook_url",
            "client__webhook_secret",
        )
        .filter(client_id=client_id)
        .first()
    )


def claim(client_id: int) -> Claim | None:
    """Step 1: lease the client's oldest sendable delivery, or None (nothing due, the
    breaker open, or the client at its in-flight cap)."""
    for _ in range(20):  # a deleted subject's chain is dropped and the next one tried
        now = timezone.now()
        with transaction.atomic():
            # The client's breaker row, locked (it serialises the client's claims), with
            # the client read in the same query; made on the client's first claim.
            circuit = _locked_circuit(client_id)
            if circuit is None:
                if not ApiClient.objects.filter(pk=client_id).exists():
                    return None
                WebhookCircuit.objects.get_or_create(client_id=client_id)
                circuit = _locked_circuit(client_id)
            client = circuit.client
            mine = WebhookDelivery.objects.filter(client_id=client_id)
            if not client.is_active or not client.webhook_url:
                reason = (
                    "The API client is inactive."
                    if not client.is_active
                    else "The API client has no webhook URL."
                )
                dropped = _drop(mine, reason, now)
                if dropped:
                    logger.info("webhooks: client %s: %s deliveries dropped", client_id, dropped)
                return None
            state = breaker_state(circuit, now)
            if state == Breaker.OPEN:
                return None
            cap = 1 if state == Breaker.HALF_OPEN else in_flight_cap()
            if mine.filter(leased_until__gt=now).count() >= cap:
                return None
            head = (
                due_heads(now)
                .filter(client_id=client_id)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .first()
            )
            if head is None:
                return None
            if not _exists(head):
                _drop(
                    mine.filter(subject_type=head.subject_type, subject_id=head.subject_id),
                    "The subject no longer exists.",
                    now,
                )
                continue
            head.leased_until = now + LEASE
            head.lease_token = secrets.token_hex(8)
            head.save(update_fields=["leased_until", "lease_token"])
            return Claim(
                delivery_id=head.pk,
                client_id=client_id,
                token=head.lease_token,
                url=client.webhook_url,
                secret=client.webhook_secret,
                event=head.event,
                body=head.body,
            )
    return None


# --- Sending -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None = None
    error: str = ""


def post(claim: Claim) -> Outcome:
    """Step 2: POST the body, with no transaction open. Never raises."""
    if not claim.secret:
        return Outcome(False, None, "The API client has no webhook secret to sign with.")
    parts = urlsplit(claim.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Outcome(False, None, "The webhook URL is not an http(s) URL.")
    body = claim.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Aisle-Webhooks/2",
        SIGNATURE_HEADER: sign(claim.secret, body),
        DELIVERY_HEADER: str(claim.delivery_id),
        EVENT_HEADER: claim.event,
    }
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return Outcome(False, None, "The webhook URL has an invalid port.")
    host = parts.hostname
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=CONNECT_TIMEOUT)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT)
    phase = "resolve"
    try:
        addresses = _resolve(host, port)
        phase = "connect"
        conn.sock = _connect(addresses, host, https=parts.scheme == "https")
        phase = "answer"
        conn.sock.settimeout(ANSWER_TIMEOUT)
        sent_at = time.monotonic()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        status = response.status
        waited = time.monotonic() - sent_at
    except socket.gaierror as exc:
        return Outcome(False, None, f"{type(exc).__name__}: the webhook host does not resolve.")
    except ConnectionRefusedError as exc:
        return Outcome(False, None, f"{type(exc).__name__}: the receiver refused the connection.")
    except TimeoutError:
        limit = ANSWER_TIMEOUT if phase == "answer" else CONNECT_TIMEOUT
        what = {"resolve": "no DNS answer", "connect": "no connection"}.get(phase, "no answer")
        return Outcome(False, None, f"TimeoutError: {what} within {limit:g} s.")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        conn.close()
    if waited > ANSWER_TIMEOUT:
        late = f"Answered after {waited:.0f} s (limit {ANSWER_TIMEOUT:g} s)."
        return Outcome(False, status, late)
    if 200 <= status < 300:
        return Outcome(True, status, "")
    if 300 <= status < 400:
        return Outcome(False, status, f"HTTP {status}: redirects are not followed.")
    return Outcome(False, status, f"HTTP {status}")


# Name lookups have no timeout of their own: they run here and are waited for at most
# CONNECT_TIMEOUT (a hung lookup keeps one of these threads, never the sender).
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aisle-webhook-dns")


def _resolve(host: str, port: int) -> list[tuple]:
    lookup = _resolver.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=CONNECT_TIMEOUT)
    except FutureTimeout:
        lookup.cancel()
        raise TimeoutError from None
    return [info[4][:2] for info in infos]


def _connect(addresses: list[tuple], host: str, *, https: bool) -> socket.socket:
    """Connect to the first address that answers (and shake hands for https), all
    within CONNECT_TIMEOUT."""
    deadline = time.monotonic() + CONNECT_TIMEOUT
    error: OSError = TimeoutError()
    for address in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        try:
            sock = socket.create_connection(address, timeout=left)
        except OSError as exc:
            error = exc
            continue
        if https:
            try:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
        return sock
    raise error


# --- Recording the outcome -----------------------------------------------------------------


def record_outcome(claim: Claim, outcome: Outcome) -> bool:
    """Step 3: record the attempt and end the lease; the breaker counts it. False when
    the lease was lost (ran out and another sender took the delivery)."""
    now = timezone.now()
    with transaction.atomic():
        # The breaker row first, as in `claim`, so the two never wait on each other.
        circuit = WebhookCircuit.objects.select_for_update().filter(client_id=claim.client_id)
        circuit = circuit.first()
        row = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=claim.delivery_id, lease_token=claim.token)
            .defer("body")
            .first()
        )
        if row is None:
            logger.warning("webhooks: delivery %s: lease lost, not recorded", claim.delivery_id)
            return False
        row.attempts += 1
        row.last_attempt_at = now
        row.last_status = outcome.status
        row.leased_until = None
        row.lease_token = ""
        if outcome.delivered:
            row.state = WebhookState.DELIVERED
            row.delivered_at = now
            row.last_error = ""
        else:
            row.last_error = outcome.error
            if row.attempts >= max_attempts():
                row.state = WebhookState.FAILED
            else:
                row.next_attempt_at = now + backoff(row.attempts)
            logger.warning(
                "webhooks: delivery %s to client %s failed (attempt %s, status %s)%s",
                row.pk,
                claim.client_id,
                row.attempts,
                outcome.status,
                " - no retry left" if row.state == WebhookState.FAILED else "",
            )
        row.save(
            update_fields=[
                "state",
                "attempts",
                "last_attempt_at",
                "last_status",
                "last_error",
                "next_attempt_at",
                "delivered_at",
                "leased_until",
                "lease_token",
            ]
        )
        if circuit is not None:
            _count(circuit, outcome, now)
    return True


def _count(circuit: WebhookCircuit, outcome: Outcome, now: dt.datetime) -> None:
    if outcome.delivered:
        if circuit.failures or circuit.open_until:
            if circuit.failures >= breaker_threshold():
                logger.info("webhooks: client %s: breaker closed", circuit.client_id)
            circuit.failures, circuit.open_until = 0, None
            circuit.save(update_fields=["failures", "open_until"])
        return
    circuit.failures += 1
    circuit.last_failure_at = now
    circuit.last_error = outcome.error
    already_open = circuit.open_until is not None and circuit.open_until > now
    if circuit.failures >= breaker_threshold() and not already_open:
        # Opens, or reopens after a failed probe; an attempt that was in flight when
        # it opened does not lengthen the pause.
        circuit.open_until = now + breaker_cooldown(circuit.failures)
        logger.warning(
            "webhooks: client %s: breaker open after %s failures, until %s",
            circuit.client_id,
            circuit.failures,
            circuit.open_until.isoformat(),
        )
    circuit.save(update_fields=["failures", "last_failure_at", "last_error", "open_until"])


# --- The sender ----------------------------------------------------------------------------


def webhooks_send(*, client_id: int) -> int:
    """Outbox task (queue `AISLE_WEBHOOK_QUEUE`): claim, send and record the client's
    due deliveries one at a time until none is claimable; after `SEND_BUDGET` seconds
    it queues a fresh sender and stops. Returns how many attempts it made. Idempotent:
    a second sender claims only what nobody holds."""
    started = time.monotonic()
    attempts = 0
    while True:
        leased = claim(client_id)
        if leased is None:
            return attempts
        record_outcome(leased, post(leased))
        attempts += 1
        if time.monotonic() - started > SEND_BUDGET:
            with transaction.atomic():
                _queue_send(client_id)
            return attempts


# The outbox holds an entry for as long as its task may run.
webhooks_send.time_limit = int(SEND_BUDGET + CONNECT_TIMEOUT + ANSWER_TIMEOUT + 30)


def retry_due(now: dt.datetime | None = None) -> int:
    """Queue senders (up to its in-flight cap) for every client with a due chain (a
    failed attempt's wait over, a lease run out, or a lost task) whose breaker lets it
    send. Returns how many senders were queued."""
    now = now or timezone.now()
    paused = WebhookCircuit.objects.filter(
        failures__gte=breaker_threshold(), open_until__gt=now
    ).values("client_id")
    due = (
        due_heads(now)
        .exclude(client_id__in=paused)
        .values("client_id")
        .annotate(chains=Count("pk"))
        .order_by("client_id")[:SWEEP_LIMIT]
    )
    probing = set(
        WebhookCircuit.objects.filter(
            failures__gte=breaker_threshold(), open_until__lte=now
        ).values_list("client_id", flat=True)
    )
    cap = in_flight_cap()
    queued = 0
    with transaction.atomic():
        for row in due:
            # As many senders as the client may have in flight (a backlog after an
            # outage drains that much faster; extra ones find nothing and stop), one
            # for a half-open breaker's probe.
            senders = 1 if row["client_id"] in probing else min(cap, row["chains"])
            for _ in range(senders):
                _queue_send(row["client_id"])
                queued += 1
    return queued


@transaction.atomic
def delivery_resend(*, deliveries: Iterable[WebhookDelivery]) -> int:
    """HQ's resend: each delivery is sent again (a failed one unblocks its chain), in
    chain order, with a fresh set of attempts; a client's open breaker goes half-open
    so it is tried at once. Returns how many were queued."""
    ids = [d.pk for d in deliveries]
    rows = list(WebhookDelivery.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    now = timezone.now()
    clients = set()
    for delivery in rows:
        delivery.state = WebhookState.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.delivered_at = None
        delivery.save(update_fields=["state", "attempts", "next_attempt_at", "delivered_at"])
        clients.add(delivery.client_id)
    WebhookCircuit.objects.filter(client_id__in=clients, open_until__gt=now).update(open_until=now)
    for client_id in sorted(clients):
        _queue_send(client_id)
    return len(rows)


def prune(now: dt.datetime | None = None) -> int:
    """Forget deliveries finished (delivered or dropped) long ago, of subjects with
    nothing left to send (a chain still sending keeps its rows). Returns how many."""
    now = now or timezone.now()
    cutoff = now - retention()
    still_sending = WebhookDelivery.objects.filter(
        subject_type=OuterRef("subject_type"),
        subject_id=OuterRef("subject_id"),
        state__in=UNDELIVERED,
    )
    deleted, _ = (
        WebhookDelivery.objects.filter(
            Q(state=WebhookState.DELIVERED, delivered_at__lt=cutoff)
            | Q(state=WebhookState.DROPPED, created_at__lt=cutoff)
        )
        .filter(~Exists(still_sending))
        .delete()
    )
    return deleted


# --- What HQ sees --------------------------------------------------------------------------


def annotate_clients(queryset: QuerySet[ApiClient]) -> QuerySet[ApiClient]:
    """Per client, in the one query: waiting deliveries, the oldest one's recording
    time, failing ones (retrying after an error, or failed); and its breaker row."""
    waiting = Q(webhook_deliveries__state__in=UNDELIVERED)
    failing = Q(webhook_deliveries__state=WebhookState.FAILED) | Q(
        webhook_deliveries__state=WebhookState.PENDING, webhook_deliveries__attempts__gt=0
    )
    return queryset.select_related("webhook_circuit").annotate(
        webhooks_waiting=Count("webhook_deliveries", filter=waiting),
        webhooks_oldest=Min("webhook_deliveries__created_at", filter=waiting),
        webhooks_failing=Count("webhook_deliveries", filter=failing),
    )


def client_breaker(client: ApiClient, now: dt.datetime | None = None) -> str:
    try:
        circuit = client.webhook_circuit
    except WebhookCircuit.DoesNotExist:
        circuit = None
    return breaker_state(circuit, now or timezone.now())


def client_stats(now: dt.datetime | None = None) -> list[dict]:
    """One dict per client with a webhook URL or deliveries waiting: ``{"client_id",
    "name", "waiting", "oldest_wait_seconds", "failing", "breaker"}`` where `failing`
    counts its deliveries retrying after an error or failed, and `breaker` is
    "closed", "open" or "half_open". One query."""
    now = now or timezone.now()
    clients = annotate_clients(ApiClient.objects.order_by("pk"))
    stats = []
    for client in clients:
        if not client.webhook_url and not client.webhooks_waiting:
            continue
        oldest = client.webhooks_oldest
        stats.append(
            {
                "client_id": client.pk,
                "name": client.name,
                "waiting": client.webhooks_waiting,
                "oldest_wait_seconds": max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
                "failing": client.webhooks_failing,
                "breaker": client_breaker(client, now),
            }
        )
    return stats


# --- Beat ----------------------------------------------------------------------------------


@shared_task(name="retail.webhooks.webhooks_retry_due", ignore_result=True)
def webhooks_retry_due() -> int:
    """Beat: queue senders for chains that are due again."""
    return retry_due()


@shared_task(name="retail.webhooks.webhooks_prune", ignore_result=True)
def webhooks_prune() -> int:
    """Beat: forget deliveries finished long ago."""
    return prune()
