"""Return services: the API, the tablet and the kiosk call only these.

Every change locks the order (then its lines, in `orders.returning`), writes a
`ReturnEvent`, moves stock only through `inventory.services`, records refunds only
through `orders.returning`, and records its domain events (`return_requested`,
`return_completed`, `return_cancelled`) and webhooks in the same transaction.

The states (design.md): `requested` (started online or at the kiosk) → `completed`
when a store or the DC receives it, or → `cancelled`; a return started at the
counter is completed at once; either may wait in `awaiting_approval` for a store
manager, → `completed` or → `refused`. A return received through the API completes
without approval: the receiving location has checked it.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import services as stock
from inventory.models import LocationKind, MovementKind, StockLocation
from orders import returning
from orders.models import SUCCEEDED, FulfillmentLine, Order, OrderLine
from orders.returning import NotReturnable
from orders.services import OrderError, money
from retail import access, outbox, polls
from retail.models import Customer, Store, User, Variant
from retail.money import money_text
from returns import policy
from returns.models import (
    OPEN_STATES,
    RETURN_TRANSITIONS,
    Disposition,
    Reason,
    RefundTo,
    Return,
    ReturnEvent,
    ReturnLine,
    ReturnState,
    StartedVia,
)
from returns.risk import assess as risk

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed
CODE_LENGTH = 8


# --- Errors -------------------------------------------------------------------------------


class ReturnError(OrderError):
    """A return refused with a message for the person at the screen; nothing written."""

    status, code = 400, "return_refused"


class ReturnRefConflict(ReturnError):
    status, code = 409, "return_ref_conflict"


class NotReceivable(ReturnError):
    status, code = 409, "not_receivable"


class NotCancellable(ReturnError):
    status, code = 409, "not_cancellable"


class NotDecidable(ReturnError):
    status, code = 409, "invalid_transition"


class NotAllowed(ReturnError):
    status, code = 403, "permission_denied"

    def __init__(self, detail: str, explanation=None, **extra: Any):
        super().__init__(detail, **extra)
        self.explanation = explanation


# --- What the associate sees before choosing ----------------------------------------------


@dataclass
class LineView:
    """One order line as a return sees it: how many units may go back and why (not)."""

    line: OrderLine
    received_at: datetime | None
    returnable_units: int
    verdict: policy.Verdict
    unit_refund: Decimal  # what one more unit would refund now (before any fee)

    @property
    def returnable(self) -> bool:
        return self.verdict.returnable


def _received_at(order: Order) -> dict[int, datetime]:
    """When the customer got each line: the latest hand-over or delivery holding it."""
    got: dict[int, datetime] = {}
    rows = FulfillmentLine.objects.filter(
        fulfillment__order=order, fulfillment__state__in=SUCCEEDED
    ).values_list("order_line_id", "fulfillment__collected_at", "fulfillment__updated_at")
    for line_id, collected_at, updated_at in rows:
        moment = collected_at or updated_at
        if line_id not in got or moment > got[line_id]:
            got[line_id] = moment
    return got


def explain_order(
    order: Order, *, store: Store | None, at: datetime | None = None
) -> list[LineView]:
    """Every line of the order, each with why it is or is not returnable (in the active
    language), in a fixed number of queries."""
    lines = list(
        OrderLine.objects.filter(order=order)
        .select_related("variant__product__category")
        .order_by("pk")
    )
    received = _received_at(order)
    products = [line.variant.product for line in lines]
    policies = policy.policies_for(products)
    exceptions = policy.exceptions_for(customer=order.customer, order=order)
    views = []
    for line in lines:
        units = returning.returnable_units(line)
        verdict = policy.line_verdict(
            product=line.variant.product,
            order=order,
            customer=order.customer,
            received_at=received.get(line.pk),
            returnable_units=units,
            store=store,
            at=at,
            policies=policies,
            exceptions=exceptions,
        )
        unit = returning.refund_quote(line, 1).gross if units else Decimal("0.00")
        views.append(LineView(line, received.get(line.pk), units, verdict, unit))
    return views


# --- Asking -----------------------------------------------------------------------------


@dataclass
class LineAsk:
    """A line a return asks for: an order line (with a receipt) or a SKU (without)."""

    quantity: int
    reason: str
    order_line: OrderLine | None = None
    variant: Variant | None = None
    conditions: Sequence[str] = ()
    note: str = ""
    photo: Any = None
    disposition: str = ""


@dataclass
class Quote:
    """What a return would refund, line by line, and whether a manager must approve."""

    lines: list[tuple[LineAsk, Decimal, Decimal]] = field(default_factory=list)  # ask, gross, fee
    approval_reasons: list[str] = field(default_factory=list)

    @property
    def gross(self) -> Decimal:
        return sum((g for _a, g, _f in self.lines), Decimal("0.00"))

    @property
    def fee(self) -> Decimal:
        return sum((f for _a, _g, f in self.lines), Decimal("0.00"))

    @property
    def refund(self) -> Decimal:
        return self.gross - self.fee


def _check_reason(ask: LineAsk) -> None:
    if ask.reason not in Reason.values:
        raise ReturnError(_("Choose why the customer returns it."), field="reason")
    if ask.disposition and ask.disposition not in Disposition.values:
        raise ReturnError(_("Choose what happens to the returned unit."), field="disposition")


def quote(
    *, order: Order | None, asks: Sequence[LineAsk], store: Store | None, views=None
) -> Quote:
    """Check every asked line against the order and the policy, and price it. Raises
    `NotReturnable` naming every line that cannot go back (nothing written)."""
    if not asks:
        raise ReturnError(_("Choose at least one unit to return."), field="lines")
    result = Quote()
    if order is None:
        return _quote_receiptless(asks, result)
    views = {v.line.pk: v for v in (views or explain_order(order, store=store))}
    wanted: dict[int, int] = defaultdict(int)
    refused = []
    for ask in asks:
        _check_reason(ask)
        view = views.get(ask.order_line.pk if ask.order_line else None)
        if view is None:
            raise ReturnError(_("A line is not part of this order."), field="lines")
        if ask.quantity <= 0:
            raise ReturnError(_("A quantity must be a whole number above zero."), field="quantity")
        wanted[view.line.pk] += ask.quantity
        if not view.verdict.returnable:
            refused.append(
                {"sku": view.line.sku, "reason": view.verdict.code, "detail": view.verdict.message}
            )
        elif wanted[view.line.pk] > view.returnable_units:
            refused.append(
                {
                    "sku": view.line.sku,
                    "reason": "exceeds_returnable",
                    "detail": _("Only %(n)s unit(s) of %(sku)s can still be returned.")
                    % {"n": view.returnable_units, "sku": view.line.sku},
                }
            )
    if refused:
        raise NotReturnable(
            "; ".join(f"{r['sku']}: {r['detail']}" for r in refused),
            lines=[{"sku": r["sku"], "reason": r["reason"]} for r in refused],
        )
    taken: dict[int, int] = defaultdict(int)
    for ask in asks:
        view = views[ask.order_line.pk]
        line = view.line
        gross = returning.units_value_after(line, ask.quantity, taken[line.pk])
        taken[line.pk] += ask.quantity
        fee = policy.restocking_fee(view.verdict.policy, refund=gross, units=ask.quantity)
        fee = min(money(fee), gross)  # a fee never takes more than the units are worth
        result.lines.append((ask, gross, fee))
    result.approval_reasons = policy.approval_reasons(
        refund=result.refund,
        receipt=True,
        policies=[views[a.order_line.pk].verdict.policy for a in asks],
    )
    return result


def _quote_receiptless(asks: Sequence[LineAsk], result: Quote) -> Quote:
    from retail.prices import lowest_price

    for ask in asks:
        _check_reason(ask)
        if ask.variant is None or ask.quantity <= 0:
            raise ReturnError(_("Scan or choose the product returned."), field="lines")
        if not policy.receiptless_allowed(ask.variant.product):
            raise NotReturnable(
                _("%(sku)s cannot be returned without a receipt.") % {"sku": ask.variant.sku},
                lines=[{"sku": ask.variant.sku, "reason": "not_received"}],
            )
        basis = lowest_price(ask.variant)
        result.lines.append((ask, money(basis * ask.quantity), Decimal("0.00")))
    products = [a.variant.product for a in asks]
    result.approval_reasons = policy.approval_reasons(
        refund=result.refund, receipt=False, policies=list(policy.policies_for(products).values())
    )
    return result


def with_signal_reason(reasons: Sequence[str], customer: Customer | None) -> list[str]:
    """The approval reasons, with the abuse signals' reason when the customer is
    flagged (`returns.risk`): a flagged customer's return waits for a manager, never
    refused on the signals alone. Staff-side only: never shown to the customer."""
    reasons = [str(r) for r in reasons]
    extra = risk.approval_reason(customer)
    if extra and extra not in reasons:
        reasons.append(extra)
    return reasons


# --- Records ------------------------------------------------------------------------------


def _new_code() -> str:
    for _attempt in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Return.objects.filter(code=code).exists():
            return code
    raise RuntimeError("no free return code")  # 32**8 codes: not in this universe


def _who(by: User | None) -> User | None:
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def returns_changed(ret: Return, *store_ids: int | None) -> None:
    """What the return's status part, and its stores' approval queue and home panel,
    show changed: seen on their next poll; their versions move now and again when the
    transaction commits (`retail.polls`). Every change of a return is an event, so
    `_event` calls this."""
    polls.changed(polls.RETURN, ret.pk)
    polls.changed(polls.RETURNS, ret.store_id, *store_ids)


def _event(
    ret: Return, kind: str, from_state: str, to_state: str, *, by, store, reason=""
) -> ReturnEvent:
    returns_changed(ret, store.pk if store is not None else None)
    event = ReturnEvent.objects.create(
        ret=ret,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        by=_who(by),
        store=store,
        reason=str(reason)[:300],
    )
    from returns import webhooks

    webhooks.return_changed(ret, event)
    return event


def _domain_event(name: str, ret: Return) -> None:
    outbox.record_event(
        name,
        payload={
            "return_id": ret.pk,
            "return_ref": ret.return_ref,
            "order_id": ret.order_id,
            "customer_id": ret.customer_id,
            "state": ret.state,
            "store_id": ret.store_id,
            "order_channel": ret.order_channel,
            "refund": f"{ret.refund_amount:.2f}",
        },
    )


def _lock(ret: Return) -> Return:
    """Lock the return's order (every change of an order and its returns is serialised
    by that row), then the return."""
    if ret.order_id:
        returning.lines_lock(ret.order_id)
    return (
        Return.objects.select_for_update(of=("self",))
        .select_related("order", "customer")
        .get(pk=ret.pk)
    )


def _create(
    *,
    order: Order | None,
    customer: Customer | None,
    asks: Sequence[LineAsk],
    priced: Quote,
    return_ref: str,
    state: str,
    via: str,
    refund_to: str,
    store: Store | None,
    by: User | None,
    fingerprint: str = "",
) -> Return:
    ret = Return.objects.create(
        return_ref=return_ref,
        code=_new_code(),
        order=order,
        customer=customer,
        state=state,
        started_via=via,
        order_channel=order.channel if order else "",
        store=store,
        refund_to=refund_to,
        refund_amount=priced.refund,
        fee_amount=priced.fee,
        approval_reasons=[str(r) for r in priced.approval_reasons],
        request_fingerprint=fingerprint,
        created_by=_who(by),
    )
    for ask, gross, fee in priced.lines:
        variant = ask.order_line.variant if ask.order_line else ask.variant
        ReturnLine.objects.create(
            ret=ret,
            order_line=ask.order_line,
            variant=variant,
            sku=variant.sku,
            category_id=variant.product.category_id,
            quantity=ask.quantity,
            reason=ask.reason,
            conditions=[str(c) for c in ask.conditions],
            note=str(ask.note or "")[:300],
            photo=ask.photo or "",
            disposition=ask.disposition or "",
            unit_basis=None if ask.order_line else money(gross / ask.quantity),
            refund_amount=gross - fee,
            fee_amount=fee,
        )
    return ret


def _claims(asks: Sequence[LineAsk]) -> dict[int, int]:
    units: dict[int, int] = defaultdict(int)
    for ask in asks:
        if ask.order_line is not None:
            units[ask.order_line.pk] += ask.quantity
    return dict(units)


# --- Starting a return online (the API) ------------------------------------------------


def return_request(
    *,
    order: Order,
    return_ref: str,
    asks: Sequence[LineAsk],
    refund_to: str = RefundTo.ORIGINAL,
    fingerprint: str = "",
    via: str = StartedVia.ONLINE,
    store: Store | None = None,
    by: User | None = None,
) -> tuple[Return, bool]:
    """The customer starts a return online (or at the kiosk): the units are claimed and
    the return waits, `requested`, for a store or the DC to receive it. The same
    `return_ref` with the same fingerprint returns the existing return (created False)."""
    existing = Return.objects.filter(return_ref=return_ref).first()
    if existing is not None:
        return _same(existing, fingerprint), False
    if order.customer_id is None:
        raise ReturnError(
            _("A till sale without a customer is returned at the counter."), field="order_ref"
        )
    priced = quote(order=order, asks=asks, store=store)
    try:
        with transaction.atomic():
            returning.lines_claim(order_id=order.pk, units=_claims(asks))
            ret = _create(
                order=order,
                customer=order.customer,
                asks=asks,
                priced=priced,
                return_ref=return_ref,
                state=ReturnState.REQUESTED,
                via=via,
                refund_to=refund_to,
                store=store,
                by=by,
                fingerprint=fingerprint,
            )
            _event(ret, "return_requested", "", ret.state, by=by, store=store)
            _domain_event("return_requested", ret)
            return ret, True
    except IntegrityError:
        existing = Return.objects.filter(return_ref=return_ref).first()
        if existing is None:
            raise
        return _same(existing, fingerprint), False


def _same(existing: Return, fingerprint: str) -> Return:
    if fingerprint and existing.request_fingerprint != fingerprint:
        raise ReturnRefConflict(_("A return with this return_ref exists with a different content."))
    return existing


# --- At the counter --------------------------------------------------------------------


def return_at_counter(
    *,
    order: Order | None,
    asks: Sequence[LineAsk],
    store: Store,
    by: User,
    return_ref: str,
    refund_to: str = RefundTo.ORIGINAL,
    customer: Customer | None = None,
    store_credit_first: Decimal = Decimal("0.00"),
) -> tuple[Return, bool]:
    """The associate takes a return at the counter: completed at once (refund, restock),
    or waiting for a manager (`awaiting_approval`, units claimed) when the policy asks.
    Without a receipt (`order` None) it is refunded as store credit, always approved
    by a manager. `return_ref` comes from the form, so a double tap returns once."""
    existing = Return.objects.filter(return_ref=return_ref).first()
    if existing is not None:
        if existing.order_id != (order.pk if order is not None else None):
            raise ReturnRefConflict(_("This return reference belongs to another return."))
        return existing, False
    if not access.can_act_in(by, store):
        raise NotAllowed(_("You cannot take returns at this store."))
    if order is None:
        if customer is None:
            raise ReturnError(
                _("A return without a receipt is refunded as store credit: choose the customer."),
                field="customer",
            )
        refund_to = RefundTo.STORE_CREDIT
    elif refund_to == RefundTo.STORE_CREDIT and order.customer_id is None:
        raise ReturnError(
            _("Store credit needs a customer: this sale has none. Refund to the payment."),
            field="refund_to",
        )
    if refund_to not in RefundTo.values:
        raise ReturnError(_("Choose how the refund is paid."), field="refund_to")
    for ask in asks:
        if not ask.disposition:
            ask.disposition = Disposition.RESTOCK
    priced = quote(order=order, asks=asks, store=store)
    priced.approval_reasons = with_signal_reason(
        priced.approval_reasons, order.customer if order is not None else customer
    )
    try:
        with transaction.atomic():
            if order is not None:
                returning.lines_claim(order_id=order.pk, units=_claims(asks))
            state = (
                ReturnState.AWAITING_APPROVAL if priced.approval_reasons else ReturnState.COMPLETED
            )
            ret = _create(
                order=order,
                customer=order.customer if order is not None else customer,
                asks=asks,
                priced=priced,
                return_ref=return_ref,
                state=ReturnState.REQUESTED,
                via=StartedVia.COUNTER,
                refund_to=refund_to,
                store=store,
                by=by,
            )
            _event(
                ret, "return_started", "", ret.state, by=by, store=store, reason=_("at the counter")
            )
            if state == ReturnState.AWAITING_APPROVAL:
                _move(
                    ret,
                    ReturnState.AWAITING_APPROVAL,
                    by=by,
                    store=store,
                    reason="; ".join(ret.approval_reasons),
                )
                _domain_event("return_requested", ret)
            else:
                _complete(
                    ret,
                    location=_shelf(store),
                    store=store,
                    by=by,
                    store_credit_first=store_credit_first,
                )
            return ret, True
    except IntegrityError:
        existing = Return.objects.filter(return_ref=return_ref).first()
        if existing is None:
            raise
        return existing, False


def _shelf(store: Store | None) -> StockLocation:
    """The store's own stock location, where restocked units go."""
    location = StockLocation.objects.filter(store=store).first() if store is not None else None
    if location is None:
        raise ReturnError(
            _("This store keeps no stock: a return cannot be received here."), field="store"
        )
    return location


