"""The return policy engine: pure functions over `ReturnPolicy` and `PolicyException`.

The return services and screens ask it, per order line, whether a unit may come
back and why (`line_verdict`), what fee the policy charges (`restocking_fee`) and
why a manager must approve (`approval_reasons`). It writes nothing.

To judge many lines in a fixed number of queries, load the policies and the
exceptions once and pass them in:

    policies = policies_for(line.variant.product for line in lines)
    exceptions = exceptions_for(customer=order.customer, order=order)
    line_verdict(..., policies=policies, exceptions=exceptions)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from retail.models import Store
from retail.money import money_text
from returns.models import FeeKind, PolicyException, ReturnPolicy

#: The API's reason codes for a line that cannot be returned, in the order they are checked.
NOT_RETURNABLE = ("exceeds_returnable", "not_received", "final_sale", "window_closed")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Verdict:
    returnable: bool
    code: str  # "" when returnable, else one of NOT_RETURNABLE
    message: str  # why or why not, in the active language
    window_ends: dt.datetime | None  # the last moment of the window (its last local day)
    conditions: tuple[str, ...]  # what the associate confirms ("Unworn", ...)
    policy: ReturnPolicy


# --- Loading ------------------------------------------------------------------------


def policy_for(product) -> ReturnPolicy:
    """The product's category's policy, else the network's default, else an unsaved
    policy with the model's defaults. One query."""
    found = {
        p.category_id: p
        for p in ReturnPolicy.objects.filter(
            Q(category_id=product.category_id) | Q(category__isnull=True)
        )
    }
    return found.get(product.category_id) or found.get(None) or ReturnPolicy()


def policies_for(products: Iterable) -> dict[int | None, ReturnPolicy]:
    """category id -> the policy that applies, for every category of `products` (and
    `None` -> the default). One query."""
    category_ids = {p.category_id for p in products}
    found = {
        p.category_id: p
        for p in ReturnPolicy.objects.filter(
            Q(category_id__in=category_ids) | Q(category__isnull=True)
        )
    }
    default = found.get(None) or ReturnPolicy()
    policies: dict[int | None, ReturnPolicy] = {c: found.get(c, default) for c in category_ids}
    policies[None] = default
    return policies


