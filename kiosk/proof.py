"""Proof that the person at the kiosk owns a customer profile: a one-time code sent to
the profile's e-mail address, typed at the kiosk.

The pending proof lives in the kiosk's session (a digest of the code, never the code;
the profile's id; an expiry; the tries left). Losing it (a cache outage, the kiosk's
idle reset) fails closed: the customer asks for a new code or reserves as a guest.
How many codes a kiosk may send is counted in the database (`retail.limits`).

The kiosk answers the same whether the address is unknown or the code wrong.
"""

from __future__ import annotations

import secrets
import time

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
HOUR = 3600


class NotProven(Exception):
    """The code is wrong, expired or was never sent (one answer for all)."""

    def __init__(self):
        super().__init__(
            _(
                "This code is not right or has expired. Ask for a new code, or reserve "
                "as a guest and show your ID at the counter."
            )
        )


class TooManyCodes(Exception):
    def __init__(self):
        super().__init__(
            _("This kiosk has sent many codes in the last hour. Ask an associate for help.")
        )


def _digest(*parts: str) -> str:
    return salted_hmac("aisle.kiosk.proof", ":".join(parts)).hexdigest()


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()[:254]
    if not email:
        raise ValidationError(_("Type your e-mail address."))
    validate_email(email)
    return email


def _kiosk_key(user) -> str:
    return f"user:{user.pk}"


def send_code(request, *, store: Store, email: str) -> None:
    """E-mail a one-time code to the profile with this address, if there is one; the
    kiosk's answer is the same either way. Raises ValidationError (a malformed
    address) or TooManyCodes (this kiosk's hourly limit)."""
    email = _clean_email(email)
    key = _kiosk_key(request.user)
    if limits.reached(CODES_SCOPE, key, limit=settings.AISLE_KIOSK_CODES_PER_HOUR, window=HOUR):
        raise TooManyCodes()
    limits.hit(CODES_SCOPE, key)
    customer = (
        Customer.objects.filter(merged_into__isnull=True, email__iexact=email)
        .exclude(email="")
        .order_by("pk")
        .first()
    )
    code = f"{secrets.randbelow(10**6):06d}"
    token = secrets.token_hex(8)
    request.session[SESSION_KEY] = {
        "customer": customer.pk if customer else None,
        "email": _digest(email),
        "code": _digest(token, code),
        "token": token,
        "expires": time.time() + CODE_TTL,
        "tries": 0,
    }
    if customer is not None:
        messaging.message_send(
            customer=customer,
            template="kiosk_code",
            context={"code": code, "store": store.name},
            key=f"kiosk-code:{token}",
        )


def proven_customer(request, *, email: str, code: str) -> Customer:
    """The profile whose address received `code` at this kiosk (`forget` it once used).
    Raises NotProven for a wrong, expired or unknown one (after MAX_TRIES, the proof
    is gone)."""
    proof = request.session.get(SESSION_KEY)
    try:
        email = _clean_email(email)
    except ValidationError:
        raise NotProven() from None
    code = "".join(ch for ch in (code or "") if ch.isdigit())[:6]
    if not isinstance(proof, dict) or proof.get("expires", 0) < time.time():
        request.session.pop(SESSION_KEY, None)
        raise NotProven()
    proof["tries"] = proof.get("tries", 0) + 1
    if proof["tries"] > MAX_TRIES:
        request.session.pop(SESSION_KEY, None)
        raise NotProven()
    request.session[SESSION_KEY] = proof
    right = constant_time_compare(proof["email"], _digest(email)) and constant_time_compare(
        proof["code"], _digest(proof["token"], code)
    )
    customer = (
        Customer.objects.filter(pk=proof["customer"], merged_into__isnull=True).first()
        if right and proof.get("customer")
        else None
    )
    if customer is None:
        raise NotProven()
    return customer  # the caller `forget`s the proof once the reservation is made


def forget(request) -> None:
    request.session.pop(SESSION_KEY, None)
