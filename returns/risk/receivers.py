"""Domain-event receivers keeping the abuse-signal tallies (registered in
`ReturnsConfig.ready()`). Idempotent: each recounts its order or return from the
database and applies only the difference."""

from __future__ import annotations

from orders.models import Order, State
from returns.risk import tally

#: Moves that may cancel units: cancelled, expired, or units refused at a hand-over.
CANCELLING = frozenset({State.CANCELLED, State.EXPIRED, State.COLLECTED})


def order_changed(payload: dict) -> None:
    """`order_placed`, `order_cancelled`: what the customer bought."""
    tally.order_refresh(order_id=int(payload["order_id"]))


def fulfillment_changed(payload: dict) -> None:
    """`fulfillment_changed`: units cancelled (a line no stock could source, a
    fulfilment cancelled or expired, units refused at a hand-over) no longer count as
    bought. Other moves change nothing bought: skipped without a query."""
    if not payload.get("resourced") and payload.get("to") not in CANCELLING:
        return
    for pk in Order.objects.filter(order_ref=payload.get("order_ref")).values_list("pk", flat=True):
        tally.order_refresh(order_id=pk)


def return_changed(payload: dict) -> None:
    """`return_completed`, `return_cancelled`: what the customer returned."""
    tally.return_refresh(return_id=int(payload["return_id"]))
