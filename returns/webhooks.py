"""Return webhooks: every return change, to the clients that hear order changes.

A return's changes travel in its order's chain (`orders.webhooks.subject`), so a
receiver hears them in order with the order's own changes. The body is the order's
(`{"event", "order_ref", "at", "order": {...}}`) with `"return": {...as GET...}`.
A return without a receipt has no order and no webhook.
"""

from __future__ import annotations

import json

from rest_framework.utils.encoders import JSONEncoder

from orders import webhooks as order_webhooks
from orders.shapes import load_order, order_shape
from retail import webhooks
from returns.models import Return, ReturnEvent
from returns.shapes import load_return, return_shape


def return_changed(ret: Return, event: ReturnEvent) -> list:
    """Record the change's deliveries inside its transaction; the core sends them."""
    if not ret.order_id:
        return []
    clients = order_webhooks.subscribers()
    if not clients:
        return []
    order = load_order(ret.order.order_ref)
    payload = {
        "event": event.kind,
        "order_ref": order.order_ref,
        "at": event.at,
        "change": {"return_ref": ret.return_ref, "from": event.from_state, "to": event.to_state},
        "order": order_shape(order),
        "return": return_shape(load_return(ret.return_ref)),
    }
    body = json.dumps(payload, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return webhooks.record(
        clients=clients,
        subject=order_webhooks.subject(order),
        event=event.kind,
        body=body,
        change_key=f"return_event:{event.pk}",
        at=event.at,
    )
