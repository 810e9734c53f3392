"""The appointment as the API shows it (`GET /api/v1/appointments/{ref}/`), used by
the API, webhooks and the customer's data export alike."""

from __future__ import annotations

from clienteling.appointments.models import Appointment, SetAsideState


def load_appointment(ref: str) -> Appointment | None:
    """The appointment with everything its shape needs (3 queries)."""
    return (
        Appointment.objects.select_related("store", "topic", "associate", "customer")
        .prefetch_related("set_asides__variant")
        .filter(appointment_ref=ref)
        .first()
    )


def appointment_shape(appointment: Appointment) -> dict:
    """Times in the store's time zone; the associate by first name only; `skus` are
    the units asked to be set aside (one entry a unit), `set_asides` what became of
    them."""
    tz = appointment.store.tz
    set_asides = list(appointment.set_asides.all())
    shape = {
        "appointment_ref": appointment.appointment_ref,
        "state": appointment.state,
        "store": appointment.store.code,
        "topic": appointment.topic.code,
        "start": appointment.start.astimezone(tz).isoformat(),
        "end": appointment.end.astimezone(tz).isoformat(),
        "code": appointment.code,
        "customer_ref": appointment.customer.customer_ref if appointment.customer else None,
        "skus": [s.variant.sku for s in set_asides for _ in range(s.quantity)],
        "set_asides": [
            {"sku": s.variant.sku, "quantity": s.quantity, "state": s.state} for s in set_asides
        ],
        "created_at": appointment.created_at.isoformat(),
    }
    first_name = (appointment.associate.first_name or "").strip()
    if first_name:
        shape["associate"] = first_name
    if appointment.note:
        shape["note"] = appointment.note
    return shape


def held(appointment: Appointment) -> list:
    return [s for s in appointment.set_asides.all() if s.state == SetAsideState.HELD]
