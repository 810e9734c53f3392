"""Order services: placing, cancelling and moving fulfilments.

The API and the tablet call only these. Every change locks the order row, writes
an `OrderEvent`, moves stock only through `inventory.services`, and records its
domain events (`order_placed`, `order_cancelled`, `fulfillment_changed`) in the
outbox, which delivers them after commit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import services as stock
from inventory.models import StockLevel
from inventory.services import InsufficientStock, StockRequest
from inventory.sourcing import Address, Plan, SourcingRequest, plan_sourcing
from inventory.sourcing import Method as SourcingMethod
from orders import credit, webhooks
from orders.errors import OrderError  # re-exported: callers catch services.OrderError
from orders.models import (
    CANCELLABLE,
    ENDED,
    HOLDS_RESERVATION,
    SUCCEEDED,
    Fulfillment,
    FulfillmentLine,
    Method,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    State,
)
from orders.shapes import load_order
from retail import geography, polls
from retail.dates import when_text
from retail.models import Customer, Store, User, Variant
from retail.money import money_text

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _record_event(name: str, payload: dict) -> None:
    from retail import outbox

    outbox.record_event(name, payload=payload)


class OrderValidationError(OrderError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(_("The order is not valid."), errors=errors)


class PriceMismatch(OrderError):
    status, code = 409, "price_mismatch"


class PaymentMismatch(OrderError):
    status, code = 400, "payment_mismatch"


class OutOfStock(OrderError):
    status, code = 409, "insufficient_stock"


class OrderRefConflict(OrderError):
    status, code = 409, "order_ref_conflict"


class PromiseChanged(OrderError):
    """The promise shown to the customer can no longer be kept: nothing was placed."""

    status, code = 409, "promise_changed"


class NotCancellable(OrderError):
    status, code = 409, "not_cancellable"


class TransitionRefused(OrderError):
    status, code = 409, "invalid_transition"


@dataclass
class LineInput:
    variant: Variant
    quantity: int
    unit_price: Decimal


@dataclass
class PaymentInput:
    tender: str
    amount: Decimal
    reference: str = ""


@dataclass
class OrderInput:
    order_ref: str
    channel: str
    customer: Customer | None
    lines: Sequence[LineInput]
    method: str  # pickup / ship / carry_out
    store: Store | None = None
    address: dict | None = None
    discount: Decimal = Decimal("0.00")
    tender: str = ""
    amount: Decimal = Decimal("0.00")
    payment_reference: str = ""
    by: User | None = None
    credited_to: User | None = None
    fingerprint: str = ""
    # Reserve and collect (the kiosk): nothing is paid now; the counter records the
    # payment at hand-over (`orders.pickup.pickup_hand_over`).
    pay_at_pickup: bool = False
    # Paid with several tenders (an exchange: the returned value as store credit, the
    # difference by card): these payments instead of `tender`/`amount`.
    split: Sequence[PaymentInput] = ()
    # The promise the customer was shown (the cart's "ready by"): placing refuses an
    # order that would now come later than that, or one whose date has passed.
    quoted: dt.datetime | None = None

    def payments(self) -> list[PaymentInput]:
        if self.split:
            return list(self.split)
        return [PaymentInput(self.tender, self.amount, self.payment_reference)]

    def paid(self) -> Decimal:
        return sum((money(p.amount) for p in self.payments()), Decimal("0.00"))

    def paid_in_credit(self) -> Decimal:
        return sum(
            (money(p.amount) for p in self.payments() if p.tender == credit.TENDER),
            Decimal("0.00"),
        )


# --- Placing ----------------------------------------------------------------------


def _price_lines(data: OrderInput) -> tuple[list[dict], Decimal, Decimal]:
    """Each line's money: gross, its share of the order discount (by value, the last
    line taking the rounding remainder) and its tax share. Returns (lines, subtotal, total)."""
    gross = [money(line.unit_price * line.quantity) for line in data.lines]
    subtotal = sum(gross, Decimal("0.00"))
    discount = money(data.discount)
    if discount > subtotal:
        raise OrderValidationError({"discount": [_("The discount is larger than the order.")]})
    shares, given = [], Decimal("0.00")
    for i, g in enumerate(gross):
        if i == len(gross) - 1:
            share = discount - given
        else:
            share = money(discount * g / subtotal) if subtotal else Decimal("0.00")
        shares.append(share)
        given += share
    priced = []
    for line, g, share in zip(data.lines, gross, shares, strict=True):
        rate = line.variant.product.category.tax_rate
        line_total = g - share
        priced.append(
            {
                "variant": line.variant,
                "sku": line.variant.sku,
                "quantity": line.quantity,
                "catalog_price": line.variant.price,
                "unit_price": money(line.unit_price),
                "discount_share": share,
                "line_total": line_total,
                "tax_rate": rate,
                "tax_amount": money(line_total * rate / (Decimal(100) + rate)),
            }
        )
    return priced, subtotal, subtotal - discount


def _validate(data: OrderInput) -> None:
    errors: dict[str, list[str]] = {}
    if not data.lines:
        errors["lines"] = [_("An order needs at least one line.")]
    for i, line in enumerate(data.lines):
        if line.quantity <= 0:
            errors[f"lines.{i}.quantity"] = [_("The quantity must be above zero.")]
        if not line.variant.active or not line.variant.product.active:
            errors[f"lines.{i}.sku"] = [_("This product is no longer sold.")]
    if data.method in (SourcingMethod.PICKUP, SourcingMethod.CARRY_OUT):
        if data.store is None:
            errors["fulfillment.store"] = [_("A pickup or a till sale needs a store.")]
        elif not data.store.is_open:
            errors["fulfillment.store"] = [_("This store is closed.")]
        elif data.method == SourcingMethod.PICKUP and not data.store.pickup_enabled:
            errors["fulfillment.store"] = [_("This store does not offer pickup.")]
    if data.method == SourcingMethod.SHIP and not data.address:
        errors["fulfillment.address"] = [_("A delivery needs an address.")]
    elif data.method == SourcingMethod.SHIP:
        country = str(data.address.get("country", ""))
        if not geography.country_served(country):
            errors["fulfillment.address.country"] = [geography.not_served_message(country)]
    # A till sale, and a kiosk's guest reservation (paid at the counter, linked to the
    # customer there after an ID check), may have no customer.
    guest_reservation = data.pay_at_pickup and data.channel == "kiosk"
    if data.method != SourcingMethod.CARRY_OUT and data.customer is None and not guest_reservation:
        errors["customer_ref"] = [_("Only a till sale may be placed without a customer.")]
    if data.pay_at_pickup and data.method != SourcingMethod.PICKUP:
        errors["payment"] = [_("Only a pickup may be paid at the counter.")]
    if data.paid_in_credit() > 0 and not data.pay_at_pickup and data.customer is None:
        errors["customer_ref"] = [_("Store credit is spent by a customer: name the customer.")]
    if errors:
        raise OrderValidationError(errors)
    over = [line.variant.sku for line in data.lines if line.unit_price > line.variant.price]
    if over:
        raise PriceMismatch(
            _("A unit price is above the catalog price for: %(skus)s") % {"skus": ", ".join(over)},
            skus=over,
        )


def _plan(data: OrderInput) -> Plan:
    wanted: dict[int, int] = defaultdict(int)
    for line in data.lines:
        wanted[line.variant.pk] += line.quantity
    return plan_sourcing(
        SourcingRequest(
            method=data.method,
            lines=dict(wanted),
            store=data.store,
            address=Address.of(data.address),
        )
    )


# A shelf pickup's promise moves with the clock (picked two opening hours from now):
# placed a few minutes after it was shown, it is still the promise the customer heard.
PROMISE_SLACK = dt.timedelta(minutes=15)


def _check_promise(data: OrderInput, plan: Plan) -> None:
    """No order that cannot be kept: every part has a date, and none more than
    `PROMISE_SLACK` later than the promise the customer was shown (nor one past)."""
    if data.method == SourcingMethod.CARRY_OUT:
        return
    if any(line.ready_by is None for line in plan.lines):
        raise PromiseChanged(
            _("No date can be promised: the store is closed for the next two weeks.")
        )
    if data.quoted is None:
        return
    promised = plan.promised_by
    now = timezone.now()
    if data.quoted < now or (promised is not None and promised > data.quoted + PROMISE_SLACK):
        with timezone.override(data.store.tz if data.store else None):
            when = when_text(promised, "day_time") if promised else "—"
        raise PromiseChanged(
            _(
                "The promise shown to the customer has changed: it is now %(when)s. "
                "Tell the customer and place the order again."
            )
            % {"when": when},
            promised_by=promised.isoformat() if promised else None,
        )


def order_place(data: OrderInput) -> tuple[Order, bool]:
    """Place an order in any channel. Returns (order, created), the order loaded with
    everything `orders.shapes.order_shape` reads (fetched before commit).

    The same `order_ref` with the same request fingerprint returns the existing
    order (created False); with another fingerprint it is a conflict. Stock is
    reserved (or, for a till sale, sold) in the same transaction; a shortage
    anywhere raises `OutOfStock` naming the SKUs, and nothing is written.
    """
    existing = load_order(data.order_ref)
    if existing is not None:
        return _same_request(existing, data), False
    _validate(data)
    priced, subtotal, total = _price_lines(data)
    if not data.pay_at_pickup and data.paid() != total:
        raise PaymentMismatch(
            _("The payment (%(paid)s) does not equal the order total (%(total)s).")
            % {"paid": money_text(data.paid()), "total": money_text(total)},
            total=f"{total:.2f}",
        )
    for attempt in range(2):
        plan = _plan(data)
        if not plan.complete:
            skus = sorted(Variant.objects.filter(pk__in=plan.short).values_list("sku", flat=True))
            raise OutOfStock(
                _("Not enough stock for: %(skus)s") % {"skus": ", ".join(skus)}, skus=skus
            )
        _check_promise(data, plan)
        try:
            with transaction.atomic():
                order = _create(data, priced, subtotal, total, plan)
                # Loaded before commit: the caller answers from it with no query after.
                return load_order(order.order_ref), True
        except _Duplicate:
            existing = load_order(data.order_ref)
            return _same_request(existing, data), False
        except InsufficientStock as exc:
            # Someone took the units between the plan and the lock: plan again once.
            if attempt == 1:
                raise OutOfStock(str(exc), skus=exc.skus) from exc
    raise AssertionError("unreachable")


class _Duplicate(Exception):
    pass


def _same_request(existing: Order, data: OrderInput) -> Order:
    if data.fingerprint and existing.request_fingerprint != data.fingerprint:
        raise OrderRefConflict(_("An order with this order_ref exists with a different content."))
    return existing


def _create(data: OrderInput, priced, subtotal, total, plan: Plan) -> Order:
    try:
        with transaction.atomic():
            order = Order.objects.create(
                order_ref=data.order_ref,
                channel=data.channel,
                customer=data.customer,
                store=data.store,
                currency=settings.AISLE_CURRENCY,
                subtotal=subtotal,
                discount=money(data.discount),
                total=total,
                address=data.address,
                credited_to=data.credited_to,
                placed_by=data.by if data.by is not None and data.by.is_authenticated else None,
                request_fingerprint=data.fingerprint,
            )
    except IntegrityError as exc:
        raise _Duplicate from exc
    lines = OrderLine.objects.bulk_create([OrderLine(order=order, **p) for p in priced])
    if not all(line.pk for line in lines):  # SQLite before 3.35 returns no ids
        lines = list(order.lines.order_by("pk"))
    if not data.pay_at_pickup:
        for payment in data.payments():
            Payment.objects.create(
                order=order,
                tender=payment.tender,
                amount=money(payment.amount),
                reference=payment.reference,
            )
    by = order.placed_by
    _event(
        order,
        None,
        "order_placed",
        "",
        OrderStatus.OPEN,
        by,
        _("placed in channel %(c)s") % {"c": data.channel},
    )

    # Share each order line's units out over the plan's lines (sources).
    remaining = {line.pk: line.quantity for line in lines}
    by_variant: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        by_variant[line.variant_id].append(line)
    reserve, sell = [], []
    for plan_line in plan.lines:
        method = plan_line.fulfilment
        fulfillment = Fulfillment.objects.create(
            order=order,
            method=method,
            location=plan_line.location,
            pickup_store=data.store if method in (Method.PICKUP, Method.SHIP_TO_STORE) else None,
            state=State.COLLECTED if method == Method.CARRY_OUT else State.RESERVED,
            ready_by=plan_line.ready_by,
            promised_by=plan_line.ready_by,
            promise=plan_line.reason,
        )
        for variant_id, quantity in plan_line.quantities.items():
            for line in by_variant[variant_id]:
                take = min(quantity, remaining[line.pk])
                if take <= 0:
                    continue
                remaining[line.pk] -= take
                quantity -= take
                FulfillmentLine.objects.create(
                    fulfillment=fulfillment, order_line=line, quantity=take
                )
                request = StockRequest(plan_line.location.pk, variant_id, take, line.ref)
                (sell if method == Method.CARRY_OUT else reserve).append(request)
        _event(order, fulfillment, "fulfillment_created", "", fulfillment.state, by, "")
    if reserve:
        stock.stock_reserve(
            requests=reserve, by=by, reason=_("order %(ref)s") % {"ref": order.order_ref}
        )
    if sell:
        stock.stock_sell(
            requests=sell,
            by=by,
            from_reserved=False,
            reason=_("till sale %(ref)s") % {"ref": order.order_ref},
        )
        for fulfillment in order.fulfillments.filter(method=Method.CARRY_OUT):
            _received(fulfillment)
            fulfillment.save(update_fields=["collected_at"])
    if not data.pay_at_pickup and data.paid_in_credit() > 0:
        # Drawn from the balance in the order's transaction (after the stock locks, the
        # order every credit writer keeps): a short balance refuses it, nothing written.
        credit.credit_spend(
            customer=data.customer,
            amount=data.paid_in_credit(),
            order=order,
            by=by,
            store=data.store,
        )
    _refresh_status(order, by)
    _record_event("order_placed", payload=_order_payload(order))
    return order


# --- Moving fulfilments --------------------------------------------------------------


def _lock_order(order_id: int) -> Order:
    return Order.objects.select_for_update(of=("self",)).get(pk=order_id)


def pickups_changed(order: Order, fulfillment: Fulfillment | None = None) -> None:
    """What a store's pickup queue and home panel show changed: the fulfilment's
    pickup store (and the order's store) see it on their next poll; their versions
    move now and again when the transaction commits (`retail.polls`). Every change of
    an order is an event, so the event writers call this."""
    polls.changed(polls.PICKUPS, getattr(fulfillment, "pickup_store_id", None), order.store_id)


def _event(
    order, fulfillment, kind, from_state, to_state, by, reason, *, store=None, webhook=True
) -> OrderEvent:
    pickups_changed(order, fulfillment)
    event = OrderEvent.objects.create(
        order=order,
        fulfillment=fulfillment,
        kind=kind,
        store=store,
        from_state=from_state,
        to_state=to_state,
        by=by if by is not None and getattr(by, "is_authenticated", False) else None,
        reason=str(reason)[:300],
    )
    if webhook:  # every change is a webhook (a return's carry the return: `returns` sends)
        webhooks.order_changed(event)
    return event


def _requests(fulfillment: Fulfillment, location_id: int | None = None) -> list[StockRequest]:
    return [
        StockRequest(
            location_id or fulfillment.location_id,
            fl.order_line.variant_id,
            fl.quantity,
            fl.order_line.ref,
        )
        for fl in fulfillment.lines.select_related("order_line")
    ]


def _refund_fulfillment(
    fulfillment: Fulfillment, reason: str, by: User | None = None
) -> list[Refund]:
    """Refund what was paid for the fulfilment's units and count them cancelled."""
    amount = Decimal("0.00")
    for fl in fulfillment.lines.select_related("order_line"):
        amount += _cancel_units(fl.order_line, fl.quantity)
    return refund_record(
        order=fulfillment.order,
        amount=amount,
        reason=reason,
        source=f"fulfillment:{fulfillment.pk}",
        by=by,
    )


def _cancel_units(line: OrderLine, units: int) -> Decimal:
    """Count `units` of the line cancelled; returns what they were worth."""
    value = units_value(line, units)
    line.cancelled_quantity += units
    line.save(update_fields=["cancelled_quantity"])
    return value


# --- Refunds ------------------------------------------------------------------------------

#: The order in which a refund goes back to an order's tenders: card first, then any
#: other tender in the order paid, store credit, and cash last. Each tender gets back
#: at most what it paid less what it got back already.
REFUND_TENDER_ORDER = ("card",)
REFUND_TENDER_LAST = (credit.TENDER, "cash")


def units_value(line: OrderLine, units: int, *, already: int | None = None) -> Decimal:
    """What `units` of the line were paid: the line's `line_total` (net of its share of
    the order discount) spread over its units, each worth the total divided by the
    quantity rounded down to the cent, the line's last unit taking the remainder — so
    the units of a line add up to exactly its `line_total`, in whatever order and
    however many at a time they go back. `already`: units of the line already valued
    out (cancelled or returned); default, the line's own counts."""
    if units <= 0:
        return Decimal("0.00")
    if already is None:
        already = line.cancelled_quantity + line.returned_quantity
    units = min(units, line.quantity - already)
    if units <= 0:
        return Decimal("0.00")
    base = (line.line_total / line.quantity).quantize(CENT, rounding=ROUND_DOWN)
    if already + units >= line.quantity:
        return line.line_total - base * already
    return base * units


def tax_share(amount: Decimal, rate: Decimal) -> Decimal:
    """The tax included in a tax-inclusive amount at `rate` per cent."""
    return money(amount * rate / (Decimal(100) + rate))


def _tender_rank(tender: str) -> int:
    if tender in REFUND_TENDER_ORDER:
        return 0
    if tender in REFUND_TENDER_LAST:
        return 2 + REFUND_TENDER_LAST.index(tender)
    return 1


def refund_split(order: Order, amount: Decimal) -> list[tuple[str, Decimal]]:
    """How `amount` goes back to the order's tenders (`REFUND_TENDER_ORDER`), never more
    than any of them has left to get back; the part no tender can take is left out."""
    paid: dict[str, Decimal] = {}
    for p in Payment.objects.filter(order=order).order_by("at", "pk"):
        paid[p.tender] = paid.get(p.tender, Decimal("0.00")) + p.amount
    tenders = sorted(paid, key=_tender_rank)  # stable: other tenders stay in the order paid
    left = dict(paid)
    unassigned = Decimal("0.00")
    for r in Refund.objects.filter(order=order):
        if r.tender in left:
            left[r.tender] -= r.amount
        else:
            unassigned += r.amount  # refunds recorded before tenders were: in tender order
    for tender in tenders:
        take = min(unassigned, max(left[tender], Decimal("0.00")))
        left[tender] -= take
        unassigned -= take
    split, remaining = [], money(amount)
    for tender in tenders:
        take = min(remaining, max(left[tender], Decimal("0.00")))
        if take > 0:
            split.append((tender, take))
            remaining -= take
    return split


def refund_record(
    *,
    order: Order,
    amount: Decimal,
    reason: str,
    source: str = "",
    return_ref: str = "",
    tax_amount: Decimal | None = None,
    to_store_credit: bool = False,
    by: User | None = None,
    store: Store | None = None,
) -> list[Refund]:
    """Record a refund of `amount`, one `Refund` per tender it goes back against
    (`refund_split`), never more than was paid and not yet refunded. Refunds against
    store credit, and refunds the customer takes as store credit (`to_store_credit`),
    go onto the customer's store-credit balance. Call inside the order's transaction
    (the order row locked)."""
    amount = min(money(amount), refund_cap(order, for_return=bool(return_ref)))
    split = refund_split(order, amount)
    total = sum((a for _t, a in split), Decimal("0.00"))
    if total <= 0:
        return []
    tax_amount = money(tax_amount) if tax_amount is not None else Decimal("0.00")
    refunds, tax_left = [], min(tax_amount, total)
    for i, (tender, part) in enumerate(split):
        tax = tax_left if i == len(split) - 1 else min(tax_left, money(tax_amount * part / total))
        tax_left -= tax
        refunds.append(
            Refund.objects.create(
                order=order,
                amount=part,
                reason=str(reason)[:200],
                source=source[:64],
                tender=tender,
                to_store_credit=to_store_credit,
                return_ref=return_ref,
                tax_amount=tax,
            )
        )
    # Onto the customer's balance: what store credit paid comes back to it (restored),
    # and what the customer chose to take as store credit is issued.
    paid_back = sum((r.amount for r in refunds if r.tender == credit.TENDER), Decimal("0.00"))
    issued = sum(
        (r.amount for r in refunds if r.to_store_credit and r.tender != credit.TENDER),
        Decimal("0.00"),
    )
    if paid_back > 0:
        credit.credit_restore(
            customer=order.customer,
            amount=paid_back,
            order=order,
            reason=reason,
            by=by,
            store=store,
        )
    if issued > 0:
        if order.customer is None:
            raise OrderValidationError(
                {"refund_to": [_("Store credit needs a customer: this sale has none.")]}
            )
        credit.credit_issue(
            customer=order.customer,
            amount=issued,
            reason=reason,
            by=by,
            store=store,
            order=order,
            return_ref=return_ref,
        )
    return refunds


def taken_value(line: OrderLine, taken: int, cancelled: int | None = None) -> Decimal:
    """What `taken` units of the line handed over are worth, in `units_value`'s spread:
    the line's remainder goes with the last units the customer gets, so once every
    unit not cancelled is taken they are worth the line total less the cancelled ones."""
    if taken <= 0:
        return Decimal("0.00")
    cancelled = line.cancelled_quantity if cancelled is None else cancelled
    base = (line.line_total / line.quantity).quantize(CENT, rounding=ROUND_DOWN)
    if taken + cancelled >= line.quantity:
        return line.line_total - base * cancelled
    return base * taken


def refund_cap(order: Order, *, for_return: bool) -> Decimal:
    """The most a refund may give back now.

    A return gives back units the customer got, and every unit handed over was paid
    (when the order was placed, or at the counter before the hand-over): at most what
    was paid less what was refunded. A cancellation or a refusal gives back units never
    received, which were paid only when the order was paid in advance: at most what
    was paid, less refunds other than returns', less what the units not cancelled are
    worth (returned units included: their own refunds are left out on both sides). So
    a reservation paid at the counter refunds nothing for units it cancels, and a
    prepaid order gets back exactly its cancelled units."""
    paid = sum((p.amount for p in Payment.objects.filter(order=order)), Decimal("0.00"))
    refunds = list(Refund.objects.filter(order=order).values_list("amount", "return_ref"))
    if for_return:
        cap = paid - sum((a for a, _r in refunds), Decimal("0.00"))
    else:
        not_returns = sum((a for a, ref in refunds if not ref), Decimal("0.00"))
        kept = sum(
            (
                taken_value(line, line.quantity - line.cancelled_quantity)
                for line in OrderLine.objects.filter(order=order)
            ),
            Decimal("0.00"),
        )
        cap = paid - not_returns - kept
    return max(Decimal("0.00"), cap)


def _received(fulfillment: Fulfillment) -> None:
    """The customer got the fulfilment's units (less any they refused): what a return
    may later claim, and the moment its window counts from."""
    for fl in fulfillment.lines.select_related("order_line"):
        taken = fl.quantity - fl.refused_quantity
        if taken > 0:
            OrderLine.objects.filter(pk=fl.order_line_id).update(
                received_quantity=F("received_quantity") + taken
            )
    if fulfillment.collected_at is None:
        fulfillment.collected_at = timezone.now()


def _hand_over_units(fulfillment: Fulfillment, *, by: User | None, reason: str) -> None:
    """A hand-over sells what the customer takes. Units they refuse were never theirs:
    released to the store's shelf, counted cancelled and refunded — no return needed."""
    sell, release = [], []
    refused_value, refused = Decimal("0.00"), []
    for fl in fulfillment.lines.select_related("order_line"):
        line = fl.order_line
        taken = fl.quantity - fl.refused_quantity
        if taken > 0:
            sell.append(StockRequest(fulfillment.location_id, line.variant_id, taken, line.ref))
        if fl.refused_quantity > 0:
            release.append(
                StockRequest(
                    fulfillment.location_id, line.variant_id, fl.refused_quantity, line.ref
                )
            )
            refused_value += _cancel_units(line, fl.refused_quantity)
            refused.append(f"{fl.refused_quantity} × {line.sku}")
    if release:
        stock.stock_release(
            requests=release, by=by, reason=_("refused at hand-over: %(r)s") % {"r": reason}
        )
    if sell:
        stock.stock_sell(requests=sell, by=by, from_reserved=True, reason=reason)
    if refused:
        refund_record(
            order=fulfillment.order,
            amount=refused_value,
            reason=_("refused at hand-over: %(lines)s") % {"lines": ", ".join(refused)},
            source=f"fulfillment:{fulfillment.pk}",
            by=by,
        )
    _received(fulfillment)


def _refresh_status(order: Order, by: User | None) -> None:
    states = list(order.fulfillments.values_list("state", flat=True))
    if states and all(s in ENDED for s in states):
        status = (
            OrderStatus.COMPLETED if any(s in SUCCEEDED for s in states) else OrderStatus.CANCELLED
        )
    else:
        status = OrderStatus.OPEN
    if status != order.status:
        old = order.status
        order.status = status
        order.save(update_fields=["status", "updated_at"])
        _event(order, None, "order_status", old, status, by, "")
        if status == OrderStatus.CANCELLED:
            _record_event("order_cancelled", payload=_order_payload(order))


def _order_payload(order: Order) -> dict:
    return {
        "order_id": order.pk,
        "order_ref": order.order_ref,
        "channel": order.channel,
        "customer_id": order.customer_id,
        "status": order.status,
        "total": f"{order.total:.2f}",
        "created_at": order.created_at.isoformat(),
    }


@transaction.atomic
def fulfillment_transition(
    *, fulfillment: Fulfillment, to: str, by: User | None, reason: str = ""
) -> Fulfillment:
    """Move a fulfilment along its state machine, with the stock that goes with it:
    shipping out of a location or handing over sells the reserved units; a
    ship-to-store leaves its source and arrives reserved at the pickup store;
    cancelling or expiring releases the units and records the refund."""
    order = _lock_order(fulfillment.order_id)
    fulfillment = Fulfillment.objects.select_related("location", "pickup_store").get(
        pk=fulfillment.pk
    )
    if fulfillment.state == to:
        return fulfillment  # a repeated request (double tap, retried task) changes nothing
    if not fulfillment.can_transition(to):
        raise TransitionRefused(
            _("A %(method)s fulfilment cannot go from %(from)s to %(to)s.")
            % {
                "method": fulfillment.get_method_display(),
                "from": fulfillment.get_state_display(),
                "to": State(to).label,
            }
        )
    old = fulfillment.state
    label = _("order %(ref)s") % {"ref": order.order_ref}
    if to in (State.CANCELLED, State.EXPIRED):
        if old in HOLDS_RESERVATION:
            stock.stock_release(requests=_requests(fulfillment), by=by, reason=reason or label)
        why = reason or (
            _("pickup not collected in time") if to == State.EXPIRED else _("cancelled")
        )
        _refund_fulfillment(fulfillment, why, by)
    elif to == State.IN_TRANSIT:
        stock.stock_transfer_out(
            requests=_requests(fulfillment), by=by, from_reserved=True, reason=label
        )
    elif to == State.RECEIVED:
        destination = fulfillment.pickup_store.stock_location
        stock.stock_transfer_in(
            requests=_requests(fulfillment, destination.pk), by=by, reserve=True, reason=label
        )
        fulfillment.location = destination
    elif to == State.COLLECTED:
        _hand_over_units(fulfillment, by=by, reason=label)
    elif to == State.SHIPPED:
        stock.stock_sell(requests=_requests(fulfillment), by=by, from_reserved=True, reason=label)
    elif to == State.DELIVERED:
        _received(fulfillment)
    fulfillment.state = to
    fulfillment.save(update_fields=["state", "location", "collected_at", "updated_at"])
    _event(order, fulfillment, "fulfillment_changed", old, to, by, reason)
    _record_event(
        "fulfillment_changed",
        payload={
            "order_ref": order.order_ref,
            "fulfillment_id": fulfillment.pk,
            "from": old,
            "to": to,
        },
    )
    _refresh_status(order, by)
    return fulfillment


@transaction.atomic
def order_cancel(*, order: Order, by: User | None, reason: str = "") -> Order:
    """Cancel every fulfilment not yet handed over or shipped. Already cancelled: no
    change. Nothing left that can be cancelled: `NotCancellable`."""
    order = _lock_order(order.pk)
    if order.status == OrderStatus.CANCELLED:
        return order
    cancellable = [f for f in order.fulfillments.all() if f.state in CANCELLABLE]
    if not cancellable:
        raise NotCancellable(_("Nothing in this order can still be cancelled."))
    for fulfillment in cancellable:
        fulfillment_transition(
            fulfillment=fulfillment,
            to=State.CANCELLED,
            by=by,
            reason=reason or _("order cancelled"),
        )
    order.refresh_from_db()
    return order


# --- Physical facts win over plans: the shortage handler ------------------------------


def handle_stock_shortage(
    *, level: StockLevel, shortfall: int, by: User | None, reason: str
) -> None:
    """Registered with `inventory`: a till sale or a count leaves fewer units than are
    reserved at `level`. Release the most recent reservations of that SKU there and
    re-source their orders elsewhere (or cancel those units with a refund)."""
    candidates = (
        FulfillmentLine.objects.filter(
            fulfillment__location_id=level.location_id,
            order_line__variant_id=level.variant_id,
            fulfillment__state__in=HOLDS_RESERVATION,
        )
        .select_related(
            "fulfillment", "order_line", "fulfillment__order", "fulfillment__pickup_store"
        )
        .order_by("-fulfillment__created_at", "-pk")
    )
    for fline in candidates:
        if shortfall <= 0:
            break
        shortfall -= fline.quantity
        _resource_line(fline, level, by, reason)


def _resource_line(fline: FulfillmentLine, level: StockLevel, by: User | None, reason: str) -> None:
    old = fline.fulfillment
    order = _lock_order(old.order_id)
    line = fline.order_line
    quantity = fline.quantity
    stock.stock_release(
        requests=[StockRequest(level.location_id, level.variant_id, quantity, line.ref)],
        by=by,
        reason=reason,
    )
    fline.delete()
    why = _("%(reason)s at %(location)s: %(n)s × %(sku)s re-sourced") % {
        "reason": reason,
        "location": level.location.code,
        "n": quantity,
        "sku": line.sku,
    }
    if not old.lines.exists():
        fulfillment_end_empty(fulfillment=old, by=by, reason=why)
    units_resource(
        order=order,
        old=old,
        line=line,
        quantity=quantity,
        by=by,
        why=why,
        exclude_location_ids=frozenset({level.location_id}),
    )


def fulfillment_end_empty(*, fulfillment: Fulfillment, by: User | None, reason: str) -> None:
    """A fulfilment left with no lines (every unit re-sourced, or none arrived) ends as
    cancelled; its units were already dealt with, so nothing moves and nothing is
    refunded here. The order must be locked."""
    from_state = fulfillment.state
    fulfillment.state = State.CANCELLED
    fulfillment.save(update_fields=["state", "updated_at"])
    _event(
        fulfillment.order,
        fulfillment,
        "fulfillment_changed",
        from_state,
        State.CANCELLED,
        by,
        reason,
    )


def record_order_event(
    *,
    order: Order,
    fulfillment: Fulfillment | None,
    kind: str,
    by: User | None,
    reason: str,
    store: Store | None = None,
) -> OrderEvent:
    """An event in the order's history that is not a state change (a receiving
    discrepancy): who, when, where, why; its webhook too. The order must be locked."""
    return _event(order, fulfillment, kind, "", "", by, reason, store=store)


def units_resource(
    *,
    order: Order,
    old: Fulfillment,
    line: OrderLine,
    quantity: int,
    by: User | None,
    why: str,
    exclude_location_ids: frozenset[int] = frozenset(),
) -> int:
    """`quantity` units of `line` that `old` can no longer give the customer (a count
    found them missing, a parcel arrived short or damaged): reserve them again where
    the sourcing rules find them (a new fulfilment of the same kind of journey), and
    cancel with a refund what nothing can replace. The order must be locked. Returns
    how many units were re-sourced."""
    if old.method in (Method.PICKUP, Method.SHIP_TO_STORE):
        method, store, address = SourcingMethod.PICKUP, old.pickup_store, None
    else:
        method, store, address = SourcingMethod.SHIP, None, order.address or {}
    plan = plan_sourcing(
        SourcingRequest(
            method=method,
            lines={line.variant_id: quantity},
            store=store,
            address=Address.of(address),
            exclude_location_ids=exclude_location_ids,
        )
    )
    placed = 0
    if plan.complete:
        for plan_line in plan.lines:
            take = plan_line.quantities.get(line.variant_id, 0)
            if take <= 0:
                continue
            try:
                stock.stock_reserve(
                    requests=[StockRequest(plan_line.location.pk, line.variant_id, take, line.ref)],
                    by=by,
                    reason=why,
                )
            except InsufficientStock:
                continue
            new = Fulfillment.objects.create(
                order=order,
                method=plan_line.fulfilment,
                location=plan_line.location,
                pickup_store=store,
                state=State.RESERVED,
                ready_by=plan_line.ready_by,
                # The customer was promised the old date: later than that, they are told.
                promised_by=old.promised_by or plan_line.ready_by,
                promise=plan_line.reason,
            )
            FulfillmentLine.objects.create(fulfillment=new, order_line=line, quantity=take)
            _event(order, new, "fulfillment_created", "", State.RESERVED, by, why)
            placed += take
    missing = quantity - placed
    if missing > 0:
        refund_record(
            order=order,
            amount=_cancel_units(line, missing),
            reason=_("no stock anywhere for %(sku)s") % {"sku": line.sku},
            source=line.ref,
            by=by,
        )
        _event(
            order,
            None,
            "line_cancelled",
            "",
            "",
            by,
            _("%(n)s × %(sku)s cancelled: no stock anywhere") % {"n": missing, "sku": line.sku},
        )
    _record_event(
        "fulfillment_changed",
        payload={
            "order_ref": order.order_ref,
            "fulfillment_id": old.pk,
            "from": old.state,
            "to": old.state,
            "resourced": True,
        },
    )
    _refresh_status(order, by)
    return placed


# --- Customer data -----------------------------------------------------------------


def orders_merge_customer(*, survivor, duplicate) -> None:
    """Registered with `retail.customer_data`: a merged customer's orders move over."""
    Order.objects.filter(customer=duplicate).update(customer=survivor)


def orders_count_customer(customer) -> int:
    return Order.objects.filter(customer=customer).count()
