"""Proof that the person at the kiosk owns something: a one-time code sent to the
e-mail address on file, typed at the kiosk.

Three things are proven this way (`Purpose`): a customer profile, to reserve in one's
name or to book an appointment (each purpose its own code: the customer types the
profile's e-mail), and an order (to start a return: the customer types the order's
reference and its e-mail). The code goes only to the address on file, through the
message outbox; it is never shown on screen.

The pending proof lives in the kiosk's session (a digest of the code, never the code;
a digest of what the customer typed; the id of what it proves; an expiry; the tries
left). Losing it (a cache outage, the kiosk's idle reset) fails closed: the customer
asks for a new code. How many codes a kiosk may send, and how many wrong codes it may
take, is counted in the database (`retail.limits`).

The kiosk answers the same whether the reference, the address or the code was wrong.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from retail import limits, messaging
from retail.models import Customer, Store

SESSION_KEY = "aisle_kiosk_proof"
CODE_TTL = 600  # seconds
MAX_TRIES = 5
CODES_SCOPE = "kiosk-codes"
TRIES_SCOPE = "kiosk-code-tries"
HOUR = 3600


@dataclass(frozen=True)
class Purpose:
    """What a code proves: where its pending proof is kept, the message that carries it."""

    name: str
    session_key: str
    template: str


PROFILE = Purpose("profile", SESSION_KEY, "kiosk_code")
ORDER = Purpose("order", "aisle_kiosk_order_proof", "kiosk_return_code")
BOOKING = Purpose("booking", "aisle_kiosk_booking_proof", "kiosk_booking_code")


class NotProven(Exception):
    """The code is wrong, expired or was never sent (one answer for all)."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or _(
                "This code is not right or has expired. Ask for a new code, or reserve "
                "as a guest and show your ID at the counter."
            )
        )


class TooManyCodes(Exception):
    def __init__(self):
        super().__init__(
            _("This kiosk has sent many codes in the last hour. Ask an associate for help.")
        )


class TooManyTries(Exception):
    def __init__(self):
        super().__init__(
            _("This kiosk has taken many wrong codes in the last hour. Ask an associate for help.")
        )


def _digest(*parts: str) -> str:
    return salted_hmac("aisle.kiosk.proof", ":".join(parts)).hexdigest()


def clean_email(email: str) -> str:
    email = (email or "").strip().lower()[:254]
    if not email:
        raise ValidationError(_("Type your e-mail address."))
    validate_email(email)
    return email


def _kiosk_key(user) -> str:
    return f"user:{user.pk}"


def _clean_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())[:6]


# --- The two steps, whatever is proven ---------------------------------------------------


def issue(
    request,
    *,
    purpose: Purpose,
    claim: str,
    subject_id: int | None,
    customer: Customer | None,
    context: dict,
) -> None:
    """Start a proof of `claim` (what the customer typed, normalised): a fresh code is
    e-mailed to `customer` when there is one (`subject_id` is what the proof then
    proves), and the kiosk's answer is the same either way. Counts against this
    kiosk's hourly codes (TooManyCodes)."""
    key = _kiosk_key(request.user)
    if limits.reached(CODES_SCOPE, key, limit=settings.AISLE_KIOSK_CODES_PER_HOUR, window=HOUR):
        raise TooManyCodes()
    limits.hit(CODES_SCOPE, key)
    code = f"{secrets.randbelow(10**6):06d}"
    token = secrets.token_hex(8)
    known = customer is not None and subject_id is not None
    request.session[purpose.session_key] = {
        "subject": subject_id if known else None,
        "claim": _digest(purpose.name, claim),
        "code": _digest(token, code),
        "token": token,
        "expires": time.time() + CODE_TTL,
        "tries": 0,
    }
    if known:
        messaging.message_send(
            customer=customer,
            template=purpose.template,
            context={**context, "code": code},
            key=f"kiosk-code:{token}",
        )


def check(request, *, purpose: Purpose, claim: str | None, code: str, refusal: str = "") -> int:
    """The id of what the pending proof proves, when `claim` is what was typed when the
    code was sent and `code` the code. Raises NotProven (with `refusal`, or the
    default message) for a wrong, expired or unknown one (after MAX_TRIES the proof
    is gone), TooManyTries when this kiosk took too many wrong codes this hour.
    The caller `forget`s the proof once it is used."""
    key = _kiosk_key(request.user)
    if limits.reached(
        TRIES_SCOPE, key, limit=settings.AISLE_KIOSK_CODE_TRIES_PER_HOUR, window=HOUR
    ):
        raise TooManyTries()
    proof = request.session.get(purpose.session_key)
    code = _clean_code(code)
    if not isinstance(proof, dict) or proof.get("expires", 0) < time.time():
        request.session.pop(purpose.session_key, None)
        limits.hit(TRIES_SCOPE, key)
        raise NotProven(refusal or None)
    proof["tries"] = proof.get("tries", 0) + 1
    if proof["tries"] > MAX_TRIES:
        request.session.pop(purpose.session_key, None)
        limits.hit(TRIES_SCOPE, key)
        raise NotProven(refusal or None)
    request.session[purpose.session_key] = proof
    right = (
        claim is not None
        and constant_time_compare(proof["claim"], _digest(purpose.name, claim))
        and constant_time_compare(proof["code"], _digest(proof["token"], code))
    )
    if not right or not proof.get("subject"):
        limits.hit(TRIES_SCOPE, key)
        raise NotProven(refusal or None)
    return proof["subject"]


def forget(request, purpose: Purpose = PROFILE) -> None:
    request.session.pop(purpose.session_key, None)


# --- A customer profile (reserving in one's name) ----------------------------------------


def send_code(
    request, *, store: Store, email: str, purpose: Purpose = PROFILE, context: dict | None = None
) -> None:
    """E-mail a one-time code to the profile with this address, if there is one; the
    kiosk's answer is the same either way. Raises ValidationError (a malformed
    address) or TooManyCodes (this kiosk's hourly limit). `purpose` says what the
    profile is proven for (its message says so)."""
    email = clean_email(email)
    customer = (
        Customer.objects.filter(merged_into__isnull=True, email__iexact=email)
        .exclude(email="")
        .order_by("pk")
        .first()
    )
    issue(
        request,
        purpose=purpose,
        claim=email,
        subject_id=customer.pk if customer else None,
        customer=customer,
        context={"store": store.name, **(context or {})},
    )


def proven_customer(
    request, *, email: str, code: str, purpose: Purpose = PROFILE, refusal: str = ""
) -> Customer:
    """The profile whose address received `code` at this kiosk (`forget` it once used).
    Raises NotProven for a wrong, expired or unknown one (after MAX_TRIES, the proof
    is gone), TooManyTries past this kiosk's hourly wrong codes."""
    try:
        claim = clean_email(email)
    except ValidationError:
        claim = None
    subject = check(request, purpose=purpose, claim=claim, code=code, refusal=refusal)
    customer = Customer.objects.filter(
        pk=subject, merged_into__isnull=True, erased_at__isnull=True
    ).first()
    if customer is None:
        raise NotProven(refusal or None)
    return customer  # the caller `forget`s the proof once the reservation is made
