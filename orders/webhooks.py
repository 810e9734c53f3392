"""Webhooks to the online channel: every order and fulfilment change, signed, in order.

**Who hears.** Every active API client with a webhook URL and the `orders:read`
scope (the scope that lets it read the order the webhook carries). Orders do not
record which client placed them, and any channel may need to hear about any order
(a web order picked up in store, a till sale), so each such client hears every
order's changes.

**What is a change.** An `OrderEvent` row: `orders.services._event` writes every one
(order placed, fulfilment created or moved, order status, line cancelled, and
whatever later services record through it) and calls `order_changed` in the same
transaction. One `WebhookDelivery` per (client, change).

**The body** is ``{"event", "order_ref", "at", "change": {"fulfillment_id", "from",
"to"}, "order": {...}}`` where ``order`` is the order as ``GET
/api/v1/orders/{order_ref}/`` shows it right after that change. It is serialised
once and resent byte for byte; ``X-Aisle-Signature: sha256=<hex>`` is the
HMAC-SHA256 of those bytes with the client's webhook secret. ``X-Aisle-Delivery``
(the delivery id) lets a receiver drop a duplicate.

**In order, through the outbox.** Deliveries of one order to one client form a
chain sent strictly in `pk` order. The outbox task `webhook_pump` locks the chain
(its first row) and sends its undelivered deliveries in order, each marked
delivered on a 2xx answer. A change queues the pump unless a pump it queued for
that chain has not run yet (it will send this change too). A failure records
the attempt (status, error), stops the chain there and waits (10 s, doubling,
at most an hour); the beat task `webhooks_retry_due` queues the pump of chains
whose wait is over. After `AISLE_WEBHOOK_MAX_ATTEMPTS` (default 12, about three
and a half hours) the delivery is `failed`, the deliveries after it wait, and HQ
can resend it from admin. Logs name deliveries by id only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.request

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from orders.models import OrderEvent, WebhookDelivery, WebhookState
from retail import outbox
from retail.models import ApiClient, OutboxEntry, OutboxState

logger = logging.getLogger(__name__)

SCOPE = "orders:read"
PUMP = "orders.webhooks.webhook_pump"
SIGNATURE_HEADER = "X-Aisle-Signature"
DELIVERY_HEADER = "X-Aisle-Delivery"
EVENT_HEADER = "X-Aisle-Event"
TIMEOUT_SECONDS = 10
# A fresh delivery is sent by the pump queued with it; the sweep only helps one
# whose pump was lost (a crash between commit and publish is already covered by
# the outbox, so this is a second net).
ORPHAN_AFTER = dt.timedelta(minutes=2)
SWEEP_LIMIT = 500
# Deliveries one pump sends in one transaction before it queues itself again.
PUMP_BATCH = 50


def max_attempts() -> int:
    return int(getattr(settings, "AISLE_WEBHOOK_MAX_ATTEMPTS", 12))


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the n-th failed attempt: 10 s, 20 s, 40 s … at most an hour."""
    return dt.timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def subscribers() -> list[ApiClient]:
    """The clients that hear about order changes."""
    clients = ApiClient.objects.filter(is_active=True).exclude(webhook_url="").only("pk", "scopes")
    return [c for c in clients if SCOPE in (c.scopes or [])]


def render_body(event: OrderEvent) -> str:
    """The webhook body for one change: the order as the API shows it right now."""
    from orders.api import load_order, order_shape

    order = load_order(event.order.order_ref)
    payload = {
        "event": event.kind,
        "order_ref": order.order_ref,
        "at": event.at,
        "change": {
            "fulfillment_id": event.fulfillment_id,
            "from": event.from_state,
            "to": event.to_state,
        },
        "order": order_shape(order),
    }
    return json.dumps(payload, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))


def order_changed(event: OrderEvent) -> list[WebhookDelivery]:
    """Record the change's deliveries (inside the change's transaction) and queue
    their pumps in the outbox, which runs them after commit."""
    clients = subscribers()
    if not clients:
        return []
    body = render_body(event)
    deliveries = []
    for client in clients:
        delivery = WebhookDelivery.objects.create(
            client=client,
            order_id=event.order_id,
            order_event=event,
            event=event.kind,
            body=body,
            next_attempt_at=event.at,
        )
        chain = (delivery.client_id, delivery.order_id)
        if not _pump_waiting(chain):
            _pumps.entries[chain] = _queue_pump(*chain, key=f"webhook:{delivery.pk}:new").pk
        deliveries.append(delivery)
    return deliveries


# The pump this thread last queued for each chain. While that outbox entry has not
# been published (the change that queued it has not committed yet, or the broker is
# down and the beat will publish it), it will send this change too: a second pump
# would only find nothing to do.
_pumps = threading.local()


def _pump_waiting(chain: tuple[int, int]) -> bool:
    entries = getattr(_pumps, "entries", None)
    if entries is None or len(entries) > 1000:
        entries = _pumps.entries = {}
    entry_id = entries.get(chain)
    return (
        entry_id is not None
        and OutboxEntry.objects.filter(
            pk=entry_id,
            state=OutboxState.PENDING,
            name=PUMP,
            payload__client_id=chain[0],
            payload__order_id=chain[1],
        ).exists()
    )


def _queue_pump(client_id: int, order_id: int, *, key: str | None) -> OutboxEntry:
    return outbox.enqueue_task(PUMP, kwargs={"client_id": client_id, "order_id": order_id}, key=key)