def _move(ret: Return, to: str, *, by, store, reason: str = "") -> None:
    old = ret.state
    if to not in RETURN_TRANSITIONS.get(old, frozenset()):
        raise NotDecidable(
            _("A return cannot go from %(from)s to %(to)s.")
            % {"from": ReturnState(old).label, "to": ReturnState(to).label}
        )
    ret.state = to
    ret.save(update_fields=["state", "updated_at"])
    _event(ret, "return_changed", old, to, by=by, store=store, reason=reason)


def _complete(
    ret: Return,
    *,
    location: StockLocation,
    store: Store | None,
    by,
    dispositions=None,
    store_credit_first: Decimal = Decimal("0.00"),
) -> None:
    """Refund and restock: the return's units go back (through `orders.returning`) and
    into stock through the ledger — restocked units at `location`, the others into its
    returns hold, never available."""
    lines = list(ret.lines.select_related("order_line", "variant__product"))
    dispositions = dispositions or {}
    for line in lines:
        chosen = dispositions.get(line.pk) or dispositions.get(line.sku) or line.disposition
        line.disposition = chosen or Disposition.RESTOCK
    # Stock first, then money: every writer locks stock rows before a store-credit
    # account, so a return never waits on an order that waits on it.
    for line in lines:
        target = location if line.disposition == Disposition.RESTOCK else _hold(location)
        stock.stock_receive(
            location=target,
            variant=line.variant,
            quantity=line.quantity,
            by=_who(by),
            reason=_("return %(ref)s: %(disposition)s")
            % {"ref": ret.return_ref, "disposition": Disposition(line.disposition).label},
            source=f"return:{ret.pk}",
            kind=MovementKind.RETURN,
        )
    to_credit = ret.refund_to == RefundTo.STORE_CREDIT
    if ret.order_id:
        units: dict[int, int] = defaultdict(int)
        fees: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for line in lines:
            units[line.order_line_id] += line.quantity
            fees[line.order_line_id] += line.fee_amount
        result = returning.return_record(
            order_id=ret.order_id,
            units=units,
            fees=fees,
            return_ref=ret.return_ref,
            reason=_("return %(ref)s") % {"ref": ret.return_ref},
            to_store_credit=to_credit,
            by=by,
            store=store,
            store_credit_first=store_credit_first,
        )
        refunded = {q.line.pk: q for q in result.lines}
        _share_line_refunds(lines, refunded)
        ret.refund_amount = result.amount
        ret.fee_amount = result.fee
        ret.tax_amount = result.tax
        _reverse_credit(ret)
    else:
        _credit_receiptless(ret, lines, by=by, store=store)
    for line in lines:
        line.save(update_fields=["disposition", "refund_amount", "fee_amount"])
    ret.location = location
    ret.store = store or ret.store
    ret.completed_at = timezone.now()
    ret.save(
        update_fields=[
            "location",
            "store",
            "completed_at",
            "refund_amount",
            "fee_amount",
            "tax_amount",
            "updated_at",
        ]
    )
    _move(
        ret,
        ReturnState.COMPLETED,
        by=by,
        store=store,
        reason=_("refunded %(amount)s")
        % {"amount": money_text(ret.refund_amount, ret.order.currency if ret.order_id else None)},
    )
    _domain_event("return_completed", ret)
    _receipt(ret)


