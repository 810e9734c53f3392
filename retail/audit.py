"""Auditing every look at personal data, and the rules of customer search.

Every look at a customer's data by staff, HQ or an API client writes one row of
the append-only `AuditLog` (through `retail.services.audit_record`, or
:func:`record` here for rows that name no single record). Rows hold no personal
data beyond a customer's id: a search stores its text only when it is neither an
e-mail nor a phone number, else a keyed hash of it.

Customer search (`CustomerQuerySet.search`, the tablet's search, the pickup
search): at least :data:`MIN_QUERY` characters; a contact-based search (anything
with ``@``, or mostly digits) needs the whole e-mail or the whole phone number and
matches it exactly. Lists show contact details masked (:func:`mask_email`,
:func:`mask_phone`) until the profile is opened.

HQ's alerts ask the apps where a customer was served: each app that serves
customers in a store registers :func:`register_served`.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

MIN_QUERY = 3
MASK = "•••"

# Actions that are a look at personal data ("views"), for the page and the alerts.
PROFILE_VIEW_ACTIONS = ("customer.view", "customer.admin_view")
SEARCH_TARGET = "retail.customer_search"
LIST_TARGET = "retail.customer_list"  # an export of a filtered list of customers


class QueryKind(enum.StrEnum):
    TEXT = "text"  # a name or a customer reference
    EMAIL = "email"
    PHONE = "phone"


@dataclass(frozen=True)
class Query:
    kind: QueryKind
    value: str  # the text, the lower-cased e-mail, or the phone in E.164


def looks_like_phone(text: str) -> bool:
    """Mostly digits: at least half of the characters that are not spaces or
    punctuation of a phone number (``+-().``)."""
    chars = [c for c in text if c not in " +-()./"]
    digits = sum(c.isdigit() for c in chars)
    return bool(chars) and digits * 2 >= len(chars)


def parse_query(raw: str, region: str | None = None) -> Query:
    """The search's kind and value, or a ValidationError with a clear message."""
    text = " ".join((raw or "").split())
    if "\x00" in text:
        raise ValidationError(_("Null characters are not allowed."), code="null")
    if len(text) < MIN_QUERY:
        raise ValidationError(
            _("Type at least %(n)s characters.") % {"n": MIN_QUERY}, code="too_short"
        )
    if "@" in text:
        email = text.lower()
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                _("To search by e-mail, type the customer's whole e-mail address."),
                code="partial_email",
            ) from None
        return Query(QueryKind.EMAIL, email)
    if looks_like_phone(text):
        try:
            number = phonenumbers.parse(text, region or None)
            valid = phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            raise ValidationError(
                _(
                    "To search by phone, type the customer's whole phone number "
                    "(with the country code if it is from another country)."
                ),
                code="partial_phone",
            )
        return Query(
            QueryKind.PHONE,
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        )
    return Query(QueryKind.TEXT, text)


def query_or_none(raw: str, region: str | None = None) -> Query | None:
    try:
        return parse_query(raw, region)
    except ValidationError:
        return None


# --- Masking ---------------------------------------------------------------------


def mask_email(email: str) -> str:
    """`jane@example.com` → `j•••@example.com`."""
    email = (email or "").strip()
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at:
        return MASK
    return f"{local[:1]}{MASK}@{domain}"


def mask_phone(phone: str) -> str:
    """`+447700900123` → `+44 •••• ••• 123`: the country code and the last three digits."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    digits = "".join(c for c in phone if c.isdigit())
    try:
        country = phonenumbers.parse(phone, None).country_code
    except phonenumbers.NumberParseException:
        country = None
    prefix = f"+{country} " if country else ""
    return f"{prefix}•••• ••• {digits[-3:]}"


# --- Writing audit rows ------------------------------------------------------------


def contact_hash(value: str) -> str:
    """A keyed hash of an e-mail or phone number searched for: the same search gives
    the same hash, but the hash cannot be turned back into the address."""
    key = hashlib.sha256(f"aisle-audit:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def query_detail(query: Query) -> dict[str, Any]:
    """What the audit row says about a query: its kind, and its text or hash."""
    if query.kind == QueryKind.TEXT:
        return {"query_kind": str(query.kind), "query": query.value}
    return {"query_kind": str(query.kind), "query_hash": contact_hash(query.value)}


def safe_text(value: str) -> dict[str, str]:
    """A free text for an audit row: kept when it is neither an e-mail nor a phone
    number (nor part of one), else hashed."""
    value = " ".join(str(value).split())[:100]
    if "@" in value or looks_like_phone(value):
        return {"query_hash": contact_hash(value.lower())}
    return {"query": value}


def params_detail(params) -> dict[str, Any]:
    """The search and filters of a list (admin's `q`, `preferred_store__id__exact`…)
    for an audit row, without personal data: see :func:`safe_text`."""
    detail: dict[str, Any] = {}
    if params.get("q"):
        detail.update(safe_text(params["q"]))
    filters = {}
    for key in sorted(params):
        if key in ("q", "p", "o", "_changelist_filters"):
            continue
        value = safe_text(params.get(key, ""))
        filters[key[:64]] = value.get("query", "#" + value.get("query_hash", ""))
    if filters:
        detail["filters"] = filters
    return detail


def record(
    *,
    actor,
    action: str,
    target_type: str,
    target_id: str = "",
    store=None,
    detail: dict[str, Any] | None = None,
):
    """Append one audit row that names no single model instance (a search, a list)."""
    from retail.models import AuditLog

    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        store=store,
        detail=detail or {},
    )


def customer_search_record(
    *,
    by,
    store,
    query: Query | None,
    results: int,
    shown: Iterable[int],
    source: str = "store",
    filters: dict[str, str] | None = None,
):
    """A staff search for customers: what was searched (see :func:`query_detail`), the
    list's filters (HQ's segment…), how many matched and the ids of the profiles listed."""
    detail = query_detail(query) if query is not None else {}
    if filters:
        detail["filters"] = dict(filters)
    return record(
        actor=by,
        action="customer.search",
        target_type=SEARCH_TARGET,
        store=store,
        detail={**detail, "results": results, "shown": list(shown), "via": source},
    )


# --- Where a customer was served (for HQ's alerts) ------------------------------------

# fn(customer_ids, store_ids) -> set of (customer_id, store_id) pairs served there.
_served: dict[str, Callable[[set[int], set[int]], set[tuple[int, int]]]] = {}


def register_served(label: str, fn: Callable[[set[int], set[int]], set[tuple[int, int]]]) -> None:
    """An app that serves customers in a store (orders, pickups, returns, notes…)
    says which (customer, store) pairs it has served."""
    _served[label] = fn


def served_pairs(customer_ids: set[int], store_ids: set[int]) -> set[tuple[int, int]]:
    """(customer, store) pairs where the customer was served or is at home."""
    from retail.models import Customer

    found = set(
        Customer.objects.filter(pk__in=customer_ids, preferred_store__in=store_ids).values_list(
            "pk", "preferred_store"
        )
    )
    for fn in _served.values():
        found |= fn(customer_ids, store_ids)
    return found
