"""The return as the API shows it (`GET /api/v1/returns/{return_ref}/`), for the API,
the webhooks and the order's `returns` section."""

from __future__ import annotations

from returns.models import Return, ReturnState


def _money(value) -> str:
    return f"{value:.2f}"


def return_shape(ret: Return) -> dict:
    """From a return loaded by `load_return` (no query here)."""
    shape = {
        "return_ref": ret.return_ref,
        "order_ref": ret.order.order_ref if ret.order_id else None,
        "state": ret.state,
        "code": ret.code,
        "lines": [],
        "created_at": ret.created_at,
    }
    if ret.location_id:
        shape["location"] = ret.location.code
    for line in ret.lines.all():
        item = {"sku": line.sku, "quantity": line.quantity, "reason": line.reason}
        if line.disposition:
            item["disposition"] = line.disposition
        if ret.state == ReturnState.COMPLETED:
            item["refund_amount"] = _money(line.refund_amount)
        shape["lines"].append(item)
    if ret.state == ReturnState.COMPLETED:
        shape["refund"] = {
            "amount": _money(ret.refund_amount),
            "fee": _money(ret.fee_amount),
            "to": ret.refund_to,
        }
    if ret.completed_at:
        shape["completed_at"] = ret.completed_at
    return shape


def load_return(return_ref: str) -> Return | None:
    return (
        Return.objects.select_related("order", "location")
        .prefetch_related("lines")
        .filter(return_ref=return_ref)
        .first()
    )


def order_returns(order) -> list[dict]:
    """The order's `returns` section (registered with `orders.shapes`): one query."""
    return [
        {"return_ref": ref, "state": state}
        for ref, state in Return.objects.filter(order=order)
        .order_by("created_at", "pk")
        .values_list("return_ref", "state")
    ]