def _share_line_refunds(lines: list[ReturnLine], refunded: dict) -> None:
    """The refund of each order line, shared over the return lines that asked for it."""
    by_order_line: dict[int, list[ReturnLine]] = defaultdict(list)
    for line in lines:
        by_order_line[line.order_line_id].append(line)
    for order_line_id, group in by_order_line.items():
        q = refunded[order_line_id]
        units = sum(x.quantity for x in group)
        given_refund = given_fee = Decimal("0.00")
        for i, line in enumerate(group):
            if i == len(group) - 1:
                line.refund_amount, line.fee_amount = q.refund - given_refund, q.fee - given_fee
            else:
                line.refund_amount = money(q.refund * line.quantity / units)
                line.fee_amount = money(q.fee * line.quantity / units)
            given_refund += line.refund_amount
            given_fee += line.fee_amount


def _hold(location: StockLocation) -> StockLocation:
    return stock.hold_location_for(location)


def _reverse_credit(ret: Return) -> None:
    """The refunded value comes off the associates' credit for the order."""
    from clienteling import attribution

    if ret.refund_amount > 0:
        attribution.credit_reverse(order_id=ret.order_id, amount=ret.refund_amount + ret.fee_amount)


def _credit_receiptless(ret: Return, lines: list[ReturnLine], *, by, store) -> None:
    from orders import credit

    amount = sum((line.refund_amount for line in lines), Decimal("0.00"))
    ret.refund_amount = amount
    if amount > 0:
        credit.credit_issue(
            customer=ret.customer,
            amount=amount,
            reason=_("return %(ref)s without receipt") % {"ref": ret.return_ref},
            by=_who(by),
            store=store,
            return_ref=ret.return_ref,
        )


