"""At the counter: the kiosk check-in and the verified hand-over."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import credit
from orders.models import Fulfillment, Order, OrderLine, Payment, State
from orders.pickup.base import (
    CODE_RE,
    QR_RE,
    SCAN_MAX,
    NotAllowed,
    PaymentDue,
    PickupError,
    WrongCode,
    _at_store,
    _authorise_without_code,
    _check_collectable,
    _locked,
    _log,
    _transition,
    clean,
)
from orders.pickup.codes import (
    _check_unlocked,
    _code_matches,
    _guard,
    _miss,
    _resolve_code,
    counting_misses,
)
from orders.pickup.queue import pickups_at
from orders.services import money, taken_value
from retail import outbox
from retail.models import Store, User
from retail.money import money_text

# --- Kiosk check-in ---------------------------------------------------------------------


@counting_misses
@transaction.atomic
def pickup_check_in(*, store: Store, text: str, by: User | None) -> Fulfillment:
    """The customer checks in at the kiosk with their code (typed or scanned QR). An
    order reference alone says whether the order is ready, and checks nobody in."""
    text = clean(text)[:SCAN_MAX]
    if not text:
        raise WrongCode(_("Type your pickup code or scan its QR code."))
    if not (QR_RE.match(text) or CODE_RE.match(text)):
        _guard(store, by)
        order = Order.objects.filter(order_ref__iexact=text).first()
        f = order and pickups_at(store).filter(order=order).order_by("-pk").first()
        if not f:
            raise _miss(
                WrongCode(_("A pickup code is six digits, or scan the QR code in the message."))
            )
        if f.state == State.READY:
            raise WrongCode(_("Your order is ready: type the pickup code from your message."))
        _check_collectable(f, store)
    f = _resolve_code(store=store, text=text, by=by)
    order, f = _locked(f)
    _check_collectable(f, store)
    if f.checked_in_at is None:
        f.checked_in_at = timezone.now()
        f.save(update_fields=["checked_in_at", "updated_at"])
        _log(order, f, "customer_checked_in", by=by, store=store, reason=_("at the kiosk"))
        outbox.record_event(
            "fulfillment_changed",
            payload={
                "order_ref": order.order_ref,
                "fulfillment_id": f.pk,
                "from": f.state,
                "to": f.state,
                "checked_in": True,
            },
        )
    return f


# --- Hand-over ----------------------------------------------------------------------------


@counting_misses
@transaction.atomic
def pickup_hand_over(
    *,
    fulfillment: Fulfillment,
    code: str,
    by: User | None,
    store: Store,
    refusals: Mapping[int, tuple[int, str]] | None = None,
    id_checked: bool = False,
    tender: str = "",
) -> Fulfillment:
    """Hand a ready pickup over after verifying its code: all lines, or all but those
    the customer refuses (`refusals`: line id -> (units, reason), recorded for a later
    return). Stock moves from reserved to sold through the ledger. A second hand-over
    (double tap, replayed POST, two associates) is refused: it happens once.

    A customer who lost the code may collect without it when the associate checked
    their ID (`id_checked`, no code) and training's gate `handover_without_code`
    allows this associate (certified, or a manager's one-time override).

    A reservation paid at the counter (the kiosk's reserve and collect) owes the
    value of the units handed over: the associate takes it (`tender`: card, cash, or
    the customer's store credit) and the payment is recorded before the hand-over;
    without it (or with too little store credit), nothing happens.

    Wrong codes are limited per device (`by`) and per order (its code locks; a
    manager unlocks it); the ID path is never limited."""
    without_code = id_checked and not clean(code)
    if not without_code:
        _guard(store, by)
    order, f = _locked(fulfillment)
    _at_store(f, store)
    _check_collectable(f, store)
    if not without_code:
        _check_unlocked(f)
        if not _code_matches(f, code):
            raise _miss(WrongCode(_("The pickup code does not match this order.")), f.pk)
    lines = {line.pk: line for line in f.lines.select_related("order_line")}
    refusals = dict(refusals or {})
    for line_id, (units, reason) in refusals.items():
        line = lines.get(line_id)
        if line is None:
            raise PickupError(_("A refused line is not part of this order."))
        if not 0 < units <= line.quantity:
            raise PickupError(
                _("Refuse between 1 and %(n)s × %(sku)s.")
                % {"n": line.quantity, "sku": line.order_line.sku}
            )
        if not clean(reason):
            raise PickupError(
                _("Say why the customer refused %(sku)s.") % {"sku": line.order_line.sku}
            )
    if lines and sum(u for u, _r in refusals.values()) >= sum(x.quantity for x in lines.values()):
        raise PickupError(
            _("Every unit is refused: nothing to hand over. Cancel the order instead.")
        )
    due = amount_due(order, f, refusals)
    if due > 0 and tender == credit.TENDER and order.customer_id is None:
        raise PickupError(_("Store credit is spent by the order's customer: take card or cash."))
    if due > 0 and tender not in TENDERS:
        raise PaymentDue(
            _("This order is paid at the counter: take %(amount)s first.")
            % {"amount": money_text(due, order.currency)},
            amount=f"{due:.2f}",
        )
    if without_code:
        _authorise_without_code(f, by=by)
        _log(
            order,
            f,
            "handed_over_without_code",
            by=by,
            store=store,
            reason=_("the customer's ID was checked instead of the code"),
        )
    for line_id, (units, reason) in refusals.items():
        line = lines[line_id]
        line.refused_quantity = units
        line.refused_reason = clean(reason)[:200]
        line.save(update_fields=["refused_quantity", "refused_reason"])
        _log(
            order,
            f,
            "line_refused",
            by=by,
            store=store,
            reason=_("%(n)s × %(sku)s refused: %(why)s")
            % {"n": units, "sku": line.order_line.sku, "why": line.refused_reason},
        )
    if due > 0:
        Payment.objects.create(order=order, tender=tender, amount=due, reference=f"counter:{f.pk}")
        _log(order, f, "payment_recorded", by=by, store=store, reason=f"{tender} {due:.2f}")
    f.collected_at = timezone.now()
    f.save(update_fields=["collected_at"])
    f = _transition(f, State.COLLECTED, by=by, store=store, reason=_("handed over"))
    if due > 0 and tender == credit.TENDER:
        # After the stock moved (the lock order every credit writer keeps): a short
        # balance refuses the whole hand-over, and nothing is written.
        credit.credit_spend(customer=order.customer, amount=due, order=order, by=by, store=store)
    return f


TENDERS = ("card", "cash", credit.TENDER)


def amount_due(order: Order, f: Fulfillment, refusals: Mapping | None = None) -> Decimal:
    """What the customer still owes for the units this hand-over gives them: every unit
    handed over so far (returned ones too), this one's included, valued as refunds and
    returns value them (`services.taken_value`), less what was paid net of refunds
    other than returns'. Zero for an order paid when it was placed."""
    refusals = refusals or {}
    here: dict[int, tuple[int, int]] = {}
    for fl in f.lines.all():
        refused = refusals.get(fl.pk, (0, ""))[0]
        taken, was_refused = here.get(fl.order_line_id, (0, 0))
        here[fl.order_line_id] = (taken + fl.quantity - refused, was_refused + refused)
    owed = Decimal("0.00")
    for line in OrderLine.objects.filter(order=order):
        taken, refused = here.get(line.pk, (0, 0))
        owed += taken_value(line, line.received_quantity + taken, line.cancelled_quantity + refused)
    paid = sum((p.amount for p in order.payments.all()), Decimal("0"))
    refunded = sum((r.amount for r in order.refunds.all() if not r.return_ref), Decimal("0"))
    return max(Decimal("0.00"), money(owed - (paid - refunded)))


# --- A locked code, a guest reservation: what the counter settles ----------------------


@transaction.atomic
def pickup_code_unlock(*, fulfillment: Fulfillment, by: User, store: Store) -> Fulfillment:
    """A store manager unlocks an order's code locked after too many wrong codes
    (logged on the order and in the audit log)."""
    from retail import access
    from retail.services import audit_record

    if not access.may_unlock_pickup_code(by, store):
        raise NotAllowed(_("Only a manager of this store may unlock a pickup code."))
    order, f = _locked(fulfillment)
    _at_store(f, store)
    if f.code_locked_at is None:
        raise PickupError(_("This order's pickup code is not locked."))
    misses = f.code_misses
    f.code_locked_at, f.code_misses = None, 0
    f.save(update_fields=["code_locked_at", "code_misses", "updated_at"])
    _log(order, f, "code_unlocked", by=by, store=store, reason=_("pickup code unlocked"))
    audit_record(
        actor=by,
        action="pickup_code_unlocked",
        target=f,
        store=store,
        detail={"order_id": order.pk, "wrong_codes": misses},
    )
    return f


@transaction.atomic
def pickup_link_customer(
    *, fulfillment: Fulfillment, customer, by: User, store: Store
) -> Fulfillment:
    """Link a guest reservation (a kiosk order without a customer) to the customer
    whose ID the associate checked at the counter (logged and audited)."""
    from retail import access
    from retail.services import audit_record

    if not access.may_link_pickup_customer(by, store):
        raise NotAllowed(_("Only the store's staff may link an order to a customer."))
    order, f = _locked(fulfillment)
    _at_store(f, store)
    if order.customer_id is not None:
        raise PickupError(_("This order already belongs to a customer."))
    if customer is None:
        raise PickupError(_("No customer has this reference, e-mail or phone number."))
    order.customer = customer
    order.save(update_fields=["customer", "updated_at"])
    _log(order, f, "customer_linked", by=by, store=store, reason=_("customer's ID checked"))
    audit_record(
        actor=by,
        action="order_customer_linked",
        target=order,
        store=store,
        detail={"customer_id": customer.pk, "fulfillment_id": f.pk},
    )
    return f
