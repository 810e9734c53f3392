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
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clienteling.appointments import slots as slotting
from clienteling.appointments import webhooks
from clienteling.appointments.models import (
    HOLDING_STATES,
    RATING_MAX,
    RATING_MIN,
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
from retail import access, limits, outbox
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


def _free_code(store: Store) -> str:
    """A code no open appointment at the store holds (the constraint
    `appointment_open_code_once` guards the rare race), with at least one letter, so
    the kiosk never takes it for a pickup's six digits."""
    taken = set(Appointment.objects.holding().filter(store=store).values_list("code", flat=True))
    while True:
        code = _new_code()
        if code not in taken and not code.isdigit():
            return code


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
                code=_free_code(store),
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


# --- Rescheduling (the customer's signed link, or staff) ----------------------------------


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    start: dt.datetime,
    by: User | None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Move a booked appointment, before it starts, to another slot of the same topic
    at the same store. The associate stays when free then; otherwise the qualified
    free associate with the fewest appointments that day takes it. The items set aside
    stay reserved (the ledger does not know times: nothing moves in it), and are
    released at the new end. The same start again: unchanged. Refused (nothing
    written): an appointment not booked or already started (`not_reschedulable`), a
    slot not free or not a slot (`slot_unavailable`, with its `reason`)."""
    appointment = _lock(appointment)
    now = now or timezone.now()
    if appointment.state != AppointmentState.BOOKED or appointment.start <= now:
        raise AppointmentError(
            "not_reschedulable", _("An appointment can be moved only before it starts.")
        )
    start = start.astimezone(dt.UTC)
    if start == appointment.start:
        return appointment
    if start > now + BOOKING_HORIZON:
        raise _refuse_slot("too_far")
    store, topic = appointment.store, appointment.topic
    end = start + dt.timedelta(minutes=topic.minutes)
    calendar = slotting.load_calendar(
        store, topic, start, end, exclude_appointment_id=appointment.pk
    )
    reason_code = slotting.explain(calendar, start, now=now)
    if reason_code not in ("free", "taken"):
        raise _refuse_slot(reason_code)
    locks.staff_for_update(sorted({*calendar.shifts, appointment.associate_id}))
    calendar = slotting.load_calendar(
        store,
        topic,
        start,
        end,
        associate_ids=calendar.shifts,
        exclude_appointment_id=appointment.pk,
    )
    free = slotting.free_at(calendar, start)
    if not free:
        raise _refuse_slot(slotting.explain(calendar, start, now=now))
    previous = appointment.start
    if appointment.associate_id not in free:
        appointment.associate_id = _fewest_that_day(store, free, start)
    appointment.start, appointment.end = start, end
    appointment.busy_until = end + dt.timedelta(minutes=topic.buffer_minutes)
    appointment.save(update_fields=["start", "end", "busy_until", "associate", "updated_at"])
    _event(
        appointment,
        "appointment_rescheduled",
        by=by,
        reason=reason
        or _("moved from %(start)s") % {"start": previous.astimezone(store.tz).isoformat()},
    )
    return appointment


# --- Check-in at the kiosk ----------------------------------------------------------------
# The customer types the code from the confirmation, or the kiosk's scanner types its QR
# (`qr_payload`: the appointment, its code and a signature). Wrong codes are counted per
# kiosk in the database (`retail.limits`, as pickups' are), after the attempt's
# transaction has rolled back, and a kiosk that reached the limit takes no code at all.

QR_PREFIX = "AISLEAPT1"
QR_RE = re.compile(r"^AISLEAPT1:(\d{1,18}):([A-Z0-9]{6}):([0-9a-f]{20})$")
CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
SCAN_MAX = 64
DEVICE_SCOPE = "appointment-device"
GUESS_WINDOW = 600  # seconds
#: When the customer may check in: from this long before the start until the end.
CHECK_IN_EARLY = dt.timedelta(minutes=30)


def _qr_sign(appointment_id: int, code: str) -> str:
    return salted_hmac("aisle.appointment.qr", f"{appointment_id}:{code}").hexdigest()[:20]


def qr_payload(appointment: Appointment) -> str:
    """What the confirmation's QR code holds (and a 2D scanner types at the kiosk)."""
    code = appointment.code
    return f"{QR_PREFIX}:{appointment.pk}:{code}:{_qr_sign(appointment.pk, code)}"


def looks_like_appointment(text: str) -> bool:
    """Is this what a customer typed or scanned for an appointment: its QR, or six
    characters of its alphabet with a letter (a pickup code is six digits, an order
    reference has a dash)?"""
    text = "".join(str(text or "").split()).upper()
    return text.startswith(f"{QR_PREFIX}:") or bool(CODE_RE.match(text) and not text.isdigit())


def _clean_scan(text) -> str:
    text = "" if text is None else str(text)
    return "".join(ch for ch in text if ch > " " and ch != "\x7f" and ch != "-")[: SCAN_MAX * 4]


def _device(store: Store, by: User | None) -> str:
    if by is not None and getattr(by, "is_authenticated", False) and by.pk:
        return f"user:{by.pk}"
    return f"store:{store.pk}"


def _guess_limit() -> int:
    return settings.AISLE_APPOINTMENT_DEVICE_GUESSES


class WrongCheckInCode(AppointmentError):
    """A code or QR that names no open appointment here: counted against the kiosk."""

    def __init__(self, detail: str):
        super().__init__("wrong_code", detail, status=400)


def appointment_check_in(
    *, store: Store, text: str, by: User | None, now: dt.datetime | None = None
) -> Appointment:
    """The customer checks in at `store`'s kiosk with the appointment's code or QR:
    the appointment goes to `checked_in` (once: checking in again changes nothing),
    its assigned associate gets a follow-up task saying so, and the change's webhooks
    and domain event are recorded. Only on the day, from `CHECK_IN_EARLY` before the
    start until the end, and only at the appointment's store. Refused with a clear
    reason (AppointmentError, nothing written); a wrong code also counts against the
    kiosk (`too_many_codes` once it reached `AISLE_APPOINTMENT_DEVICE_GUESSES` in ten
    minutes)."""
    device = _device(store, by)
    if limits.reached(DEVICE_SCOPE, device, limit=_guess_limit(), window=GUESS_WINDOW):
        raise AppointmentError(
            "too_many_codes",
            _(
                "Too many wrong appointment codes on this screen. Wait a few minutes or ask an "
                "associate."
            ),
            status=429,
        )
    try:
        return _check_in(store=store, text=text, by=by, now=now or timezone.now())
    except WrongCheckInCode:
        limits.hit(DEVICE_SCOPE, device)  # after the rollback: the count stays
        raise


@transaction.atomic
def _check_in(*, store: Store, text: str, by: User | None, now: dt.datetime) -> Appointment:
    text = _clean_scan(text)
    if not text:
        raise AppointmentInvalid(
            {"code": [_("Type your appointment code or scan the QR code from your e-mail.")]}
        )
    base = Appointment.objects.select_related("store", "topic", "customer")
    match = QR_RE.match(text)
    if match:
        pk, code, signature = int(match[1]), match[2], match[3]
        if not constant_time_compare(signature, _qr_sign(pk, code)):
            raise WrongCheckInCode(_("This QR code is not valid: it has been altered."))
        appointment = base.filter(pk=pk, code=code).first()
        if appointment is None:
            raise WrongCheckInCode(_("This QR code is no longer valid. Type your code instead."))
        if appointment.store_id != store.pk:
            raise AppointmentError(
                "not_here",
                _("This appointment is at %(store)s, not here.") % {"store": appointment.store},
            )
    else:
        code = text.upper()
        appointment = (
            base.filter(store=store, code=code, state__in=HOLDING_STATES).first()
            if CODE_RE.match(code)
            else None
        )
        if appointment is None:
            raise WrongCheckInCode(
                _("No appointment here has this code. Check the code in your e-mail.")
            )
    appointment = _lock(appointment)
    if appointment.state == AppointmentState.CHECKED_IN:
        return appointment
    if appointment.state != AppointmentState.BOOKED:
        raise AppointmentError(
            "not_checkable",
            _("This appointment was cancelled or is over: an associate can help you."),
        )
    tz = store.tz
    if now < appointment.start - CHECK_IN_EARLY:
        if appointment.start.astimezone(tz).date() != now.astimezone(tz).date():
            detail = _("Your appointment is on %(day)s: check in on the day.") % {
                "day": date_format(appointment.start.astimezone(tz), "DATE_FORMAT")
            }
        else:
            detail = _("Your appointment is at %(time)s: check in from %(from)s.") % {
                "time": appointment.start.astimezone(tz).strftime("%H:%M"),
                "from": (appointment.start - CHECK_IN_EARLY).astimezone(tz).strftime("%H:%M"),
            }
        raise AppointmentError("too_early", detail)
    if now >= appointment.end:
        raise AppointmentError(
            "too_late", _("The time of this appointment has passed: an associate can help you.")
        )
    appointment.state = AppointmentState.CHECKED_IN
    appointment.checked_in_at = now
    appointment.save(update_fields=["state", "checked_in_at", "updated_at"])
    _event(
        appointment,
        "appointment_checked_in",
        by=by,
        from_state=AppointmentState.BOOKED,
        to_state=AppointmentState.CHECKED_IN,
        reason=_("at the kiosk"),
    )
    _tell_associate(appointment, now)
    # The associate serves the customer from now on: what they buy is credited to them.
    from clienteling.appointments.associate import appointment_start_session

    appointment_start_session(appointment=appointment, by=by)
    return appointment


def _tell_associate(appointment: Appointment, now: dt.datetime) -> None:
    """The assigned associate's follow-up task (their home lists it): the customer is here."""
    from clienteling.services import task_create

    if appointment.customer is None:
        return
    tz = appointment.store.tz
    task_create(
        customer=appointment.customer,
        store=appointment.store,
        title=_("Checked in at the kiosk for %(topic)s at %(time)s: the customer is waiting.")
        % {
            "topic": appointment.topic.label,
            "time": appointment.start.astimezone(tz).strftime("%H:%M"),
        },
        due_on=now.astimezone(tz).date(),
        by=None,
        assigned_to=appointment.associate,
        source=f"appointment_checked_in:{appointment.appointment_ref}"[:100],
        key=f"appointment_checked_in:{appointment.pk}",
    )


# --- The customer's rating (the thank-you e-mail's signed link) ---------------------------

COMMENT_MAX = 1000


@transaction.atomic
def appointment_rate(
    *, appointment: Appointment, rating, comment: str = "", now: dt.datetime | None = None
) -> Appointment:
    """The customer rates a completed visit, 1 to 5 with an optional comment, once: a
    second rating is refused (`already_rated`) and the first stays. Refused too: an
    appointment not completed (`not_ratable`), a rating outside 1–5 or a comment too
    long (`validation_error`)."""
    errors = {}
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = None
    if value is None or not RATING_MIN <= value <= RATING_MAX:
        errors["rating"] = [_("Choose from 1 to 5 stars.")]
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = [_("A comment has at most %(max)s characters.") % {"max": COMMENT_MAX}]
    if errors:
        raise AppointmentInvalid(errors)
    appointment = _lock(appointment)
    if appointment.state != AppointmentState.COMPLETED:
        raise AppointmentError("not_ratable", _("Only a visit that took place can be rated."))
    if appointment.rated_at is not None:
        raise AppointmentError(
            "already_rated", _("This visit was rated already: thank you, nothing was changed.")
        )
    appointment.rating, appointment.rating_comment = value, comment
    appointment.rated_at = now or timezone.now()
    appointment.save(update_fields=["rating", "rating_comment", "rated_at", "updated_at"])
    _event(appointment, "appointment_rated", by=None, reason=_("%(n)s of 5") % {"n": value})
    return appointment


def move_options(
    appointment: Appointment, *, days: int = 14, now: dt.datetime | None = None
) -> list[slotting.Slot]:
    """The free slots (same store and topic) the appointment could move to, from
    today (store time) for `days` days, its own slot left out."""
    now = now or timezone.now()
    store, topic = appointment.store, appointment.topic
    first_day = now.astimezone(store.tz).date()
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=store.tz)
    end = start + dt.timedelta(days=days + 1)
    calendar = slotting.load_calendar(
        store, topic, start, end, exclude_appointment_id=appointment.pk
    )
    return [
        slot
        for slot in slotting.slots(calendar, first_day, days, now=now)
        if slot.start != appointment.start
    ]
