"""What a return asks of an order: claim units, free them, and record the refund.

`orders` knows nothing of returns beyond these counts and refunds (`returns` calls
them): each line's `claimed_quantity` (units requested or completed returns claim)
and `returned_quantity` (completed), and `Refund` rows carrying the `return_ref`.
A claim locks the order row and then its lines in pk order (as stock locks its
rows), so two returns at two stores, or an online request racing a counter return,
never claim the same unit; the CHECK constraints (claimed ≤ received, returned ≤
claimed) make an over-claim impossible to commit even so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from orders.models import Order, OrderLine
from orders.services import (
    OrderError,
    _event,
    _lock_order,
    money,
    refund_cap,
    refund_record,
    tax_share,
    units_value,
)
from retail.models import Store, User
from retail.money import money_text


class NotReturnable(OrderError):
    """Units a return asked for that the order cannot give: `lines` says which, why."""

    status, code = 409, "not_returnable"


def returnable_units(line: OrderLine) -> int:
    """Units of the line a new return may still claim: received less claimed."""
    return max(0, line.received_quantity - line.claimed_quantity)


def lines_lock(order_id: int) -> tuple[Order, dict[int, OrderLine]]:
    """Lock the order row, then its lines in pk order; returns them by id."""
    order = _lock_order(order_id)
    lines = OrderLine.objects.select_for_update().filter(order_id=order_id).order_by("pk")
    return order, {line.pk: line for line in lines}


def _refusal(line: OrderLine) -> str:
    return "not_received" if line.received_quantity == 0 else "exceeds_returnable"


def lines_claim(*, order_id: int, units: Mapping[int, int]) -> tuple[Order, dict[int, OrderLine]]:
    """Claim `units` (line id -> units) for a return, or refuse them all
    (`NotReturnable`, naming each line that cannot give what was asked). Call inside
    the return's transaction."""
    order, lines = lines_lock(order_id)
    refused = []
    for line_id, n in units.items():
        line = lines.get(line_id)
        if line is None:
            raise NotReturnable(_("A line is not part of this order."), lines=[])
        if n <= 0 or n > returnable_units(line):
            refused.append({"sku": line.sku, "reason": _refusal(line)})
    if refused:
        raise NotReturnable(
            _("These units cannot be returned: %(skus)s")
            % {"skus": ", ".join(r["sku"] for r in refused)},
            lines=refused,
        )
    for line_id, n in units.items():
        line = lines[line_id]
        line.claimed_quantity += n
        line.save(update_fields=["claimed_quantity"])
    return order, lines


def lines_unclaim(*, order_id: int, units: Mapping[int, int]) -> None:
    """A return cancelled or refused frees what it claimed (never below what completed
    returns hold)."""
    _order, lines = lines_lock(order_id)
    for line_id, n in units.items():
        line = lines.get(line_id)
        if line is None or n <= 0:
            continue
        line.claimed_quantity = max(line.returned_quantity, line.claimed_quantity - n)
        line.save(update_fields=["claimed_quantity"])


@dataclass
class LineRefund:
    line: OrderLine
    units: int
    gross: Decimal  # what the units were paid
    fee: Decimal
    refund: Decimal  # gross less fee
    tax: Decimal


@dataclass
class ReturnRefund:
    lines: list[LineRefund] = field(default_factory=list)
    refunds: list = field(default_factory=list)  # the `Refund` rows written

    @property
    def gross(self) -> Decimal:
        return sum((x.gross for x in self.lines), Decimal("0.00"))

    @property
    def fee(self) -> Decimal:
        return sum((x.fee for x in self.lines), Decimal("0.00"))

    @property
    def amount(self) -> Decimal:
        """What was refunded (the `Refund` rows)."""
        return sum((r.amount for r in self.refunds), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return sum((x.tax for x in self.lines), Decimal("0.00"))


def refund_quote(line: OrderLine, units: int, fee: Decimal = Decimal("0.00")) -> LineRefund:
    """What returning `units` of the line would refund now (the units' share of the
    line total, less `fee`, never below zero), with its tax share."""
    gross = units_value(line, units)
    fee = min(money(fee), gross)
    refund = gross - fee
    return LineRefund(line, units, gross, fee, refund, tax_share(refund, line.tax_rate))


def return_record(
    *,
    order_id: int,
    units: Mapping[int, int],
    return_ref: str,
    reason: str,
    fees: Mapping[int, Decimal] | None = None,
    to_store_credit: bool = False,
    by: User | None = None,
    store: Store | None = None,
    store_credit_first: Decimal = Decimal("0.00"),
) -> ReturnRefund:
    """A return completed: its units (claimed before) count returned and their refund
    is recorded — to the order's tenders (`services.refund_split`) or as store credit —
    never more than was paid for them. `store_credit_first`: that much of the refund
    goes onto the customer's store credit whatever `to_store_credit` says (an exchange
    pays its new order with it), the rest as `to_store_credit` says. Call inside the
    return's transaction."""
    order, lines = lines_lock(order_id)
    fees = fees or {}
    result = ReturnRefund()
    for line_id, n in units.items():
        line = lines[line_id]
        if n <= 0 or line.returned_quantity + n > line.claimed_quantity:
            raise NotReturnable(
                _("%(sku)s: more units than the return claimed.") % {"sku": line.sku},
                lines=[{"sku": line.sku, "reason": "exceeds_returnable"}],
            )
        quote = refund_quote(line, n, fees.get(line_id, Decimal("0.00")))
        result.lines.append(quote)
        line.returned_quantity += n
        line.save(update_fields=["returned_quantity"])
    due = result.gross - result.fee
    _trim(result.lines, due - min(due, refund_cap(order, for_return=True)))
    if due > 0:
        amount = sum((x.refund for x in result.lines), Decimal("0.00"))
        first = min(money(store_credit_first), amount) if store_credit_first > 0 else Decimal(0)
        first_tax = money(result.tax * first / amount) if amount > 0 else Decimal("0.00")
        parts = [(first, first_tax, True), (amount - first, result.tax - first_tax, None)]
        for part, tax, as_credit in parts:
            if part <= 0:
                continue
            result.refunds += refund_record(
                order=order,
                amount=part,
                reason=reason,
                source=f"return:{return_ref}"[:64],
                return_ref=return_ref,
                tax_amount=tax,
                to_store_credit=to_store_credit if as_credit is None else as_credit,
                by=by,
                store=store,
            )
    _event(
        order,
        None,
        "refund_recorded",
        "",
        "",
        by,
        _("return %(ref)s: %(amount)s refunded")
        % {"ref": return_ref, "amount": money_text(result.amount)},
        store=store,
        webhook=False,
    )
    return result


def _trim(lines: list[LineRefund], short: Decimal) -> None:
    """Never more back than was paid for the units: when the order was paid less than
    its units' value (a counter payment rounded), the lines' refunds (last first) give
    up the difference, so what each line shows is what was refunded."""
    for q in reversed(lines):
        if short <= 0:
            return
        cut = min(short, q.refund)
        q.refund -= cut
        q.tax = tax_share(q.refund, q.line.tax_rate)
        short -= cut


def units_value_after(line: OrderLine, units: int, more_out: int = 0) -> Decimal:
    """`units_value` once `more_out` further units of the line are valued out (a return
    asking for the same line twice)."""
    return units_value(
        line, units, already=line.cancelled_quantity + line.returned_quantity + more_out
    )
