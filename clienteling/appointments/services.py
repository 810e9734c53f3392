"""Appointment services: book, cancel, reassign, finish, and what ends set-asides.

Every function here is atomic and writes an `AppointmentEvent` for each change,
which records the change's webhooks and its domain event (`appointment_changed`)
through the outbox in the same transaction.

**No double booking.** A booking locks every associate it might assign
(`inventory.locks.staff_for_update`, in pk order) and only then reads their
bookings again and picks one, so two customers racing for an associate's last
slot are served one after the other: the second finds the slot taken
(`slot_unavailable`).

**Set-asides** are store reservations through the stock ledger
(`inventory.services.stock_reserve`), all or none: a SKU the store cannot hold
refuses the whole booking. They end once, whichever comes first: the appointment
cancelled or ended, or a till sale or count needing the units (the shortage
handler registered with `inventory`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clienteling.appointments import slots as slotting
from clienteling.appointments import webhooks
from clienteling.appointments.models import (
    HOLDING_STATES,
    Appointment,
    AppointmentEvent,
    AppointmentState,
    SetAside,
    SetAsideState,
    Topic,
    TopicOffering,
)
from inventory import locks
from inventory import services as stock
from inventory.models import StockLevel, StockLocation
from inventory.services import InsufficientStock, StockRequest
from retail import access, outbox
from retail.models import ApiClient, Customer, Store, User, Variant

CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no 0/O, 1/I, 2/Z, 5/S, 8/B
CODE_LENGTH = 6
#: How far ahead a booking may be made.
BOOKING_HORIZON = dt.timedelta(days=366)

REFUSALS = {
    "in_the_past": gettext_lazy("This time has already passed."),
    "outside_opening_hours": gettext_lazy("The store is not open for the whole appointment then."),
    "not_a_slot_start": gettext_lazy(
        "Appointments for this topic start only at the listed slot times."
    ),
    "during_break": gettext_lazy("Every associate who could take it is on a break then."),
    "no_associate": gettext_lazy("No associate who can take this topic works then."),
    "taken": gettext_lazy("This slot is no longer free."),
    "too_far": gettext_lazy("Appointments can be booked up to a year ahead."),
}


class AppointmentError(Exception):
    """A refused appointment operation; nothing changed."""

    def __init__(self, code: str, detail: str, *, status: int = 409, **extra):
        super().__init__(detail)
        self.code, self.detail, self.status, self.extra = code, str(detail), status, extra


class AppointmentInvalid(AppointmentError):
    """Input that is wrong whatever the moment (a topic not offered): a 400."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(
            "validation_error", _("The request is not valid."), status=400, errors=errors
        )


def _refuse_slot(reason: str) -> AppointmentError:
    return AppointmentError(
        "slot_unavailable", REFUSALS.get(reason, REFUSALS["taken"]), reason=reason
    )


@dataclass(frozen=True)
class SetAsideInput:
    variant: Variant
    quantity: int = 1


# --- Reading ----------------------------------------------------------------------------


def topics_offered(store: Store):
    """The active topics the store offers, by code."""
    return Topic.objects.filter(
        active=True, offerings__store=store, offerings__active=True
    ).order_by("code")


def is_offered(topic: Topic, store: Store) -> bool:
    return (
        topic.active
        and TopicOffering.objects.filter(topic=topic, store=store, active=True).exists()
    )


def store_slots(
    *, store: Store, topic: Topic, first_day: dt.date, days: int, now: dt.datetime | None = None
) -> list[slotting.Slot]:
    """The bookable slots of the store for the topic (a fixed number of queries)."""
    now = now or timezone.now()
    tz = store.tz
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time.min, tzinfo=tz)
    calendar = slotting.load_calendar(store, topic, start, end)
    return slotting.slots(calendar, first_day, days, now=now)


# --- Events -------------------------------------------------------------------------------


def _event(
    appointment: Appointment,
    kind: str,
    *,
    by: User | None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
) -> AppointmentEvent:
    event = AppointmentEvent.objects.create(
        appointment=appointment,
        kind=kind,
        by=by if by is not None and by.is_authenticated else None,
        from_state=from_state,
        to_state=to_state,
        reason=str(reason)[:300],
    )
    webhooks.appointment_changed(event)
    outbox.record_event(
        "appointment_changed",
        payload={
            "appointment_id": appointment.pk,
            "appointment_ref": appointment.appointment_ref,
            "event_id": event.pk,
            "event": kind,
            "store_id": appointment.store_id,
        },
        key=f"appointment_event:{event.pk}",
    )
    return event