def _receipt(ret: Return) -> None:
    if ret.customer is None or not ret.customer.email:
        return
    from retail.messaging import message_send

    message_send(
        customer=ret.customer,
        template="return_receipt",
        context=receipt_context(ret),
        key=f"return_receipt:{ret.pk}",
    )


def receipt_context(ret: Return) -> dict:
    """What the receipt (e-mail and printable page) shows: plain values, storable as JSON."""
    return {
        "return_ref": ret.return_ref,
        "code": ret.code,
        "order_ref": ret.order.order_ref if ret.order_id else "",
        "store": ret.store.name if ret.store_id else "",
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "reason": str(Reason(line.reason).label),
                "refund": f"{line.refund_amount:.2f}",
            }
            for line in ret.lines.all()
        ],
        "refund": f"{ret.refund_amount:.2f}",
        "fee": f"{ret.fee_amount:.2f}",
        "refund_to": str(RefundTo(ret.refund_to).label),
        "currency": ret.order.currency if ret.order_id else "",
        "completed_at": timezone.localtime(ret.completed_at, ret.store.tz).strftime(
            "%Y-%m-%d %H:%M"
        )
        if ret.completed_at and ret.store_id
        else "",
    }


# --- Receiving, cancelling, deciding ---------------------------------------------------


@transaction.atomic
def return_receive(
    *,
    ret: Return,
    location: StockLocation,
    dispositions: dict | None = None,
    by: User | None = None,
    store: Store | None = None,
    check_approval: bool = False,
    conditions: dict[int, list[str]] | None = None,
) -> Return:
    """A requested return reaches a location that takes returns (a store, or the DC for
    parcels): completed — refunded and restocked there. Completed already: unchanged.
    At a store's counter (`check_approval`), a return the policy gives to a manager
    waits for one instead. `conditions` (return line id -> what the associate checked,
    see `receive_conditions`) are kept on the lines."""
    ret = _lock(ret)
    if ret.state == ReturnState.COMPLETED:
        return ret
    if ret.state != ReturnState.REQUESTED:
        raise NotReceivable(
            _("This return is %(state)s: it cannot be received.")
            % {"state": ReturnState(ret.state).label}
        )
    if location.kind not in (LocationKind.STORE, LocationKind.DC):
        raise ReturnError(
            _("Returns are received at a store or a distribution centre."), field="location"
        )
    if dispositions:
        for value in dispositions.values():
            if value not in Disposition.values:
                raise ReturnError(
                    _("Choose what happens to the returned unit."), field="disposition"
                )
    store = store or location.store
    if ret.store_id != getattr(store, "pk", None):
        returns_changed(ret)  # the store it leaves: a kiosk return no longer waits there
    ret.store = store
    if check_approval:
        ret.approval_reasons = with_signal_reason(ret.approval_reasons, ret.customer)
    ret.save(update_fields=["store", "approval_reasons", "updated_at"])
    for line_id, checked in (conditions or {}).items():
        ReturnLine.objects.filter(ret=ret, pk=line_id).update(conditions=[str(c) for c in checked])
    if check_approval and ret.approval_reasons:
        _move(
            ret,
            ReturnState.AWAITING_APPROVAL,
            by=by,
            store=store,
            reason="; ".join(ret.approval_reasons),
        )
        return ret
    _complete(ret, location=location, store=store, by=by, dispositions=dispositions)
    return ret


