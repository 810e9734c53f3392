"""A customer's data rights: export everything Aisle keeps about them, and erase it.

    customer_export(customer) -> dict          # one JSON document, a section per handler
    erasure_blockers(customer) -> dict         # {"orders": [...], ...}; empty: may erase
    customer_erase(customer, by=..., reason=...)  # raises ErasureBlocked, else erases

Each app fills its slots of the registry (`retail.customer_data`): `export`, `erase`
and `blocks`. The profile itself stays as a tombstone without personal data (its id
is what the audit log, the kept orders' accounting and the store credit ledger point
at): no name, no contact, no online reference (so the ref answers 404 and later
events for it are dropped as unknown), and `erased_at` set. Profiles merged into it
earlier are tombstoned the same way. The audit log is never edited: it records the
erasure by ids only.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retail import customer_data
from retail.models import AuditLog, Customer, MessageState, OutboundMessage, User

PROFILE_LABEL = "retail.customer"
EXPORT_FORMAT = "aisle.customer-export/1"


class ErasureBlocked(Exception):
    """The customer may not be erased now; `blockers` says why (nothing was changed)."""

    def __init__(self, blockers: dict[str, Any]):
        super().__init__(_("This customer's data cannot be erased yet."))
        self.blockers = blockers


def family(customer: Customer) -> list[Customer]:
    """The customer and every profile merged into them (their tombstones keep a name
    and contact details of their own)."""
    found, frontier = [customer], [customer.pk]
    seen = {customer.pk}
    while frontier:
        more = [c for c in Customer.objects.filter(merged_into__in=frontier) if c.pk not in seen]
        seen.update(c.pk for c in more)
        found.extend(more)
        frontier = [c.pk for c in more]
    return found


def _json(value: Any) -> Any:
    """A plain-JSON copy (dates, decimals, UUIDs as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def customer_export(customer: Customer) -> dict:
    """Everything Aisle keeps about the customer, one section per registered handler."""
    sections: dict[str, Any] = {}
    for handler in customer_data.handlers():
        if handler.export is not None:
            sections[handler.label] = handler.export(customer)
    return _json(
        {
            "format": EXPORT_FORMAT,
            "customer_id": customer.pk,
            "customer_ref": customer.customer_ref,
            "exported_at": timezone.now(),
            "sections": sections,
        }
    )


def erasure_blockers(customer: Customer) -> dict[str, Any]:
    """What forbids erasing the customer now, per kind (`orders`, `returns`,
    `store_credit`, `appointments`); an empty dict when nothing does."""
    blockers: dict[str, Any] = {}
    for handler in customer_data.handlers():
        if handler.blocks is None:
            continue
        found = handler.blocks(customer)
        if found:
            blockers.update(found)
    return blockers


@transaction.atomic
def customer_erase(customer: Customer, *, by: User | None, reason: str) -> None:
    """Erase the customer's personal data from every app (see the module's docstring).

    Raises `ErasureBlocked` (changing nothing) while something blocks it, and
    `Customer.DoesNotExist` for a customer already erased or merged away."""
    customer = (
        Customer.objects.select_for_update()
        .filter(pk=customer.pk, erased_at__isnull=True, merged_into__isnull=True)
        .first()
    )
    if customer is None:
        raise Customer.DoesNotExist
    blockers = erasure_blockers(customer)
    if blockers:
        raise ErasureBlocked(blockers)
    members = family(customer)
    ordered = sorted(customer_data.handlers(), key=lambda h: h.label == PROFILE_LABEL)
    for member in members:
        for handler in ordered:
            if handler.erase is not None:
                handler.erase(member)
    from retail.services import audit_record

    audit_record(
        actor=by,
        action="customer.erase",
        target=customer,
        detail={
            "reason": (reason or "").strip()[:200],
            "merged_profiles": [m.pk for m in members[1:]],
        },
    )


# --- The core's own handlers: the profile and the message log -------------------------


def profile_export(customer: Customer) -> dict:
    """The profile, its consents with their times, and what the audit log says about it
    (by ids and kinds only)."""
    profiles = family(customer)
    audit = AuditLog.objects.filter(
        target_type=Customer._meta.label_lower, target_id__in=[str(c.pk) for c in profiles]
    ).order_by("at", "pk")
    return {
        "profile": {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "preferred_store": customer.preferred_store.code if customer.preferred_store else None,
            "language": customer.language,
            "sizes": customer.sizes,
            "preferences": customer.preferences,
            "created_at": customer.created_at,
        },
        "consents": {
            "tracking": customer.tracking_consent,
            "tracking_decided_at": customer.tracking_consent_at,
            "marketing": customer.marketing_consent,
            "marketing_decided_at": customer.marketing_consent_at,
        },
        "merged_profiles": [
            {
                "id": c.pk,
                "name": c.name,
                "email": c.email,
                "phone": c.phone,
                "merged_at": c.merged_at,
            }
            for c in profiles[1:]
        ],
        "history": [
            {
                "at": entry.at,
                "action": entry.action,
                "store": entry.store.code if entry.store_id else None,
                "detail": entry.detail,
            }
            for entry in audit.select_related("store")
        ],
    }


def profile_erase(customer: Customer) -> None:
    """The profile becomes a tombstone: no name, contact, reference or preferences."""
    Customer.objects.filter(pk=customer.pk).update(
        customer_ref=None,
        name="",
        email="",
        phone="",
        preferred_store=None,
        sizes={},
        preferences="",
        tracking_consent=False,
        marketing_consent=False,
        erased_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _noop_merge(*, survivor, duplicate) -> None:
    """The profile itself is merged by `retail.services.customer_merge`."""


def messages_export(customer: Customer) -> list[dict]:
    return [
        {
            "template": m.template,
            "to": m.to_address,
            "subject": m.subject,
            "body": m.body,
            "state": m.state,
            "queued_at": m.created_at,
            "sent_at": m.sent_at,
        }
        for m in OutboundMessage.objects.filter(customer=customer).order_by("created_at", "pk")
    ]


def messages_erase(customer: Customer) -> None:
    """Recipients, subjects, bodies, contexts and attachments go; a message not yet
    sent never will be."""
    messages = OutboundMessage.objects.filter(customer=customer)
    messages.exclude(state=MessageState.SENT).update(state=MessageState.FAILED)
    messages.update(to_address="", subject="", body="", context={}, attachments=[], error="")


def webhook_bodies_redact(*, subject_type: str, subject_ids: list[int], refs: set[str]) -> int:
    """Webhook deliveries kept for these subjects lose the erased customer's reference
    (`"customer_ref": null`, as the API now answers)."""
    from retail.webhook_models import WebhookDelivery

    changed = 0
    if not refs:
        return 0
    for delivery in WebhookDelivery.objects.filter(
        subject_type=subject_type, subject_id__in=subject_ids
    ):
        try:
            body = json.loads(delivery.body)
        except ValueError:
            continue

        def scrub(value):
            if isinstance(value, dict):
                return {
                    k: (None if k == "customer_ref" and v in refs else scrub(v))
                    for k, v in value.items()
                }
            if isinstance(value, list):
                return [scrub(v) for v in value]
            return value

        scrubbed = scrub(body)
        if scrubbed != body:
            delivery.body = json.dumps(scrubbed, cls=DjangoJSONEncoder)
            delivery.save(update_fields=["body"])
            changed += 1
    return changed


def register() -> None:
    customer_data.register(
        PROFILE_LABEL, merge=_noop_merge, export=profile_export, erase=profile_erase
    )
