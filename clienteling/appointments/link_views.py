"""The customer's signed links from the appointment e-mails, without signing in
(`retail.access.PUBLIC_PAGES`): see the appointment, cancel it, move it to another
free slot, rate a visit. The signed token is the only key; each POST does one thing
(with CSRF), and a GET changes nothing (mail scanners open links). A tampered link,
or one used after the appointment started, gets a clear page and a 4xx."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clienteling.appointments import links, services
from clienteling.appointments.models import RATING_MAX, RATING_MIN, Appointment, AppointmentState
from clienteling.appointments.services import AppointmentError


def _respond(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _invalid(request, message: str | None = None, status: int = 400) -> HttpResponse:
    context = {"message": message or _("This link is not valid: nothing was changed.")}
    return _respond(request, "appointments/link_invalid.html", context, status=status)


def _details(appointment: Appointment) -> dict:
    tz = appointment.store.tz
    return {
        "appointment": appointment,
        "start": appointment.start.astimezone(tz),
        "end": appointment.end.astimezone(tz),
        "time_zone": str(tz),
        "associate": (appointment.associate.first_name or "").strip(),
    }


def _changeable(appointment: Appointment, now: dt.datetime) -> bool:
    return appointment.state == AppointmentState.BOOKED and appointment.start > now


def _manage_page(request, token, appointment, *, message="", level="error", status=None):
    now = timezone.now()
    changeable = _changeable(appointment, now)
    context = {
        **_details(appointment),
        "token": token,
        "changeable": changeable,
        "message": message,
        "level": level,
    }
    if changeable:
        days: dict = {}
        for slot in services.move_options(appointment, now=now):
            days.setdefault(slot.start.date(), []).append(slot)
        context["days"] = list(days.items())
    if status is None:
        status = 200 if changeable else 409
    return _respond(request, "appointments/manage.html", context, status=status)


@require_GET
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation's link: the appointment, and while it has not started, a
    button to cancel it and the free slots to move it to."""
    appointment = links.load(token, links.Purpose.MANAGE)
    if appointment is None:
        return _invalid(request)
    return _manage_page(request, token, appointment)


@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    appointment = links.load(token, links.Purpose.MANAGE)
    if appointment is None:
        return _invalid(request)
    try:
        appointment = services.appointment_cancel(
            appointment=appointment, by=None, reason=_("cancelled by the customer (e-mail link)")
        )
    except AppointmentError as exc:
        return _manage_page(request, token, appointment, message=exc.detail, status=exc.status)
    return _respond(request, "appointments/cancelled.html", _details(appointment))


@require_POST
def reschedule(request: HttpRequest, token: str) -> HttpResponse:
    appointment = links.load(token, links.Purpose.MANAGE)
    if appointment is None:
        return _invalid(request)
    try:
        start = dt.datetime.fromisoformat(request.POST.get("start", "")[:40])
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        message = _("Choose one of the free times below.")
        return _manage_page(request, token, appointment, message=message, status=400)
    try:
        appointment = services.appointment_reschedule(
            appointment=appointment,
            start=start,
            by=None,
            reason=_("moved by the customer (e-mail link)"),
        )
    except AppointmentError as exc:
        return _manage_page(request, token, appointment, message=exc.detail, status=exc.status)
    message = _("Your appointment is moved. We have sent you the new details by e-mail.")
    return _manage_page(request, token, appointment, message=message, level="success")


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    """The thank-you e-mail's link: 1 to 5 stars and a comment, once (a second rating
    is refused and the first stays)."""
    try:
        appointment = links.load(token, links.Purpose.RATE)
    except links.LinkExpired:
        return _invalid(request, _("This link has expired: nothing was changed."), status=410)
    if appointment is None:
        return _invalid(request)
    context = {
        **_details(appointment),
        "token": token,
        "stars": range(RATING_MAX, RATING_MIN - 1, -1),
        "given": {"rating": "", "comment": ""},
        "errors": {},
    }
    status = 200
    if request.method == "POST":
        given = {
            "rating": request.POST.get("rating", "")[:2],
            "comment": request.POST.get("comment", "")[:2000],
        }
        context["given"] = given
        try:
            appointment = services.appointment_rate(
                appointment=appointment, rating=given["rating"], comment=given["comment"]
            )
            context["appointment"] = appointment
            context["thanked"] = True
        except AppointmentError as exc:
            context["errors"] = exc.extra.get("errors") or {"__all__": [exc.detail]}
            status = exc.status
    return _respond(request, "appointments/rate.html", context, status=status)