# --- Booking ------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _fewest_that_day(store: Store, candidates: Sequence[int], start: dt.datetime) -> int:
    """Of the free associates, the one with the fewest appointments that store day
    (then the lowest id)."""
    tz = store.tz
    day = start.astimezone(tz).date()
    day_start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    day_end = day_start + dt.timedelta(days=1)
    counts = dict(
        Appointment.objects.filter(
            associate_id__in=list(candidates), start__gte=day_start, start__lt=day_end
        )
        .exclude(state=AppointmentState.CANCELLED)
        .values("associate_id")
        .annotate(n=Count("pk"))
        .values_list("associate_id", "n")
    )
    return min(candidates, key=lambda aid: (counts.get(aid, 0), aid))


def _reserve(
    appointment: Appointment, items: Sequence[SetAsideInput], by: User | None
) -> list[SetAside]:
    """Reserve the items at the store's shelf, all or none (InsufficientStock)."""
    wanted: Counter = Counter()
    variants = {}
    for item in items:
        wanted[item.variant.pk] += item.quantity
        variants[item.variant.pk] = item.variant
    location = StockLocation.objects.filter(store_id=appointment.store_id).first()
    if location is None:
        raise InsufficientStock([v.sku for v in variants.values()])
    rows = SetAside.objects.bulk_create(
        [
            SetAside(
                appointment=appointment,
                variant=variants[variant_id],
                quantity=quantity,
                location=location,
            )
            for variant_id, quantity in sorted(wanted.items())
        ]
    )
    stock.stock_reserve(
        requests=[StockRequest(location.pk, r.variant_id, r.quantity, r.source) for r in rows],
        by=by,
        reason=_("set aside for appointment %(ref)s") % {"ref": appointment.appointment_ref},
    )
    return rows


def _conflict() -> AppointmentError:
    return AppointmentError(
        "appointment_ref_conflict",
        _("An appointment with this reference was booked with other details."),
    )


def _replay(appointment_ref: str, fingerprint: str) -> Appointment | None:
    """The appointment already booked with this reference by the same request, or
    None when there is none; another request's raises `appointment_ref_conflict`."""
    existing = Appointment.objects.filter(appointment_ref=appointment_ref).first()
    if existing is None:
        return None
    if fingerprint and existing.fingerprint == fingerprint:
        return existing
    raise _conflict()