@transaction.atomic
def return_cancel(
    *,
    ret: Return,
    by: User | None = None,
    store: Store | None = None,
    reason: str = "",
    only_if: str = "",
) -> Return:
    """A return not yet completed is cancelled and frees what it claimed. Cancelled
    already: unchanged. Completed or refused: `NotCancellable`. With `only_if` (a
    state), a return found in another state once locked is left unchanged (a sweep
    racing the counter)."""
    ret = _lock(ret)
    if ret.state == ReturnState.CANCELLED or (only_if and ret.state != only_if):
        return ret
    if ret.state not in OPEN_STATES:
        raise NotCancellable(
            _("This return is %(state)s: it can no longer be cancelled.")
            % {"state": ReturnState(ret.state).label}
        )
    _free(ret)
    _move(ret, ReturnState.CANCELLED, by=by, store=store, reason=reason or _("cancelled"))
    _domain_event("return_cancelled", ret)
    return ret


def receive_conditions(lines: Sequence[ReturnLine]) -> dict[int, tuple[str, ...]]:
    """What the associate checks on each line of a return brought to the counter before
    taking it back (the policy's conditions, in the active language). One query;
    `lines` with their variants' products loaded."""
    policies = policy.policies_for([line.variant.product for line in lines])
    return {
        line.pk: (
            policies.get(line.variant.product.category_id) or policies[None]
        ).condition_labels()
        for line in lines
    }


