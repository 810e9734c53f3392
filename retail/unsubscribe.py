"""One-click unsubscribe from marketing messages.

Every marketing message (`messaging.MARKETING_TEMPLATES`) carries a link with a token
signed by `django.core.signing`: it names the message and its customer, and expires
after `AISLE_UNSUBSCRIBE_MAX_AGE_DAYS`. Anyone holding it may withdraw that customer's
marketing consent, once, without signing in: the use is recorded in the audit log
(against the message), so a replayed link changes nothing. A tampered, expired or
replayed token gets a clear page and changes nothing.
"""

from __future__ import annotations

import enum

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from retail.models import AuditLog, Customer, OutboundMessage

SALT = "aisle.unsubscribe"
ACTION = "customer.unsubscribe"
SOURCE = "unsubscribe_link"


class Outcome(enum.StrEnum):
    VALID = "valid"  # may be used (nothing done yet)
    DONE = "done"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"


def token_for(message: OutboundMessage) -> str:
    return signing.dumps({"m": message.pk, "c": message.customer_id}, salt=SALT, compress=True)


def url_for(message: OutboundMessage) -> str:
    """The absolute link put into the message."""
    path = reverse("unsubscribe", kwargs={"token": token_for(message)})
    return settings.AISLE_SITE_URL.rstrip("/") + path


def _max_age() -> int:
    return int(settings.AISLE_UNSUBSCRIBE_MAX_AGE_DAYS) * 86400


def check(token: str) -> tuple[Outcome, OutboundMessage | None]:
    """What the token is worth now, without changing anything."""
    try:
        data = signing.loads(token, salt=SALT, max_age=_max_age())
    except signing.SignatureExpired:
        return Outcome.EXPIRED, None
    except (signing.BadSignature, ValueError, TypeError):
        return Outcome.INVALID, None
    if not isinstance(data, dict):
        return Outcome.INVALID, None
    message = (
        OutboundMessage.objects.filter(pk=data.get("m"), customer_id=data.get("c"))
        .select_related("customer")
        .first()
    )
    if message is None or message.customer.erased_at is not None:
        return Outcome.INVALID, None
    if _used(message):
        return Outcome.USED, message
    return Outcome.VALID, message


def _used(message: OutboundMessage) -> bool:
    return AuditLog.objects.filter(
        action=ACTION, target_type=OutboundMessage._meta.label_lower, target_id=str(message.pk)
    ).exists()


@transaction.atomic
def use(token: str) -> Outcome:
    """Withdraw the marketing consent the token names, once."""
    from retail.services import audit_record, customer_consent_withdraw

    outcome, message = check(token)
    if outcome != Outcome.VALID:
        return outcome
    # The customer's row lock serialises two clicks racing on the same link.
    Customer.objects.select_for_update().get(pk=message.customer_id)
    if _used(message):
        return Outcome.USED
    customer_consent_withdraw(customer=message.customer, kind="marketing", by=None, source=SOURCE)
    audit_record(
        actor=None,
        action=ACTION,
        target=message,
        detail={"customer_id": message.customer_id, "source": SOURCE},
    )
    return Outcome.DONE