@transaction.atomic
def appointment_book(
    *,
    appointment_ref: str,
    customer: Customer | None,
    store: Store,
    topic: Topic,
    start: dt.datetime,
    items: Sequence[SetAsideInput] = (),
    note: str = "",
    source: str,
    api_client: ApiClient | None = None,
    by: User | None = None,
    fingerprint: str = "",
    now: dt.datetime | None = None,
) -> tuple[Appointment, bool]:
    """Book the slot starting at `start` for the customer. Returns (appointment,
    created): the same `appointment_ref` with the same `fingerprint` returns the
    existing one. Refuses (AppointmentError, nothing written): another fingerprint
    (`appointment_ref_conflict`), no customer or a topic the store does not offer
    (`validation_error`), a start in the past, outside opening hours, that is not a
    slot start, during every associate's break or with nobody free
    (`slot_unavailable`, with its `reason`), items to set aside the store cannot hold
    (`insufficient_stock` with `skus`)."""
    existing = _replay(appointment_ref, fingerprint)
    if existing is not None:
        return existing, False
    if customer is None:
        raise AppointmentInvalid({"customer_ref": [_("Unknown customer.")]})
    if not is_offered(topic, store):
        raise AppointmentInvalid({"topic": [_("This store does not offer this topic.")]})
    if items and not topic.set_aside:
        raise AppointmentInvalid({"skus": [_("Items cannot be set aside for this topic.")]})
    now = now or timezone.now()
    start = start.astimezone(dt.UTC)
    if start > now + BOOKING_HORIZON:
        raise _refuse_slot("too_far")
    end = start + dt.timedelta(minutes=topic.minutes)
    calendar = slotting.load_calendar(store, topic, start, end)
    reason = slotting.explain(calendar, start, now=now)
    if reason not in ("free", "taken"):
        raise _refuse_slot(reason)
    # Lock everyone who could take it, then look again: a concurrent booking that
    # took someone has committed by the time the lock is ours.
    locks.staff_for_update(calendar.shifts)
    calendar = slotting.load_calendar(store, topic, start, end, associate_ids=calendar.shifts)
    # The same request sent twice at once: the second waited for the first's lock.
    existing = _replay(appointment_ref, fingerprint)
    if existing is not None:
        return existing, False
    free = slotting.free_at(calendar, start)
    if not free:
        raise _refuse_slot(slotting.explain(calendar, start, now=now))
    associate_id = _fewest_that_day(store, free, start)
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                appointment_ref=appointment_ref,
                customer=customer,
                store=store,
                topic=topic,
                associate_id=associate_id,
                start=start,
                end=end,
                busy_until=end + dt.timedelta(minutes=topic.buffer_minutes),
                code=_new_code(),
                note=note,
                source=source,
                api_client=api_client,
                fingerprint=fingerprint,
            )
    except IntegrityError:
        # The same reference booked meanwhile through other associates' locks.
        existing = _replay(appointment_ref, fingerprint)
        if existing is None:
            raise
        return existing, False
    if items:
        try:
            _reserve(appointment, items, by)
        except InsufficientStock as exc:
            raise AppointmentError(
                "insufficient_stock",
                _("The store cannot set these items aside: %(skus)s")
                % {"skus": ", ".join(exc.skus)},
                skus=exc.skus,
            ) from exc
    _event(appointment, "appointment_booked", by=by, to_state=AppointmentState.BOOKED)
    return appointment, True


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update()
        .select_related("store", "topic")
        .get(pk=appointment.pk)
    )


def _end_set_asides(
    appointment: Appointment, *, state: str, by: User | None, reason: str
) -> list[SetAside]:
    """Release the appointment's held units (each once: rows locked, state checked)."""
    rows = list(
        SetAside.objects.select_for_update()
        .filter(appointment=appointment, state=SetAsideState.HELD)
        .select_related("variant")
        .order_by("pk")
    )
    if not rows:
        return []
    now = timezone.now()
    for row in rows:
        row.state, row.ended_at, row.end_reason = state, now, str(reason)[:300]
    SetAside.objects.bulk_update(rows, ["state", "ended_at", "end_reason"])
    stock.stock_release(
        requests=[StockRequest(r.location_id, r.variant_id, r.quantity, r.source) for r in rows],
        by=by,
        reason=str(reason),
    )
    return rows


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, by: User | None, reason: str = "", now: dt.datetime | None = None
) -> Appointment:
    """Cancel a booked appointment before it starts: the slot is free again and what
    was set aside is released. Already cancelled: unchanged. Started, checked in or
    over: `not_cancellable`."""
    appointment = _lock(appointment)
    if appointment.state == AppointmentState.CANCELLED:
        return appointment
    now = now or timezone.now()
    if appointment.state != AppointmentState.BOOKED or appointment.start <= now:
        raise AppointmentError(
            "not_cancellable", _("An appointment can be cancelled only before it starts.")
        )
    reason = reason or _("cancelled")
    _end_set_asides(appointment, state=SetAsideState.RELEASED, by=by, reason=reason)
    appointment.state = AppointmentState.CANCELLED
    appointment.save(update_fields=["state", "updated_at"])
    _event(
        appointment,
        "appointment_cancelled",
        by=by,
        from_state=AppointmentState.BOOKED,
        to_state=AppointmentState.CANCELLED,
        reason=reason,
    )
    return appointment


