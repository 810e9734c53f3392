"""Domain-event receivers keeping the abuse-signal tallies (registered in
`ReturnsConfig.ready()`). Idempotent: each recounts its order or return from the
database and applies only the difference."""

from __future__ import annotations

from orders.models import Order
from returns.risk import tally


def order_changed(payload: dict) -> None:
    """`order_placed`, `order_cancelled`: what the customer bought."""
    tally.order_refresh(order_id=int(payload["order_id"]))


def fulfillment_changed(payload: dict) -> None:
    """`fulfillment_changed`: a line cancelled (no stock left anywhere), a pickup
    expired. Recounting an unchanged order changes nothing."""
    for pk in Order.objects.filter(order_ref=payload.get("order_ref")).values_list("pk", flat=True):
        tally.order_refresh(order_id=pk)


def return_changed(payload: dict) -> None:
    """`return_completed`, `return_cancelled`: what the customer returned."""
    tally.return_refresh(return_id=int(payload["return_id"]))
