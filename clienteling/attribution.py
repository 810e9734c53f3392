"""Assisted selling and cross-channel attribution.

An associate *serves* a customer when they act for them — tap "I'm serving this
customer", write a note or a follow-up, put an item (a recommendation, a viewed
product) into a cart, send a message; opening the profile alone does not count.
Each action lands in the associate's selling session with that customer (a new
session after four quiet hours).

An order of that customer in any channel, placed within the attribution window
(HQ's setting, 14 days by default) after a session's last action, is credited:

- an order placed by an associate themselves (the tablet's cart) is theirs in full;
- else, one associate who served the customer in the window gets it all; several
  split it: the last to act (the last touch) 60 %, the others sharing 40 % equally.
  Amounts are rounded to the cent, the last touch taking the remainder.

Credits come from the `order_placed` domain event (orders never imports this
module) and are idempotent: a redelivered event credits nothing twice. A
cancelled order's credits are reversed in full; a return reverses the share of
the returned value (`credit_reverse`, for the returns work to call).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clienteling.models import ClientelingSettings, SalesCredit, SellingSession, ServingAction
from retail.dates import when_text
from retail.models import Customer, StaffProfile, Store, User

SESSION_GAP = dt.timedelta(hours=4)
LAST_TOUCH = Decimal("60")
OTHERS = Decimal("40")
CENT = Decimal("0.01")


def serving_record(*, associate: User, store: Store, customer: Customer, action: str) -> None:
    """Record that the associate acted for the customer (see the module's rule)."""
    if action not in ServingAction.values or not getattr(associate, "is_authenticated", False):
        return
    now = timezone.now()
    with transaction.atomic():
        session = (
            SellingSession.objects.select_for_update()
            .filter(
                associate=associate,
                store=store,
                customer=customer,
                last_action_at__gte=now - SESSION_GAP,
            )
            .order_by("-last_action_at")
            .first()
        )
        if session is None:
            session = SellingSession(associate=associate, store=store, customer=customer)
        session.actions[action] = int(session.actions.get(action, 0)) + 1
        session.last_action_at = now
        session.save()


def _window() -> dt.timedelta:
    return dt.timedelta(days=ClientelingSettings.current().attribution_days)


def _reason(session_rows: list[dict], store_codes: dict[int, str]) -> str:
    """'served on 3 Nov in S01: note + 2 recommendations' from one associate's sessions."""
    last = max(session_rows, key=lambda r: r["last_action_at"])
    counts: dict[str, int] = {}
    for row in session_rows:
        for action, n in (row["actions"] or {}).items():
            counts[action] = counts.get(action, 0) + int(n)
    labels = dict(ServingAction.choices)
    what = " + ".join(
        (f"{n} × {labels.get(action, action)}" if n > 1 else str(labels.get(action, action)))
        for action, n in sorted(counts.items())
    )
    return _("served on %(day)s in %(store)s: %(what)s") % {
        "day": when_text(last["last_action_at"], "day"),
        "store": store_codes.get(last["store_id"], ""),
        "what": what,
    }


def order_credit(*, order_id: int) -> list[SalesCredit]:
    """Credit an order to the associates who served its customer (idempotent)."""
    from orders.models import Order

    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.customer_id is None:
        return []
    if SalesCredit.objects.filter(order=order).exists():
        return []  # credited already: a redelivered event
    total = Decimal(order.total)
    if order.credited_to_id is not None:
        # Where they placed it: their latest session with this customer (a home
        # delivery has no store of its own), else the order's store, else their home.
        store = (
            SellingSession.objects.filter(
                associate_id=order.credited_to_id, customer_id=order.customer_id
            )
            .order_by("-last_action_at")
            .values_list("store_id", flat=True)
            .first()
            or order.store_id
            or StaffProfile.objects.filter(user_id=order.credited_to_id)
            .values_list("home_store_id", flat=True)
            .first()
        )
        if store is None:
            return []
        plan = [(order.credited_to_id, store, Decimal("100"), _("placed the order themselves"))]
    else:
        plan = _split(order, total)
    return _write(order, total, plan)


def _split(order, total: Decimal) -> list[tuple[int, int, Decimal, str]]:
    since = order.created_at - _window()
    rows = list(
        SellingSession.objects.filter(
            customer_id=order.customer_id,
            last_action_at__gte=since,
            last_action_at__lte=order.created_at,
        ).values("associate_id", "store_id", "last_action_at", "actions")
    )
    if not rows:
        return []
    by_associate: dict[int, list[dict]] = {}
    for row in rows:
        by_associate.setdefault(row["associate_id"], []).append(row)
    latest = {a: max(r["last_action_at"] for r in rs) for a, rs in by_associate.items()}
    order_of = sorted(latest, key=lambda a: (latest[a], a), reverse=True)
    codes = dict(
        Store.objects.filter(pk__in={r["store_id"] for r in rows}).values_list("pk", "code")
    )
    plan = []
    for position, associate in enumerate(order_of):
        if len(order_of) == 1:
            share = Decimal("100")
        elif position == 0:
            share = LAST_TOUCH
        else:
            share = (OTHERS / (len(order_of) - 1)).quantize(CENT)
        mine = by_associate[associate]
        last_store = max(mine, key=lambda r: r["last_action_at"])["store_id"]
        plan.append((associate, last_store, share, _reason(mine, codes)))
    return plan


def _write(order, total: Decimal, plan) -> list[SalesCredit]:
    if not plan:
        return []
    amounts = [(total * share / 100).quantize(CENT, ROUND_HALF_UP) for _a, _s, share, _r in plan]
    amounts[0] += total - sum(amounts)  # the last touch takes the rounding remainder
    credits = [
        SalesCredit(
            order=order,
            associate_id=associate,
            store_id=store,
            channel=order.channel,
            share=share,
            amount=amount,
            reason=reason[:300],
        )
        for (associate, store, share, reason), amount in zip(plan, amounts, strict=True)
    ]
    try:
        with transaction.atomic():
            return SalesCredit.objects.bulk_create(credits)
    except IntegrityError:
        return []  # the same event, delivered twice at once


def credit_reverse(*, order_id: int, amount: Decimal | None = None) -> int:
    """Reverse credits of an order: all of them (a cancellation, `amount` None), or the
    share of `amount` (the value of returned lines). Returns the credits changed."""
    changed = 0
    with transaction.atomic():
        credits = list(SalesCredit.objects.select_for_update().filter(order_id=order_id))
        for credit in credits:
            if amount is None:
                target = credit.amount
            else:
                part = (Decimal(amount) * credit.share / 100).quantize(CENT, ROUND_HALF_UP)
                target = min(credit.amount, credit.reversed_amount + part)
            if target != credit.reversed_amount:
                credit.reversed_amount = target
                credit.save(update_fields=["reversed_amount"])
                changed += 1
    return changed


def merge_customer(*, survivor: Customer, duplicate: Customer) -> None:
    """Selling sessions follow a customer merge."""
    SellingSession.objects.filter(customer=duplicate).update(customer=survivor)


def influenced_summary(credits) -> dict:
    """Totals (credited less reversed) by channel, and overall."""
    by_channel: dict[str, Decimal] = {}
    for credit in credits:
        net = credit.amount - credit.reversed_amount
        by_channel[credit.channel] = by_channel.get(credit.channel, Decimal("0")) + net
    return {
        "by_channel": sorted(by_channel.items()),
        "total": sum(by_channel.values(), Decimal("0")),
    }