def purchase_date(order) -> dt.date:
    """The day an order was placed, in the network's time zone (`settings.TIME_ZONE`):
    what an exception's purchase date range is compared with."""
    return timezone.localtime(order.created_at, zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def exceptions_for(*, customer, order) -> list[PolicyException]:
    """Every exception HQ granted that may apply to this customer's order: for the
    customer, for the order, or for purchases on the order's date (whatever their
    category and end date; `line_verdict` checks those). One query."""
    scope = Q(pk__in=[])
    if customer is not None:
        scope |= Q(customer_id=customer.pk)
    if order is not None:
        bought = purchase_date(order)
        scope |= Q(order_id=order.pk) | Q(purchased_from__lte=bought, purchased_to__gte=bought)
    return list(PolicyException.objects.filter(scope).order_by("pk"))


def _matching(
    exceptions: Sequence[PolicyException], *, product, order, customer, at: dt.datetime
) -> list[PolicyException]:
    today = timezone.localtime(at, zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()
    bought = purchase_date(order) if order is not None else None
    matching = []
    for e in exceptions:
        if e.valid_until is not None and e.valid_until < today:
            continue
        if e.category_id is not None and e.category_id != product.category_id:
            continue
        if e.customer_id is not None:
            in_scope = customer is not None and e.customer_id == customer.pk
        elif e.order_id is not None:
            in_scope = order is not None and e.order_id == order.pk
        else:
            in_scope = bought is not None and e.purchased_from <= bought <= e.purchased_to
        if in_scope:
            matching.append(e)
    return matching


# --- The verdict --------------------------------------------------------------------


def _window_ends(received_at: dt.datetime, days: int, store: Store | None) -> dt.datetime:
    """The end of the last local day of the window, counted from the local date of
    `received_at` in the receiving store's time zone."""
    tz = store.tz if store is not None else zoneinfo.ZoneInfo(settings.TIME_ZONE)
    last_day = received_at.astimezone(tz).date() + dt.timedelta(days=days)
    return dt.datetime.combine(last_day, dt.time.max, tzinfo=tz)


def line_verdict(
    *,
    product,
    order,
    customer,
    received_at: dt.datetime | None,
    returnable_units: int,
    store: Store | None,
    at: dt.datetime | None = None,
    policies: Mapping[int | None, ReturnPolicy] | None = None,
    exceptions: Sequence[PolicyException] | None = None,
) -> Verdict:
    """May a unit of this order line come back now, and why (not)?

    Checked in this order: not received, nothing left to return, final sale (the
    category's policy or the product's flag, unless an exception waives it), the
    window (the policy's days plus the best matching exception's extra days, to the
    end of that last local day in `store`'s time zone; `None` -> `settings.TIME_ZONE`).
    `policies` (from `policies_for`) and `exceptions` (from `exceptions_for`) save the
    queries when many lines are judged; without them this runs two queries.
    """
    at = at or timezone.now()
    if policies is not None:
        policy = policies.get(product.category_id) or policies.get(None) or ReturnPolicy()
    else:
        policy = policy_for(product)
    conditions = policy.condition_labels()

    def verdict(code: str, message: str, window_ends: dt.datetime | None = None) -> Verdict:
        return Verdict(not code, code, message, window_ends, conditions, policy)

    if received_at is None:
        return verdict("not_received", _("Not yet collected or delivered"))
    if exceptions is None:
        exceptions = exceptions_for(customer=customer, order=order)
    matching = _matching(exceptions, product=product, order=order, customer=customer, at=at)
    extra = max((e.extra_days for e in matching), default=0)
    ends = _window_ends(received_at, policy.window_days + extra, store)
    if returnable_units <= 0:
        return verdict(
            "exceeds_returnable",
            _("Every unit already returned or claimed by another return"),
            ends,
        )
    waived = any(e.waive_final_sale for e in matching)
    if not waived and policy.final_sale:
        return verdict("final_sale", _("Final sale: this category cannot be returned"), ends)
    if not waived and product.final_sale:
        return verdict("final_sale", _("Final sale: this product cannot be returned"), ends)
    day = date_format(ends.date(), "DATE_FORMAT")
    window = ngettext("%(days)s-day window", "%(days)s-day window", policy.window_days) % {
        "days": policy.window_days
    }
    if extra:
        window = ngettext(
            "%(window)s, extended by %(extra)s day",
            "%(window)s, extended by %(extra)s days",
            extra,
        ) % {"window": window, "extra": extra}
    if at > ends:
        return verdict(
            "window_closed",
            _("The return window closed on %(date)s (%(window)s)")
            % {"date": day, "window": window},
            ends,
        )
    message = _("Returnable until %(date)s (%(window)s)") % {"date": day, "window": window}
    if waived and (policy.final_sale or product.final_sale):
        message = _("%(message)s: final sale waived by an exception") % {"message": message}
    return verdict("", message, ends)


# --- Money and approval -------------------------------------------------------------


def restocking_fee(policy: ReturnPolicy, *, refund: Decimal, units: int) -> Decimal:
    """The fee the policy charges on a refund of `units` units: fixed per unit or a
    percentage of the refund, rounded half up to the cent, never above the refund."""
    refund = Decimal(refund)
    if refund <= 0 or units <= 0:
        return Decimal("0.00")
    if policy.fee_kind == FeeKind.FIXED:
        fee = policy.fee_value * units
    elif policy.fee_kind == FeeKind.PERCENT:
        fee = refund * policy.fee_value / Decimal(100)
    else:
        fee = Decimal(0)
    fee = max(Decimal(0), fee).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(fee, refund.quantize(CENT, rounding=ROUND_HALF_UP))


def approval_reasons(
    *, refund: Decimal, receipt: bool, policies: Iterable[ReturnPolicy]
) -> list[str]:
    """Why a store manager must approve this return, in the active language: a refund
    above the lowest threshold among the policies of its lines, or no receipt. An
    empty list: no approval needed."""
    thresholds = [p.approval_threshold for p in policies]
    threshold = min(thresholds) if thresholds else ReturnPolicy().approval_threshold
    reasons = []
    if Decimal(refund) > threshold:
        reasons.append(
            _("The refund of %(refund)s is above %(threshold)s: a manager approves it")
            % {"refund": money_text(refund), "threshold": money_text(threshold)}
        )
    if not receipt:
        reasons.append(_("No receipt: a manager approves every return without one"))
    return reasons


def receiptless_allowed(product, *, policies: Mapping | None = None) -> bool:
    """May this product come back without a receipt (with a manager, as store credit)?"""
    if policies is not None:
        policy = policies.get(product.category_id) or policies.get(None) or ReturnPolicy()
    else:
        policy = policy_for(product)
    return policy.receiptless_allowed
