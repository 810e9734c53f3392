"""Appointments on the associate's side (the tablet): items set aside by hand, the
customer's arrival and the assisted-selling session it starts, completion with what
was bought, the preparation task the day before.

Like `services`, every function that changes rows is atomic, locks the appointment
first, writes an `AppointmentEvent` (which records its webhook and domain event in
the same transaction) and is safe to repeat (a double tap changes nothing twice).

**Selling session.** When the customer arrives (`appointment_arrive` here, or the
kiosk's check-in, which calls `appointment_start_session`), the assigned associate is
recorded as serving the customer (`clienteling.attribution.serving_record`), so an
order of that customer placed during or after the visit is credited to them by the
existing attribution rules. Completion records the associate's last action, so the
attribution window runs from the end of the visit.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clienteling import attribution
from clienteling import services as clienteling_services
from clienteling.appointments import services
from clienteling.appointments.models import (
    HOLDING_STATES,
    Appointment,
    AppointmentEvent,
    AppointmentState,
    SetAside,
    SetAsideState,
)
from clienteling.appointments.services import AppointmentError, SetAsideInput
from clienteling.models import FollowUpTask, ServingAction, TaskState
from inventory import services as stock
from inventory.services import InsufficientStock, StockRequest
from orders.models import OrderLine, OrderStatus
from retail.dates import when_text
from retail.models import User, Variant

#: How early before its start a customer may be checked in.
EARLY_ARRIVAL = dt.timedelta(hours=2)
#: Orders of the customer from this long before the start count as bought at the visit.
BOUGHT_BEFORE_START = dt.timedelta(minutes=30)
MAX_UNITS = 10
PREPARE_SOURCE = "appointment_prepare"


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("store", "topic", "customer", "associate")
        .get(pk=appointment.pk)
    )


# --- Items set aside by hand ---------------------------------------------------------------


@transaction.atomic
def set_aside_add(
    *, appointment: Appointment, variant: Variant, quantity: int = 1, by: User | None
) -> SetAside:
    """Reserve `quantity` units of `variant` on this store's shelf for the appointment
    (through the stock ledger). Refused, nothing written: the appointment is over or
    its topic takes no items (`not_open`, `validation_error`), a bad quantity, or the
    shelf cannot hold them (`insufficient_stock`)."""
    appointment = _lock(appointment)
    if appointment.state not in HOLDING_STATES:
        raise AppointmentError("not_open", _("This appointment is over: nothing can be added."))
    if not appointment.topic.set_aside:
        raise AppointmentError(
            "validation_error", _("Items cannot be set aside for this topic."), status=400
        )
    if not 1 <= quantity <= MAX_UNITS:
        raise AppointmentError(
            "validation_error",
            _("Set aside between 1 and %(n)s units.") % {"n": MAX_UNITS},
            status=400,
        )
    if not variant.active:
        raise AppointmentError(
            "validation_error",
            _("%(sku)s is not sold any more.") % {"sku": variant.sku},
            status=400,
        )
    try:
        [row] = services._reserve(appointment, [SetAsideInput(variant, quantity)], by)
    except InsufficientStock as exc:
        raise AppointmentError(
            "insufficient_stock",
            _("Not enough units of %(sku)s on this store's shelf to set aside.")
            % {"sku": variant.sku},
            skus=exc.skus,
        ) from exc
    services._event(
        appointment,
        "set_aside_added",
        by=by,
        reason=_("%(n)s × %(sku)s set aside") % {"n": quantity, "sku": variant.sku},
    )
    return row


@transaction.atomic
def set_aside_remove(*, set_aside: SetAside, by: User | None) -> SetAside:
    """Give one set-aside's units back to the shelf (once: a row no longer held is
    returned unchanged)."""
    appointment = _lock(set_aside.appointment)
    row = SetAside.objects.select_for_update().select_related("variant").get(pk=set_aside.pk)
    if row.state != SetAsideState.HELD:
        return row
    why = _("removed by the associate")
    row.state, row.ended_at, row.end_reason = SetAsideState.RELEASED, timezone.now(), why
    row.save(update_fields=["state", "ended_at", "end_reason"])
    stock.stock_release(
        requests=[StockRequest(row.location_id, row.variant_id, row.quantity, row.source)],
        by=by,
        reason=why,
    )
    services._event(
        appointment,
        "set_aside_released",
        by=by,
        reason=_("%(n)s × %(sku)s no longer set aside")
        % {"n": row.quantity, "sku": row.variant.sku},
    )
    return row


# --- Arrival, the selling session, the end ---------------------------------------------------


def appointment_start_session(*, appointment: Appointment, by: User | None = None) -> None:
    """The assigned associate serves the appointment's customer from now on (their
    selling session: what the customer buys is attributed to them). Call it whenever
    the customer arrives (the tablet's arrival, the kiosk's check-in)."""
    if appointment.customer_id is None:
        return
    attribution.serving_record(
        associate=appointment.associate,
        store=appointment.store,
        customer=appointment.customer,
        action=ServingAction.SERVING,
    )


@transaction.atomic
def appointment_arrive(
    *, appointment: Appointment, by: User | None, now: dt.datetime | None = None
) -> Appointment:
    """The customer is here (the associate checks them in on the tablet): booked →
    checked in, and the associate's selling session starts. Already checked in:
    unchanged. Refused: over or cancelled (`not_open`), more than two hours early or
    after its end (`not_today`)."""
    appointment = _lock(appointment)
    if appointment.state == AppointmentState.CHECKED_IN:
        return appointment
    if appointment.state != AppointmentState.BOOKED:
        raise AppointmentError("not_open", _("This appointment is over or cancelled."))
    now = now or timezone.now()
    if now < appointment.start - EARLY_ARRIVAL:
        raise AppointmentError(
            "not_today", _("It is too early to check this customer in: the appointment is later.")
        )
    if now >= appointment.end:
        raise AppointmentError(
            "not_today", _("This appointment has already ended: record a no-show instead.")
        )
    appointment.state = AppointmentState.CHECKED_IN
    appointment.checked_in_at = now
    appointment.save(update_fields=["state", "checked_in_at", "updated_at"])
    services._event(
        appointment,
        "appointment_checked_in",
        by=by,
        from_state=AppointmentState.BOOKED,
        to_state=AppointmentState.CHECKED_IN,
        reason=_("checked in on the tablet"),
    )
    appointment_start_session(appointment=appointment, by=by)
    return appointment


def _arrived_at(appointment: Appointment) -> dt.datetime:
    at = (
        AppointmentEvent.objects.filter(
            appointment=appointment, to_state=AppointmentState.CHECKED_IN
        )
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
    return min(at or appointment.start, appointment.start - BOUGHT_BEFORE_START)


def bought_variant_ids(appointment: Appointment, *, until: dt.datetime) -> dict[int, str]:
    """variant id → order ref: what the customer bought (any channel, not cancelled)
    from their arrival (or half an hour before the start) until `until`."""
    if appointment.customer_id is None:
        return {}
    rows = (
        OrderLine.objects.filter(
            order__customer_id=appointment.customer_id,
            order__created_at__gte=_arrived_at(appointment),
            order__created_at__lte=until,
        )
        .exclude(order__status=OrderStatus.CANCELLED)
        .order_by("order__created_at")
        .values_list("variant_id", "order__order_ref")
    )
    return dict(rows)


@transaction.atomic
def appointment_complete(
    *, appointment: Appointment, by: User | None, now: dt.datetime | None = None
) -> Appointment:
    """The visit is over: items set aside that the customer bought during it are
    marked taken (their reservation given back: the sale took the units), the rest
    are released, the associate's session records its last action, and the
    appointment is completed (`services.appointment_finish`). Completed already:
    unchanged. Refused before its start (`not_started`)."""
    appointment = _lock(appointment)
    if appointment.state == AppointmentState.COMPLETED:
        return appointment
    now = now or timezone.now()
    if appointment.state == AppointmentState.BOOKED and now < appointment.start:
        raise AppointmentError(
            "not_started", _("The appointment has not started: check the customer in first.")
        )
    if appointment.state not in HOLDING_STATES:
        raise AppointmentError("not_finishable", _("This appointment is already over."))
    bought = bought_variant_ids(appointment, until=now)
    taken = list(
        SetAside.objects.select_for_update()
        .filter(appointment=appointment, state=SetAsideState.HELD, variant_id__in=list(bought))
        .order_by("pk")
    )
    for row in taken:
        why = _("bought during the appointment (order %(ref)s)") % {"ref": bought[row.variant_id]}
        row.state, row.ended_at, row.end_reason = SetAsideState.TAKEN, now, why[:300]
        row.save(update_fields=["state", "ended_at", "end_reason"])
        stock.stock_release(
            requests=[StockRequest(row.location_id, row.variant_id, row.quantity, row.source)],
            by=by,
            reason=why,
        )
    # The visit happened: the associate's session records its last action now (and
    # starts, when nobody recorded the arrival).
    appointment_start_session(appointment=appointment, by=by)
    return services.appointment_finish(
        appointment=appointment, outcome=AppointmentState.COMPLETED, by=by
    )


@transaction.atomic
def appointment_no_show(
    *, appointment: Appointment, by: User | None, now: dt.datetime | None = None
) -> Appointment:
    """The customer did not come: recorded once the appointment has started (what was
    set aside goes back to the shelf)."""
    appointment = _lock(appointment)
    if appointment.state == AppointmentState.NO_SHOW:
        return appointment
    now = now or timezone.now()
    if appointment.state == AppointmentState.BOOKED and now < appointment.start:
        raise AppointmentError(
            "not_started", _("A no-show can be recorded only once the appointment has started.")
        )
    if appointment.state != AppointmentState.BOOKED:
        raise AppointmentError(
            "not_finishable", _("Only a booked appointment can be recorded as a no-show.")
        )
    return services.appointment_finish(
        appointment=appointment, outcome=AppointmentState.NO_SHOW, by=by
    )


# --- The day before: a task to prepare ---------------------------------------------------------


def appointments_prepare(*, now: dt.datetime | None = None) -> int:
    """The beat's sweep: a follow-up task for the assigned associate of every booked
    appointment starting tomorrow or today (store time), once per appointment (the
    task's key), due the day before (today when booked late). Returns how many
    tasks were created."""
    now = now or timezone.now()
    created = 0
    rows = (
        Appointment.objects.filter(
            state=AppointmentState.BOOKED,
            customer__isnull=False,
            start__gt=now,
            start__lte=now + dt.timedelta(hours=50),
        )
        .select_related("store", "topic", "associate", "customer")
        .order_by("start", "pk")
    )
    for appointment in rows:
        store = appointment.store
        today = now.astimezone(store.tz).date()
        starts = appointment.start.astimezone(store.tz)
        if starts.date() > today + dt.timedelta(days=1):
            continue
        key = f"{PREPARE_SOURCE}:{appointment.pk}"
        if FollowUpTask.objects.filter(key=key).exists():
            continue
        with timezone.override(store.tz):
            title = _("Prepare the appointment (%(topic)s) on %(when)s") % {
                "topic": appointment.topic.label,
                "when": when_text(starts, "day_time"),
            }
        clienteling_services.task_create(
            customer=appointment.customer,
            store=store,
            title=title[:200],
            due_on=max(today, starts.date() - dt.timedelta(days=1)),
            by=None,
            assigned_to=appointment.associate,
            source=f"appointment:{appointment.appointment_ref}"[:100],
            key=key,
        )
        created += 1
    return created


@transaction.atomic
def prepare_task_follow(*, appointment_id: int) -> FollowUpTask | None:
    """The preparation task follows its appointment (the `appointment_changed`
    receiver, whatever made the change: the tablet, the API, the kiosk): to the new
    associate when it is reassigned, done once it is cancelled or over. Idempotent;
    a missing appointment or task is a no-op."""
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None:
        return None
    task = (
        FollowUpTask.objects.select_for_update()
        .filter(key=f"{PREPARE_SOURCE}:{appointment.pk}", state=TaskState.OPEN)
        .first()
    )
    if task is None:
        return None
    if appointment.state not in HOLDING_STATES:
        return clienteling_services.task_complete(task=task, by=None)
    if task.assigned_to_id != appointment.associate_id:
        task.assigned_to_id = appointment.associate_id
        task.save(update_fields=["assigned_to"])
    return task
