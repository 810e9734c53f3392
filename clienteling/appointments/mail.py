"""The customer's appointment e-mails: the confirmation (with the check-in code and its
QR, a calendar file and the signed link to cancel or move it), the same when it is
moved or cancelled, a note of who meets them when a manager reassigns it, the reminder
the day before, and the thank-you with the signed rating link.

They are service messages, not marketing: sent whatever the customer's marketing
consent, and carrying nothing promotional. Each goes through `retail.messaging`
(logged once per key, delivered by the outbox after commit):

- `appointment_mail` is the receiver of the domain event `appointment_changed`, which
  every appointment change records in its transaction (so a booking through the API,
  the kiosk or the tablet is confirmed alike, and a cancellation, a move or the end
  from any screen is told). Keys: one per appointment for the booking, the
  cancellation and the thank-you; one per move or reassignment (its event), and only
  for the latest one (an older one's e-mail would be stale).
- `appointments_remind`, the beat's sweep: the reminder once per appointment and
  start time, on the day before while the store is open (a store closed that day
  reminds on its last opening day before), and not for an appointment booked that
  day (its confirmation is fresh).
"""

from __future__ import annotations

import datetime as dt
import io
import logging

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from clienteling.appointments import ics, links
from clienteling.appointments.models import Appointment, AppointmentEvent, AppointmentState
from clienteling.appointments.services import qr_payload
from retail import hours, messaging
from retail.models import OutboundMessage, Store

logger = logging.getLogger(__name__)

#: How many days before its day a reminder may go at most (a store closed that long).
REMIND_SEARCH_DAYS = 7
#: What the beat looks at: appointments starting within this long.
REMIND_AHEAD = dt.timedelta(days=REMIND_SEARCH_DAYS + 1)

TEMPLATES = {
    "appointment_booked": "appointment_confirmation",
    "appointment_rescheduled": "appointment_confirmation",
    "appointment_cancelled": "appointment_cancelled",
    "appointment_reassigned": "appointment_reassigned",
    "appointment_completed": "appointment_thanks",
}


def _load(appointment_id) -> Appointment | None:
    return (
        Appointment.objects.select_related("store", "topic", "associate", "customer")
        .filter(pk=appointment_id)
        .first()
    )


def _reachable(appointment: Appointment) -> bool:
    customer = appointment.customer
    return customer is not None and customer.erased_at is None and bool(customer.email)


def qr_png(payload: str) -> bytes:
    """The QR image, drawn offline by segno."""
    import segno

    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=6, border=3)
    return buffer.getvalue()


def address_of(store: Store) -> str:
    parts = [store.address_line1, store.address_line2, f"{store.postcode} {store.city}".strip()]
    return ", ".join(p for p in parts if p)


def _sequence(appointment: Appointment) -> int:
    """How often it was moved: the calendar file's SEQUENCE."""
    return appointment.events.filter(kind="appointment_rescheduled").count()


def _context(appointment: Appointment, language: str) -> dict:
    """What the templates show, in the customer's language and the store's time zone
    (stored with the message, so only text)."""
    store, tz = appointment.store, appointment.store.tz
    local_start, local_end = appointment.start.astimezone(tz), appointment.end.astimezone(tz)
    with translation.override(language):
        return {
            "first_name": appointment.customer.first_name,
            "appointment_ref": appointment.appointment_ref,
            "topic": appointment.topic.label,
            "store": store.name,
            "address": address_of(store),
            "day": date_format(local_start, "DATE_FORMAT"),
            "time": local_start.strftime("%H:%M"),
            "end_time": local_end.strftime("%H:%M"),
            "time_zone": str(tz),
            "associate": (appointment.associate.first_name or "").strip(),
            "code": appointment.code,
            "qr": qr_payload(appointment),
            "manage_url": links.url_for(appointment, links.Purpose.MANAGE),
        }


def _calendar_file(appointment: Appointment, language: str, *, cancelled: bool = False):
    with translation.override(language):
        summary = _("%(topic)s at %(store)s") % {
            "topic": appointment.topic.label,
            "store": appointment.store.name,
        }
        description = _("Check-in code: %(code)s") % {"code": appointment.code}
    text = ics.calendar(
        uid=appointment.appointment_ref,
        start=appointment.start,
        end=appointment.end,
        summary=summary,
        location=f"{appointment.store.name}, {address_of(appointment.store)}",
        description="" if cancelled else description,
        sequence=_sequence(appointment) + (1 if cancelled else 0),
        stamp=timezone.now(),
        cancelled=cancelled,
    )
    return (f"appointment-{appointment.appointment_ref}.ics", text.encode(), "text/calendar")


def _qr_file(appointment: Appointment):
    return (
        f"appointment-{appointment.appointment_ref}.png",
        qr_png(qr_payload(appointment)),
        "image/png",
    )


def _language(appointment: Appointment) -> str:
    return appointment.customer.language or settings.LANGUAGE_CODE


def send_confirmation(appointment: Appointment, *, key: str, moved: bool = False):
    language = _language(appointment)
    context = {**_context(appointment, language), "moved": moved}
    return messaging.message_send(
        customer=appointment.customer,
        template="appointment_confirmation",
        context=context,
        key=key,
        attachments=[_calendar_file(appointment, language), _qr_file(appointment)],
    )


