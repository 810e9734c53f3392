"""The order as the API shows it: one shape for the API, the webhooks and services.

`load_order` fetches an order with everything `order_shape` reads (a fixed number of
queries); `order_shape` then builds the dict without touching the database.

**Sections from higher apps.** `orders` knows nothing of returns, yet the order's
shape lists them (`"returns": [{"return_ref", "state"}]`). A higher app registers a
section (`register_section("returns", loader, default=list)`): `load_order` asks each
loader once for the order (one query per section) and `order_shape` adds what it
gave. The quantities and money a return changes on the order itself — each line's
`returned_quantity`, the refunds with their `return_ref` — are the order's own facts,
written through `orders.returning`, so the order's CHECK constraints guard them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from orders.models import Fulfillment, FulfillmentLine, Order, State


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True)
class Section:
    name: str
    load: Callable[[Order], Any]
    default: Callable[[], Any]


_sections: dict[str, Section] = {}


def register_section(name: str, load: Callable[[Order], Any], *, default=list) -> None:
    """A higher app adds `name` to the order's shape: `load(order)` returns its value
    (called by `load_order`, one query at most)."""
    _sections[name] = Section(name, load, default)


def _refund(r) -> dict:
    item = {"amount": _money(r.amount), "reason": r.reason, "at": r.at}
    if r.return_ref:
        item["return_ref"] = r.return_ref
    return item


def order_shape(order: Order) -> dict:
    """The order as the API shows it, from prefetched rows (a fixed number of queries)."""
    fulfillments = []
    for f in order.fulfillments.all():
        item = {
            "id": f.pk,
            "method": f.method,
            "location": f.location.code,
            "state": f.state,
            "lines": [{"sku": fl.order_line.sku, "quantity": fl.quantity} for fl in f.lines.all()],
        }
        if f.ready_by:
            item["ready_by"] = f.ready_by
        if f.checked_in_at:
            item["checked_in_at"] = f.checked_in_at
        if f.pickup_code and f.state in (State.READY, State.COLLECTED):
            item["pickup_code"] = f.pickup_code
        if f.tracking_ref:
            item["tracking_ref"] = f.tracking_ref
        fulfillments.append(item)
    shape = {
        "order_ref": order.order_ref,
        "channel": order.channel,
        "status": order.status,
        "customer_ref": order.customer.customer_ref if order.customer else None,
        "currency": order.currency,
        "total": _money(order.total),
        "discount": _money(order.discount),
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "line_total": _money(line.line_total),
                "cancelled_quantity": line.cancelled_quantity,
                "returned_quantity": line.returned_quantity,
            }
            for line in order.lines.all()
        ],
        "payments": [
            {"tender": p.tender, "amount": _money(p.amount), "reference": p.reference, "at": p.at}
            for p in order.payments.all()
        ],
        "refunds": [_refund(r) for r in order.refunds.all()],
        "fulfillments": fulfillments,
        "created_at": order.created_at,
    }
    loaded = getattr(order, "_sections", {})
    for name, section in _sections.items():
        shape[name] = loaded[name] if name in loaded else section.default()
    return shape


def load_order(ref: str) -> Order | None:
    order = (
        Order.objects.select_related("customer")
        .prefetch_related(
            "lines",
            "payments",
            "refunds",
            Prefetch(
                "fulfillments",
                queryset=Fulfillment.objects.select_related("location").prefetch_related(
                    Prefetch("lines", queryset=FulfillmentLine.objects.select_related("order_line"))
                ),
            ),
        )
        .filter(order_ref=ref)
        .first()
    )
    if order is not None:
        order._sections = {name: section.load(order) for name, section in _sections.items()}
    return order
