"""Service functions of the core: the only code that writes several core rows at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from retail import roles
from retail.models import AuditLog, Customer, Role, StaffProfile, Store, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    store: Store | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one row to the audit log. `detail` must never hold personal data."""
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        store=store,
        detail=detail or {},
    )


def customer_profile_view(*, customer: Customer, by: User, store: Store | None) -> AuditLog:
    """Record that a staff member opened a customer's profile."""
    return audit_record(actor=by, action="customer.view", target=customer, store=store)


def consent_times_update(*, customer: Customer, changed: Iterable[str]) -> None:
    """Stamp the time of every consent decision that changed (given or withdrawn)."""
    now = timezone.now()
    changed = set(changed)
    if "tracking_consent" in changed:
        customer.tracking_consent_at = now
    if "marketing_consent" in changed:
        customer.marketing_consent_at = now


@transaction.atomic
def staff_create(
    *,
    email: str,
    password: str | None,
    role: Role | str,
    home_store: Store | None,
    other_stores: Iterable[Store] = (),
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a staff member (or kiosk account) with their one role and stores."""
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    profile = StaffProfile.objects.create(user=user, role=role, home_store=home_store)
    if other_stores:
        profile.other_stores.set(other_stores)
    roles.sync_user_with_role(user, role)
    return user