def send_cancelled(appointment: Appointment):
    language = _language(appointment)
    context = _context(appointment, language)
    del context["manage_url"], context["qr"], context["code"]
    return messaging.message_send(
        customer=appointment.customer,
        template="appointment_cancelled",
        context=context,
        key=f"appointment_cancelled:{appointment.pk}",
        attachments=[_calendar_file(appointment, language, cancelled=True)],
    )


def send_thanks(appointment: Appointment):
    language = _language(appointment)
    context = _context(appointment, language)
    del context["manage_url"], context["qr"], context["code"]
    context["rate_url"] = links.url_for(appointment, links.Purpose.RATE)
    return messaging.message_send(
        customer=appointment.customer,
        template="appointment_thanks",
        context=context,
        key=f"appointment_thanks:{appointment.pk}",
    )


def send_reassigned(appointment: Appointment, *, event_id: int):
    """Who meets the customer now (first name only); nothing else changed."""
    language = _language(appointment)
    context = _context(appointment, language)
    del context["qr"], context["code"]
    return messaging.message_send(
        customer=appointment.customer,
        template="appointment_reassigned",
        context=context,
        key=f"appointment_reassigned:{appointment.pk}:{event_id}",
    )


def _latest(appointment: Appointment, kind: str) -> int | None:
    return (
        AppointmentEvent.objects.filter(appointment=appointment, kind=kind)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


def reminder_key(appointment: Appointment) -> str:
    return f"appointment_reminder:{appointment.pk}:{appointment.start:%Y%m%dT%H%MZ}"


def send_reminder(appointment: Appointment):
    language = _language(appointment)
    return messaging.message_send(
        customer=appointment.customer,
        template="appointment_reminder",
        context=_context(appointment, language),
        key=reminder_key(appointment),
        attachments=[_qr_file(appointment)],
    )


def appointment_mail(payload: dict) -> None:
    """Receiver of `appointment_changed`: the customer's e-mail for a booking, a move,
    a cancellation or a completed visit. Idempotent (keys); an appointment that has
    changed again since (cancelled before its confirmation went) gets only what is
    still true."""
    kind = payload.get("event")
    if kind not in TEMPLATES:
        return
    appointment = _load(payload.get("appointment_id"))
    if appointment is None or not _reachable(appointment):
        return
    if kind == "appointment_booked" and appointment.state == AppointmentState.BOOKED:
        send_confirmation(appointment, key=f"appointment_booked:{appointment.pk}")
    elif kind == "appointment_rescheduled" and appointment.state == AppointmentState.BOOKED:
        latest = _latest(appointment, kind)
        if latest == payload.get("event_id"):  # an older move's e-mail would be stale
            send_confirmation(
                appointment,
                key=f"appointment_rescheduled:{appointment.pk}:{latest}",
                moved=True,
            )
    elif kind == "appointment_reassigned" and appointment.state == AppointmentState.BOOKED:
        latest = _latest(appointment, kind)
        if latest is not None and latest == payload.get("event_id"):
            send_reassigned(appointment, event_id=latest)
    elif kind == "appointment_cancelled" and appointment.state == AppointmentState.CANCELLED:
        send_cancelled(appointment)
    elif kind == "appointment_completed" and appointment.state == AppointmentState.COMPLETED:
        send_thanks(appointment)


# --- The reminder the day before -----------------------------------------------------


def reminder_window(
    store: Store, start: dt.datetime, week: hours.Week
) -> tuple[dt.datetime, dt.datetime] | None:
    """When the reminder of an appointment starting at `start` may go: the store's
    opening hours on the day before (store time), or on its last opening day before
    that; None when the store opens on none of the days searched."""
    tz = store.tz
    day = start.astimezone(tz).date()
    for back in range(1, REMIND_SEARCH_DAYS + 1):
        previous = day - dt.timedelta(days=back)
        span = week.span(previous)
        if span is not None:
            opens = dt.datetime.combine(previous, span[0], tzinfo=tz)
            closes = dt.datetime.combine(previous, span[1], tzinfo=tz)
            return opens, closes
    return None


def appointments_remind(*, now: dt.datetime | None = None) -> int:
    """The beat's sweep (every few minutes): remind the customers of booked
    appointments whose reminder window is open now, once each. Returns how many were
    queued."""
    now = now or timezone.now()
    candidates = list(
        Appointment.objects.filter(
            state=AppointmentState.BOOKED, start__gt=now, start__lte=now + REMIND_AHEAD
        )
        .select_related("store", "topic", "associate", "customer")
        .order_by("store_id", "start", "pk")
    )
    if not candidates:
        return 0
    sent_keys = set(
        OutboundMessage.objects.filter(key__in=[reminder_key(a) for a in candidates]).values_list(
            "key", flat=True
        )
    )
    weeks: dict[int, hours.Week] = {}
    queued = 0
    for appointment in candidates:
        if reminder_key(appointment) in sent_keys or not _reachable(appointment):
            continue
        store = appointment.store
        if not store.is_open:
            continue
        if store.pk not in weeks:
            weeks[store.pk] = hours.week_hours(store)
        window = reminder_window(store, appointment.start, weeks[store.pk])
        if window is None or not (window[0] <= now < window[1]):
            continue
        if appointment.created_at >= window[0]:
            continue  # booked on the reminder's day: the confirmation is fresh
        send_reminder(appointment)
        queued += 1
    if queued:
        logger.info("appointment reminders queued: %s", queued)
    return queued
