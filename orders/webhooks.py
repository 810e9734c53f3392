"""Order webhooks: every order and fulfilment change, to the clients that read orders.

The sending — storing, signing, claiming, retries, order per subject, the circuit
breaker — is the core's (`retail.webhooks`); this module says who hears an order
change and what they hear.

**Who hears.** Every active API client with a webhook URL and the `orders:read`
scope (the scope that lets it read the order the webhook carries). Orders do not
record which client placed them, and any channel may need to hear about any order
(a web order picked up in store, a till sale), so each such client hears every
order's changes.

**What is a change.** An `OrderEvent` row: `orders.services._event` writes every one
(order placed, fulfilment created or moved, order status, line cancelled, and
whatever later services record through it) and calls `order_changed` in the same
transaction. One delivery per (client, change); its subject is the order, so the
deliveries of one order reach each client in the order of its changes (a return's
changes, recorded with the same subject, travel in that sequence too).

**The body** is ``{"event", "order_ref", "at", "change": {"fulfillment_id", "from",
"to"}, "order": {...}}`` where ``order`` is the order as ``GET
/api/v1/orders/{order_ref}/`` shows it right after that change (`orders.shapes`). It
is serialised once and resent byte for byte.

An order deleted while its deliveries wait: they are dropped (see `retail.webhooks`).
"""

from __future__ import annotations

import json

from django.db.models import QuerySet
from rest_framework.utils.encoders import JSONEncoder

from orders.models import Order, OrderEvent
from orders.shapes import load_order, order_shape
from retail import webhooks
from retail.models import ApiClient, WebhookDelivery

SCOPE = "orders:read"
SUBJECT = "order"


def subscribers() -> list[ApiClient]:
    """The clients that hear about order changes."""
    clients = ApiClient.objects.filter(is_active=True).exclude(webhook_url="").only("pk", "scopes")
    return [c for c in clients if SCOPE in (c.scopes or [])]


def subject(order: Order) -> webhooks.Subject:
    """An order's place in the webhook chains (returns use it for their changes too)."""
    return webhooks.Subject(SUBJECT, order.pk, order.order_ref)


def render_body(event: OrderEvent) -> str:
    """The webhook body for one change: the order as the API shows it right now."""
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
    """Record the change's deliveries (inside the change's transaction); the core
    sends them after commit."""
    clients = subscribers()
    if not clients:
        return []
    return webhooks.record(
        clients=clients,
        subject=subject(event.order),
        event=event.kind,
        body=render_body(event),
        change_key=f"order_event:{event.pk}",
        at=event.at,
    )


def deliveries(order: Order) -> QuerySet[WebhookDelivery]:
    """The order's webhook deliveries (to every client)."""
    return WebhookDelivery.objects.filter(subject_type=SUBJECT, subject_id=order.pk)


def order_exists(order_id: int) -> bool:
    return Order.objects.filter(pk=order_id).exists()


def webhook_pump(*, client_id: int, order_id: int) -> None:
    """Outbox entries recorded before webhooks moved to the core still name this task:
    it hands over to the core's sender, on the webhooks queue (no HTTP here)."""
    webhooks.queue_sender(client_id=client_id)
