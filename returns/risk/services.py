"""Clearing a customer's flag: HQ, or a store manager at the counter, with a reason.
Audited (an `AuditLog` row, and the clearance itself is kept)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retail import access, audit
from retail.models import Customer, Role, Store, User
from returns.risk import assess
from returns.risk.models import SignalClearance, SignalSettings
from returns.services import NotAllowed, ReturnError


def may_clear(user: User, store: Store | None = None) -> bool:
    """HQ clears anywhere; a store manager at a store where they act."""
    role = access.role_of(user)
    if role == Role.HQ_ADMIN:
        return True
    return access.is_manager(user) and store is not None and access.can_act_in(user, store)


@transaction.atomic
def signals_clear(
    *, customer: Customer, by: User, reason: str, store: Store | None = None
) -> SignalClearance:
    """Clear the customer's raised signals for HQ's clearance period: their returns
    no longer wait for a manager because of them (new signals still do)."""
    if not may_clear(by, store):
        raise NotAllowed(_("Only HQ or a manager of this store clears a customer's flag."))
    reason = " ".join(str(reason or "").split())
    if len(reason) < 3:
        raise ReturnError(_("Say why the flag is cleared."), field="reason")
    if len(reason) > 300:
        raise ReturnError(_("Keep the reason under 300 characters."), field="reason")
    rules = SignalSettings.load()
    assessment = assess.for_customer(customer, rules=rules)
    if not assessment.signals:
        raise ReturnError(_("This customer has no signal to clear."), field="customer")
    if assessment.clearance is not None and not assessment.uncleared:
        return assessment.clearance  # a double tap: every raised signal is cleared already
    now = timezone.now()
    clearance = SignalClearance.objects.create(
        customer=customer,
        signals=assessment.codes,
        reason=reason,
        cleared_by=by,
        store=store,
        created_at=now,
        valid_until=now + dt.timedelta(days=rules.clearance_days),
    )
    audit.record(
        actor=by,
        action="returns.signals_clear",
        target_type="retail.customer",
        target_id=str(customer.pk),
        store=store,
        detail={"signals": assessment.codes, "clearance": clearance.pk},
    )
    return clearance