@transaction.atomic
def appointment_reassign(
    *, appointment: Appointment, associate: User, by: User, reason: str = ""
) -> Appointment:
    """A store manager gives a booked appointment to another associate, who must work
    then, be free, and be qualified for the topic."""
    appointment = _lock(appointment)
    if not (access.is_manager(by) and access.can_act_in(by, appointment.store)):
        raise AppointmentError(
            "permission_denied",
            _("Only a manager of this store can reassign its appointments."),
            status=403,
        )
    if appointment.state != AppointmentState.BOOKED:
        raise AppointmentError(
            "not_reassignable", _("Only a booked appointment can be reassigned.")
        )
    if associate.pk == appointment.associate_id:
        return appointment
    topic = appointment.topic
    if not slotting.qualified_ids(topic, [associate.pk]):
        raise AppointmentError(
            "not_qualified",
            _("%(name)s does not have the skill this topic needs.")
            % {"name": associate.get_full_name() or associate.email},
        )
    locks.staff_for_update([associate.pk, appointment.associate_id])
    calendar = slotting.load_calendar(
        appointment.store,
        topic,
        appointment.start,
        appointment.end,
        associate_ids=[associate.pk],
        exclude_appointment_id=appointment.pk,
    )
    state = slotting.associate_state(calendar, associate.pk, appointment.start)
    if state != "free":
        raise AppointmentError(
            "associate_unavailable",
            _("%(name)s is not free at that time.")
            % {"name": associate.get_full_name() or associate.email},
            reason=state,
        )
    previous = appointment.associate_id
    appointment.associate = associate
    appointment.save(update_fields=["associate", "updated_at"])
    _event(
        appointment,
        "appointment_reassigned",
        by=by,
        reason=reason or _("reassigned from associate %(id)s") % {"id": previous},
    )
    return appointment


FINISHED = (AppointmentState.COMPLETED, AppointmentState.NO_SHOW)


@transaction.atomic
def appointment_finish(
    *, appointment: Appointment, outcome: str, by: User | None, reason: str = ""
) -> Appointment:
    """Record how a booked or checked-in appointment ended (completed, or a no-show);
    anything still set aside is released."""
    if outcome not in FINISHED:
        raise AppointmentError("validation_error", _("Unknown outcome."), status=400)
    appointment = _lock(appointment)
    if appointment.state == outcome:
        return appointment
    if appointment.state not in HOLDING_STATES:
        raise AppointmentError("not_finishable", _("This appointment is already over."))
    from_state = appointment.state
    _end_set_asides(
        appointment, state=SetAsideState.RELEASED, by=by, reason=reason or _("appointment ended")
    )
    appointment.state = outcome
    appointment.save(update_fields=["state", "updated_at"])
    _event(appointment, f"appointment_{outcome}", by=by, from_state=from_state, to_state=outcome)
    return appointment


def appointments_release_ended(*, now: dt.datetime | None = None) -> int:
    """The beat's sweep: units still set aside for appointments that have ended go
    back to the shelf (each appointment in its own transaction). Returns how many
    appointments had some released."""
    now = now or timezone.now()
    ids = list(
        SetAside.objects.filter(state=SetAsideState.HELD, appointment__end__lte=now)
        .values_list("appointment_id", flat=True)
        .distinct()
    )
    released = 0
    for appointment in Appointment.objects.filter(pk__in=ids).order_by("pk"):
        with transaction.atomic():
            locked = _lock(appointment)
            rows = _end_set_asides(
                locked, state=SetAsideState.RELEASED, by=None, reason=_("appointment ended")
            )
            if rows:
                released += 1
                _event(locked, "set_aside_released", by=None, reason=_("appointment ended"))
    return released


# --- The shortage handler (registered with inventory) ------------------------------------


def handle_stock_shortage(
    *, level: StockLevel, shortfall: int, by: User | None, reason: str
) -> None:
    """A till sale or a count leaves fewer units than are reserved at `level`: release
    set-asides of that SKU there, latest appointment first, until the shortfall is
    covered. Each set-aside is released once (locked, and only while held)."""
    rows = (
        SetAside.objects.select_for_update(of=("self",))
        .filter(location_id=level.location_id, variant_id=level.variant_id)
        .filter(state=SetAsideState.HELD)
        .select_related("appointment", "variant")
        .order_by("-appointment__start", "-pk")
    )
    why = _("%(reason)s: the units set aside were needed") % {"reason": reason}
    for row in rows:
        if shortfall <= 0:
            break
        shortfall -= row.quantity
        row.state, row.ended_at, row.end_reason = SetAsideState.RELEASED, timezone.now(), why[:300]
        row.save(update_fields=["state", "ended_at", "end_reason"])
        stock.stock_release(
            requests=[StockRequest(row.location_id, row.variant_id, row.quantity, row.source)],
            by=by,
            reason=why,
        )
        _event(row.appointment, "set_aside_released", by=by, reason=why)
