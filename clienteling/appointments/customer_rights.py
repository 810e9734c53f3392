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
    return [appointment_shape(a) for a in rows]


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
    """Past appointments stay (the stores' history), without the person or their note."""
    Appointment.objects.filter(customer=customer).update(customer=None, note="")