def _free(ret: Return) -> None:
    if ret.order_id:
        units: dict[int, int] = defaultdict(int)
        for line in ret.lines.all():
            units[line.order_line_id] += line.quantity
        returning.lines_unclaim(order_id=ret.order_id, units=units)


def may_decide(user: User, ret: Return) -> bool:
    """A store manager of the receiving store decides on a return awaiting approval."""
    return access.is_manager(user) and access.can_act_in(user, ret.store_id)


def _authorise(ret: Return, by: User) -> None:
    if not may_decide(by, ret):
        raise NotAllowed(_("Only a manager of this store approves or refuses a return."))
    from training import services as training
    from training.services.gates import OperationRefused

    try:
        training.operation_authorise(user=by, operation="return_approve", target=f"return:{ret.pk}")
    except OperationRefused as exc:
        raise NotAllowed(exc.explanation.message, exc.explanation) from exc


@transaction.atomic
def return_approve(*, ret: Return, by: User, reason: str = "") -> Return:
    """The manager approves: the return completes at its store (refund, restock)."""
    ret = _lock(ret)
    if ret.state == ReturnState.COMPLETED:
        return ret
    if ret.state != ReturnState.AWAITING_APPROVAL:
        raise NotDecidable(_("This return is not waiting for approval."))
    _authorise(ret, by)
    ret.decided_by = _who(by)
    ret.decision_reason = str(reason)[:300]
    ret.save(update_fields=["decided_by", "decision_reason", "updated_at"])
    _event(ret, "return_approved", ret.state, ret.state, by=by, store=ret.store, reason=reason)
    _complete(ret, location=_shelf(ret.store), store=ret.store, by=by)
    return ret


