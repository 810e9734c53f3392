"""Booking an appointment at the kiosk (`/kiosk/book/`), for kiosk accounts only.

The customer chooses a topic this store offers, a day and one of its free times, then
proves who they are as when reserving in their name (`kiosk.proof`: a one-time code
e-mailed to the profile's address, the same answer whatever was wrong), and confirms.
The booking goes through `appointment_book` with source "kiosk", so the customer gets
the confirmation e-mail as from any other channel.

The kiosk is used by strangers: it shows the customer's first name only, and what it
keeps between steps lives in the kiosk's session (the chosen slot, the proven profile
for a few minutes, the appointment just booked). Booking, the start screen and the
kiosk's idle reset forget it all. Each kiosk books only so many appointments an hour
(`retail.limits`), besides the proof's own limits on codes sent and wrong codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clienteling.appointments import services as appointments
from clienteling.appointments.models import Appointment, AppointmentSource, Topic
from clienteling.appointments.services import AppointmentError
from kiosk import proof
from retail import access, limits
from retail.access import Area, area_required
from retail.models import Customer, Store

SLOT_KEY = "aisle_kiosk_booking"  # {"topic": pk, "start": ISO 8601}
WHO_KEY = "aisle_kiosk_booking_customer"  # {"customer": pk, "until": epoch seconds}
DONE_KEY = "aisle_kiosk_booking_done"  # the pk of the appointment just booked
PROVEN_TTL = 600  # seconds to confirm once the code is proven
DAYS = 14  # how many days ahead the kiosk offers, today included
BOOKINGS_SCOPE = "kiosk-bookings"
HOUR = 3600


def forget(request: HttpRequest) -> None:
    """Nothing of this customer's booking stays in the kiosk's session."""
    proof.forget(request, proof.BOOKING)
    for key in (SLOT_KEY, WHO_KEY, DONE_KEY):
        request.session.pop(key, None)


def _first_name(customer: Customer) -> str:
    if customer.name in (customer.email, customer.phone):
        return ""
    return customer.first_name


def _store_or_refuse(request: HttpRequest) -> tuple[Store | None, HttpResponse | None]:
    store = access.current_store(request)
    if store is None:
        return None, render(request, "kiosk/home.html", {"store": None}, status=403)
    return store, None


def _topic(store: Store, raw) -> Topic | None:
    try:
        pk = int(str(raw or "")[:12])
    except ValueError:
        return None
    return appointments.topics_offered(store).filter(pk=pk).first()


def _chosen(request: HttpRequest, store: Store) -> tuple[Topic, dt.datetime] | None:
    """The topic and start the customer chose (None when nothing valid is kept)."""
    chosen = request.session.get(SLOT_KEY)
    if not isinstance(chosen, dict):
        return None
    topic = _topic(store, chosen.get("topic"))
    try:
        start = dt.datetime.fromisoformat(str(chosen.get("start", "")))
    except ValueError:
        return None
    if topic is None or start.tzinfo is None:
        return None
    return topic, start.astimezone(store.tz)


def _slot_kept(request: HttpRequest):
    """(store, the topic and start chosen, None), or a page to go back to: refused off a
    kiosk, the start of the booking when nothing valid is kept."""
    store, refused = _store_or_refuse(request)
    if refused:
        return None, None, refused
    chosen = _chosen(request, store)
    if chosen is None:
        return store, None, redirect("kiosk:book")
    return store, chosen, None


def _proven(request: HttpRequest) -> Customer | None:
    proven = request.session.get(WHO_KEY)
    if not isinstance(proven, dict) or proven.get("until", 0) < time.time():
        request.session.pop(WHO_KEY, None)
        return None
    return Customer.objects.filter(
        pk=proven.get("customer"), merged_into__isnull=True, erased_at__isnull=True
    ).first()


def _summary(store: Store, topic: Topic, start: dt.datetime) -> dict:
    return {"topic": topic, "start": start.astimezone(store.tz)}


# --- 1. A topic -----------------------------------------------------------------------------


def _topics_page(request, store, *, message="", status=200) -> HttpResponse:
    topics = list(appointments.topics_offered(store))
    context = {"store": store, "topics": topics, "message": message}
    return render(request, "kiosk/book_topics.html", context, status=status)


@area_required(Area.KIOSK)
@require_GET
def book(request: HttpRequest) -> HttpResponse:
    """The topics this store offers."""
    store, refused = _store_or_refuse(request)
    if refused:
        return refused
    request.session.pop(DONE_KEY, None)
    return _topics_page(request, store)


# --- 2. A day and a free time ---------------------------------------------------------------


def _slots_page(request, store, topic, day=None, *, message="", status=200) -> HttpResponse:
    """The next DAYS days (those with free times can be chosen) and the free times of
    the chosen day (default: the first day with any)."""
    today = store.local_now().date()
    free = appointments.store_slots(store=store, topic=topic, first_day=today, days=DAYS)
    by_day: dict[dt.date, list] = {}
    for slot in free:
        by_day.setdefault(slot.start.astimezone(store.tz).date(), []).append(slot)
    days = [today + dt.timedelta(days=n) for n in range(DAYS)]
    if day not in days:
        day = next((d for d in days if by_day.get(d)), today)
    context = {
        "store": store,
        "topic": topic,
        "days": [{"day": d, "free": len(by_day.get(d, []))} for d in days],
        "day": day,
        "slots": by_day.get(day, []),
        "message": message,
    }
    with timezone.override(store.tz):
        return render(request, "kiosk/book_slots.html", context, status=status)


def _day(raw) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw or "")[:10])
    except ValueError:
        return None


@area_required(Area.KIOSK)
@require_GET
def book_slots(request: HttpRequest) -> HttpResponse:
    """The free times of a topic, day by day."""
    store, refused = _store_or_refuse(request)
    if refused:
        return refused
    topic = _topic(store, request.GET.get("topic"))
    if topic is None:
        return redirect("kiosk:book")
    return _slots_page(request, store, topic, _day(request.GET.get("day")))


@area_required(Area.KIOSK)
@require_POST
def book_choose(request: HttpRequest) -> HttpResponse:
    """The customer chose a free time: kept in the session; next, who they are (or,
    proven already, the confirmation)."""
    store, refused = _store_or_refuse(request)
    if refused:
        return refused
    topic = _topic(store, request.POST.get("topic"))
    if topic is None:
        message = _("Choose one of the topics this store offers.")
        return _topics_page(request, store, message=message, status=400)
    try:
        start = dt.datetime.fromisoformat(request.POST.get("start", "")[:40])
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        message = _("Choose one of the free times.")
        return _slots_page(request, store, topic, message=message, status=400)
    local = start.astimezone(store.tz)
    free = appointments.store_slots(store=store, topic=topic, first_day=local.date(), days=1)
    if not any(slot.start == start for slot in free):
        message = _("Sorry, this time is no longer free. Choose another one.")
        return _slots_page(request, store, topic, local.date(), message=message, status=409)
    request.session[SLOT_KEY] = {"topic": topic.pk, "start": start.astimezone(dt.UTC).isoformat()}
    if _proven(request) is not None:
        return redirect("kiosk:book_confirm")
    return redirect("kiosk:book_who")


# --- 3. Who they are: the one-time code -------------------------------------------------------


def _who_page(request, store, chosen, *, given=None, message="", level="error", status=200):
    context = {
        "store": store,
        **_summary(store, *chosen),
        "given": given or {},
        "message": message,
        "level": level,
    }
    with timezone.override(store.tz):
        return render(request, "kiosk/book_who.html", context, status=status)


def _not_proven_message() -> str:
    return _(
        "This code is not right or has expired, or the e-mail does not match. Check them, "
        "or ask for a new code. Without a customer profile, an associate can book for you."
    )


@area_required(Area.KIOSK)
@require_GET
def book_who(request: HttpRequest) -> HttpResponse:
    store, chosen, back = _slot_kept(request)
    if back:
        return back
    return _who_page(request, store, chosen)


@area_required(Area.KIOSK)
@require_POST
def book_send_code(request: HttpRequest) -> HttpResponse:
    """E-mail a one-time code to the profile with the typed address (if any): the
    kiosk answers the same whether the address is known or not."""
    store, chosen, back = _slot_kept(request)
    if back:
        return back
    given = {"email": request.POST.get("email", "").strip()[:254]}
    try:
        proof.send_code(request, store=store, email=given["email"], purpose=proof.BOOKING)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        return _who_page(request, store, chosen, given=given, message=message, status=400)
    except proof.TooManyCodes as exc:
        return _who_page(request, store, chosen, given=given, message=str(exc), status=429)
    given["code_sent"] = True
    message = _(
        "If a customer profile has this e-mail address, we sent a code to it. Type the code below."
    )
    return _who_page(request, store, chosen, given=given, message=message, level="info")


@area_required(Area.KIOSK)
@require_POST
def book_prove(request: HttpRequest) -> HttpResponse:
    """The customer types the code: the profile is theirs for this booking."""
    store, chosen, back = _slot_kept(request)
    if back:
        return back
    given = {"email": request.POST.get("email", "").strip()[:254], "code_sent": True}
    try:
        customer = proof.proven_customer(
            request,
            email=given["email"],
            code=request.POST.get("code", ""),
            purpose=proof.BOOKING,
            refusal=_not_proven_message(),
        )
    except proof.NotProven as exc:
        return _who_page(request, store, chosen, given=given, message=str(exc), status=400)
    except proof.TooManyTries as exc:
        return _who_page(request, store, chosen, given=given, message=str(exc), status=429)
    proof.forget(request, proof.BOOKING)
    request.session[WHO_KEY] = {"customer": customer.pk, "until": time.time() + PROVEN_TTL}
    return redirect("kiosk:book_confirm")


# --- 4. Confirm -----------------------------------------------------------------------------


class TooManyBookings(Exception):
    def __init__(self):
        super().__init__(
            _("This kiosk has booked many appointments in the last hour. Ask an associate.")
        )


def _ref(store: Store, nonce: str) -> str:
    return f"KIO-{store.code}-{nonce.upper()}"[:64]


def _confirm_page(request, store, chosen, customer, *, message="", status=200) -> HttpResponse:
    context = {
        "store": store,
        **_summary(store, *chosen),
        "first_name": _first_name(customer),
        "nonce": uuid.uuid4().hex,
        "message": message,
    }
    with timezone.override(store.tz):
        return render(request, "kiosk/book_confirm.html", context, status=status)


@area_required(Area.KIOSK)
@require_http_methods(["GET", "POST"])
def book_confirm(request: HttpRequest) -> HttpResponse:
    """What will be booked, for whom (first name only); the customer confirms. A time
    taken meanwhile: the free times again, nothing booked. A double tap books once."""
    store, refused = _store_or_refuse(request)
    if refused:
        return refused
    nonce = request.POST.get("nonce", "")[:32]
    well_formed = len(nonce) == 32 and nonce.isalnum()
    done = request.session.get(DONE_KEY)
    if (
        request.method == "POST"
        and done
        and well_formed
        and Appointment.objects.filter(pk=done, appointment_ref=_ref(store, nonce)).exists()
    ):
        return redirect("kiosk:book_done")  # the second tap of a double tap
    chosen = _chosen(request, store)
    if chosen is None:
        return redirect("kiosk:book")
    customer = _proven(request)
    if customer is None:
        return redirect("kiosk:book_who")
    if request.method == "GET":
        return _confirm_page(request, store, chosen, customer)
    if not well_formed:
        message = _("The page is out of date: confirm again.")
        return _confirm_page(request, store, chosen, customer, message=message, status=400)
    topic, start = chosen
    ref = _ref(store, nonce)
    key = f"user:{request.user.pk}"
    try:
        if not Appointment.objects.filter(appointment_ref=ref).exists() and limits.reached(
            BOOKINGS_SCOPE, key, limit=settings.AISLE_KIOSK_BOOKINGS_PER_HOUR, window=HOUR
        ):
            raise TooManyBookings()
        fingerprint = hashlib.sha256(
            f"{customer.pk}|{topic.pk}|{start.astimezone(dt.UTC).isoformat()}".encode()
        ).hexdigest()
        appointment, created = appointments.appointment_book(
            appointment_ref=ref,
            customer=customer,
            store=store,
            topic=topic,
            start=start,
            source=AppointmentSource.KIOSK,
            by=request.user,
            fingerprint=fingerprint,
        )
    except TooManyBookings as exc:
        return _confirm_page(request, store, chosen, customer, message=str(exc), status=429)
    except AppointmentError as exc:
        return _refused(request, store, chosen, customer, exc)
    if created:
        limits.hit(BOOKINGS_SCOPE, key)
    forget(request)
    request.session[DONE_KEY] = appointment.pk
    return redirect("kiosk:book_done")


def _refused(request, store, chosen, customer, exc: AppointmentError) -> HttpResponse:
    """A refused booking, as the kiosk says it: a time taken meanwhile offers the free
    times again (the proven profile is kept for a few minutes); a topic no longer
    offered, the topics."""
    topic, start = chosen
    if exc.code == "slot_unavailable":
        request.session.pop(SLOT_KEY, None)
        message = _("Sorry, this time was just taken. Choose another one.")
        return _slots_page(request, store, topic, start.date(), message=message, status=409)
    if exc.code == "validation_error":
        request.session.pop(SLOT_KEY, None)
        message = _("This store no longer offers this topic. Choose another one.")
        return _topics_page(request, store, message=message, status=400)
    message = _("We could not book it just now. Please ask an associate for help.")
    return _confirm_page(request, store, chosen, customer, message=message, status=exc.status)


# --- 5. Booked --------------------------------------------------------------------------------


@area_required(Area.KIOSK)
@require_GET
def book_done(request: HttpRequest) -> HttpResponse:
    """The appointment this kiosk session just booked: when, with whom (first names),
    and that the confirmation is on its way by e-mail."""
    store = access.current_store(request)
    done = request.session.get(DONE_KEY)
    appointment = (
        Appointment.objects.filter(pk=done, source=AppointmentSource.KIOSK, store=store)
        .select_related("topic", "customer", "associate")
        .first()
        if done and store is not None
        else None
    )
    if appointment is None:
        return redirect("kiosk:home")
    context = {
        "store": store,
        "topic": appointment.topic,
        "start": appointment.start.astimezone(store.tz),
        "first_name": _first_name(appointment.customer) if appointment.customer else "",
        "associate": (appointment.associate.first_name or "").strip(),
    }
    with timezone.override(store.tz):
        return render(request, "kiosk/book_done.html", context)
