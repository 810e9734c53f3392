"""Interim return policy (replaced by the policy engine branch): a 30-day window from
receipt, the product's final-sale flag, no fee, a manager above 500.00 or without a
receipt. Same signatures as the engine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

NOT_RETURNABLE = ("exceeds_returnable", "not_received", "final_sale", "window_closed")


@dataclass
class ReturnPolicy:
    window_days: int = 30
    approval_threshold: Decimal = Decimal("500.00")
    receiptless_allowed: bool = False
    conditions: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class Verdict:
    returnable: bool
    code: str
    message: str
    window_ends: dt.datetime | None
    conditions: tuple[str, ...]
    policy: ReturnPolicy


def policy_for(product) -> ReturnPolicy:
    return ReturnPolicy()


def policies_for(products) -> dict:
    return {}


def exceptions_for(*, customer, order) -> list:
    return []


def line_verdict(
    *,
    product,
    order,
    customer,
    received_at,
    returnable_units,
    store,
    at=None,
    policies=None,
    exceptions=None,
):
    p = policy_for(product)
    if received_at is None:
        return Verdict(False, "not_received", _("Not yet collected or delivered."), None, (), p)
    if returnable_units <= 0:
        return Verdict(
            False,
            "exceeds_returnable",
            _("Every unit is already returned or claimed by another return."),
            None,
            (),
            p,
        )
    if product.final_sale:
        return Verdict(False, "final_sale", _("Final sale: it cannot be returned."), None, (), p)
    tz = store.tz if store is not None else dt.UTC
    last_day = timezone.localtime(received_at, tz).date() + dt.timedelta(days=p.window_days)
    ends = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    if (at or timezone.now()) >= ends:
        return Verdict(False, "window_closed", _("The return window has closed."), ends, (), p)
    return Verdict(True, "", _("Returnable."), ends, (), p)


def restocking_fee(policy, *, refund: Decimal, units: int) -> Decimal:
    return Decimal("0.00")


def approval_reasons(*, refund: Decimal, receipt: bool, policies) -> list[str]:
    reasons = []
    if refund > Decimal("500.00"):
        reasons.append(_("The refund is above 500.00."))
    if not receipt:
        reasons.append(_("There is no receipt."))
    return reasons


def receiptless_allowed(product) -> bool:
    return False
