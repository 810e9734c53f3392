"""Appointment webhooks: every appointment change, to the clients that read
appointments (scope `appointments:read`) and have a webhook URL.

The sending (signing, order per subject, retries, breaker) is the core's
(`retail.webhooks`). One delivery per (client, change), the appointment as its
subject; the body is ``{"event", "appointment_ref", "at", "appointment": {...}}``
with the appointment as ``GET /api/v1/appointments/{ref}/`` shows it right after
the change, serialised once.
"""

from __future__ import annotations

import json

from rest_framework.utils.encoders import JSONEncoder

from clienteling.appointments.models import Appointment, AppointmentEvent
from clienteling.appointments.shapes import appointment_shape, load_appointment
from retail import webhooks
from retail.models import ApiClient, Scope, WebhookDelivery

SCOPE = Scope.APPOINTMENTS_READ.value
SUBJECT = "appointment"


def subscribers() -> list[ApiClient]:
    clients = ApiClient.objects.filter(is_active=True).exclude(webhook_url="").only("pk", "scopes")
    return [c for c in clients if SCOPE in (c.scopes or [])]


def render_body(event: AppointmentEvent) -> str:
    appointment = load_appointment(event.appointment.appointment_ref)
    payload = {
        "event": event.kind,
        "appointment_ref": appointment.appointment_ref,
        "at": event.at,
        "appointment": appointment_shape(appointment),
    }
    return json.dumps(payload, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))


def appointment_changed(event: AppointmentEvent) -> list[WebhookDelivery]:
    """Record the change's deliveries inside its transaction; sent after commit."""
    clients = subscribers()
    if not clients:
        return []
    appointment = event.appointment
    return webhooks.record(
        clients=clients,
        subject=webhooks.Subject(SUBJECT, appointment.pk, appointment.appointment_ref),
        event=event.kind,
        body=render_body(event),
        change_key=f"appointment_event:{event.pk}",
        at=event.at,
    )


def appointment_exists(appointment_id: int) -> bool:
    return Appointment.objects.filter(pk=appointment_id).exists()