@transaction.atomic
def return_refuse(*, ret: Return, by: User, reason: str) -> Return:
    """The manager refuses (with a reason the customer hears): the units are freed."""
    ret = _lock(ret)
    if ret.state == ReturnState.REFUSED:
        return ret
    if ret.state != ReturnState.AWAITING_APPROVAL:
        raise NotDecidable(_("This return is not waiting for approval."))
    if len(str(reason or "").strip()) < 3:
        raise ReturnError(_("Say why the return is refused."), field="reason")
    _authorise(ret, by)
    ret.decided_by = _who(by)
    ret.decision_reason = str(reason).strip()[:300]
    ret.save(update_fields=["decided_by", "decision_reason", "updated_at"])
    _free(ret)
    _move(ret, ReturnState.REFUSED, by=by, store=ret.store, reason=ret.decision_reason)
    _domain_event("return_cancelled", ret)
    return ret


# --- Finding ------------------------------------------------------------------------------


def find(text: str) -> Order | Return | None:
    """What a scan or a typed text names: a return (its code or return_ref) or an order
    (its order_ref, as the receipt's QR code and barcode carry it)."""
    text = "".join(ch for ch in str(text or "") if ch >= " " and ch != "\x7f").strip()[:64]
    if not text:
        return None
    if text.upper().startswith("AISLE-RETURN:"):
        text = text.split(":", 1)[1]
    ret = (
        Return.objects.filter(code=text.upper()).first()
        or Return.objects.filter(return_ref=text).first()
    )
    if ret is not None:
        return ret
    if text.upper().startswith("AISLE-ORDER:"):
        text = text.split(":", 1)[1]
    return (
        Order.objects.filter(order_ref=text).first()
        or Order.objects.filter(order_ref__iexact=text).first()
    )


# --- Customer data ------------------------------------------------------------------------


def merge_customer(*, survivor: Customer, duplicate: Customer) -> None:
    """Registered with `retail.customer_data`: a merged customer's returns move over."""
    Return.objects.filter(customer=duplicate).update(customer=survivor)


def count_customer(customer: Customer) -> int:
    return Return.objects.filter(customer=customer).count()