# --- Sending -------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx: the body is not POSTed elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(delivery: WebhookDelivery) -> tuple[bool, int | None, str]:
    """POST the delivery's body to its client. Returns (delivered, status, error)."""
    client = delivery.client
    if not client.is_active:
        return False, None, "The API client is inactive."
    if not client.webhook_url:
        return False, None, "The API client has no webhook URL."
    if not client.webhook_secret:
        return False, None, "The API client has no webhook secret to sign with."
    if not client.webhook_url.startswith(("http://", "https://")):
        return False, None, "The webhook URL is not http(s)."
    body = delivery.body.encode()
    request = urllib.request.Request(  # noqa: S310 - HQ sets the URL; http(s) only
        client.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Aisle-Webhooks/1",
            SIGNATURE_HEADER: sign(client.webhook_secret, body),
            DELIVERY_HEADER: str(delivery.pk),
            EVENT_HEADER: delivery.event,
        },
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        return False, exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, None, f"{type(exc).__name__}: {reason}"[:500]
    if 200 <= status < 300:
        return True, status, ""
    return False, status, f"HTTP {status}"


def _chain(client_id: int, order_id: int):
    return WebhookDelivery.objects.filter(client_id=client_id, order_id=order_id)


def webhook_pump(*, client_id: int, order_id: int) -> None:
    """Outbox task: send the undelivered deliveries of one (client, order) chain in
    order, while they are answered 2xx (up to `PUMP_BATCH`, then it queues itself
    again). Idempotent: a second pump finds them delivered."""
    with transaction.atomic():
        # The chain's first row never changes hands: locking it serialises the chain.
        first = _chain(client_id, order_id).select_for_update().order_by("pk").first()
        if first is None:
            return
        for _ in range(PUMP_BATCH):
            if not _send_head(client_id, order_id):
                return
        if _chain(client_id, order_id).filter(state=WebhookState.PENDING).exists():
            _queue_pump(client_id, order_id, key=None)


def _send_head(client_id: int, order_id: int) -> bool:
    """Send the chain's earliest undelivered delivery; True when it was delivered."""
    head = (
        _chain(client_id, order_id)
        .exclude(state=WebhookState.DELIVERED)
        .select_related("client")
        .order_by("pk")
        .first()
    )
    if head is None or head.state == WebhookState.FAILED:
        return False  # all sent, or waiting for HQ to resend the failed one
    now = timezone.now()
    if head.next_attempt_at > now:
        return False  # backing off: the beat sweep queues the pump when it is due
    delivered, status, error = post(head)
    now = timezone.now()
    head.attempts += 1
    head.last_attempt_at = now
    head.last_status = status
    if delivered:
        head.state = WebhookState.DELIVERED
        head.delivered_at = now
        head.last_error = ""
    else:
        head.last_error = error
        if head.attempts >= max_attempts():
            head.state = WebhookState.FAILED
        else:
            head.next_attempt_at = now + backoff(head.attempts)
        logger.warning(
            "webhooks: delivery %s failed (attempt %s, status %s)%s",
            head.pk,
            head.attempts,
            status,
            " - no retry left" if head.state == WebhookState.FAILED else "",
        )
    head.save(
        update_fields=[
            "state",
            "attempts",
            "last_attempt_at",
            "last_status",
            "last_error",
            "next_attempt_at",
            "delivered_at",
        ]
    )
    return delivered


def retry_due(now: dt.datetime | None = None) -> int:
    """Queue the pump of every chain whose next delivery is due again (after a failed
    attempt's wait, or a pump that was lost). Returns how many chains."""
    now = now or timezone.now()
    chains = (
        WebhookDelivery.objects.filter(state=WebhookState.PENDING, next_attempt_at__lte=now)
        .filter(Q(attempts__gt=0) | Q(created_at__lte=now - ORPHAN_AFTER))
        .values_list("client_id", "order_id")
        .order_by()
        .distinct()[:SWEEP_LIMIT]
    )
    queued = 0
    with transaction.atomic():
        for client_id, order_id in chains:
            _queue_pump(client_id, order_id, key=None)
            queued += 1
    return queued


@transaction.atomic
def delivery_resend(*, deliveries) -> int:
    """HQ's resend: each delivery is sent again (a failed one unblocks its chain), in
    chain order, with a fresh set of attempts. Returns how many were queued."""
    ids = [d.pk for d in deliveries]
    rows = list(WebhookDelivery.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    now = timezone.now()
    chains = set()
    for delivery in rows:
        delivery.state = WebhookState.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.delivered_at = None
        delivery.save(update_fields=["state", "attempts", "next_attempt_at", "delivered_at"])
        chains.add((delivery.client_id, delivery.order_id))
    for client_id, order_id in sorted(chains):
        _queue_pump(client_id, order_id, key=None)
    return len(rows)


def retention() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "AISLE_WEBHOOK_RETENTION_DAYS", 30)))


def prune(now: dt.datetime | None = None) -> int:
    """Forget deliveries delivered long ago, of orders with nothing left to send
    (a chain still sending keeps its rows). Returns how many were deleted."""
    now = now or timezone.now()
    still_sending = WebhookDelivery.objects.exclude(state=WebhookState.DELIVERED).values("order_id")
    deleted, _ = (
        WebhookDelivery.objects.filter(
            state=WebhookState.DELIVERED, delivered_at__lt=now - retention()
        )
        .exclude(order_id__in=still_sending)
        .delete()
    )
    return deleted


@shared_task(name="orders.webhooks.webhooks_prune", ignore_result=True)
def webhooks_prune() -> int:
    """Beat: forget deliveries delivered long ago."""
    return prune()


@shared_task(name="orders.webhooks.webhooks_retry_due", ignore_result=True)
def webhooks_retry_due() -> int:
    """Beat: queue the deliveries whose wait after a failed attempt is over."""
    return retry_due()
