"""What appointments keep about a customer, for the customer-data registry
(`retail.customer_data`): merge, count, export, erase, and what blocks an erasure."""

from __future__ import annotations

from clienteling.appointments.models import HOLDING_STATES, Appointment
from clienteling.appointments.shapes import appointment_shape
from retail.models import Customer


def merge(*, survivor: Customer, duplicate: Customer) -> None:
    Appointment.objects.filter(customer=duplicate).update(customer=survivor)


def count(customer: Customer) -> int:
    return Appointment.objects.filter(customer=customer).count()


def export(customer: Customer) -> list[dict]:
    rows = (
        Appointment.objects.filter(customer=customer)
        .select_related("store", "topic", "associate", "customer")
        .prefetch_related("set_asides__variant")
        .order_by("start", "pk")
    )
    return [{**appointment_shape(a), **_visit(a)} for a in rows]


def _visit(appointment: Appointment) -> dict:
    """What the customer did themselves: checked in, rated the visit."""
    extra = {}
    if appointment.checked_in_at:
        extra["checked_in_at"] = appointment.checked_in_at.isoformat()
    if appointment.rated_at:
        extra["rating"] = appointment.rating
        extra["rating_comment"] = appointment.rating_comment
        extra["rated_at"] = appointment.rated_at.isoformat()
    return extra


def blocks(customer: Customer) -> dict:
    """A booked (or checked-in) appointment blocks an erasure: the store still expects
    the customer."""
    refs = list(
        Appointment.objects.filter(customer=customer, state__in=HOLDING_STATES)
        .order_by("appointment_ref")
        .values_list("appointment_ref", flat=True)
    )
    return {"appointments": refs} if refs else {}


def erase(customer: Customer) -> None:
    """Past appointments stay (the stores' history, a rating's stars too), without the
    person, their note or their rating's comment."""
    Appointment.objects.filter(customer=customer).update(customer=None, note="", rating_comment="")
