"""Signed one-click links in the customer's appointment e-mails (no login).

Two kinds, each with its own salt so one cannot stand in for the other:
- `manage`: the confirmation's link to cancel or move the appointment; good until the
  appointment starts (the services refuse after that);
- `rate`: the thank-you e-mail's link to rate the visit; good for `RATE_DAYS` days.

A token names the appointment by id and reference (signed by `django.core.signing`
with the project's secret); a tampered or foreign token names nothing. An appointment
whose customer's data was erased answers no link.
"""

from __future__ import annotations

import enum

from django.conf import settings
from django.core import signing
from django.urls import reverse

from clienteling.appointments.models import Appointment


class Purpose(enum.StrEnum):
    MANAGE = "manage"
    RATE = "rate"


SALTS = {Purpose.MANAGE: "aisle.appointment.manage", Purpose.RATE: "aisle.appointment.rate"}
RATE_DAYS = 60
URL_NAMES = {Purpose.MANAGE: "appointment_links:manage", Purpose.RATE: "appointment_links:rate"}


class LinkExpired(Exception):
    pass


def token_for(appointment: Appointment, purpose: Purpose) -> str:
    return signing.dumps(
        {"a": appointment.pk, "r": appointment.appointment_ref}, salt=SALTS[purpose]
    )


def url_for(appointment: Appointment, purpose: Purpose) -> str:
    """The absolute link put into an e-mail."""
    path = reverse(URL_NAMES[purpose], kwargs={"token": token_for(appointment, purpose)})
    return settings.AISLE_SITE_URL.rstrip("/") + path


def load(token: str, purpose: Purpose) -> Appointment | None:
    """The appointment the token names, or None when it is tampered, foreign or the
    customer's data was erased; LinkExpired when a rating link is too old."""
    max_age = RATE_DAYS * 86400 if purpose == Purpose.RATE else None
    try:
        data = signing.loads(str(token), salt=SALTS[purpose], max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired() from None
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    appointment = (
        Appointment.objects.select_related("store", "topic", "associate", "customer")
        .filter(pk=data.get("a"), appointment_ref=data.get("r"))
        .first()
    )
    if appointment is None or appointment.customer is None:
        return None
    if appointment.customer.erased_at is not None:
        return None
    return appointment
