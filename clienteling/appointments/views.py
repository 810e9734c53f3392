"""The tablet's appointment pages, mounted at /store/appointments/: the preparation
page of one appointment (with its actions), the associate's home panel, the store's
day, booking for a customer from their page, and a manager's working hours.

Every view asks `retail.access` (the store area, the current store; a manager for
hours and reassigning); every state change is a POST with CSRF, applied once per
action id (`retail.once`), refused with its reason and nothing written."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clienteling import profile
from clienteling.appointments import associate as tablet
from clienteling.appointments import day as store_day
from clienteling.appointments import hours, services, sizes
from clienteling.appointments import slots as slotting
from clienteling.appointments.forms import (
    BookForm,
    ExceptionForm,
    ReassignForm,
    SetAsideForm,
    WeekForm,
)
from clienteling.appointments.models import (
    HOLDING_STATES,
    Appointment,
    AppointmentSource,
    AppointmentState,
    SetAside,
    WorkingException,
    WorkingHours,
)
from clienteling.appointments.services import AppointmentError, SetAsideInput
from clienteling.models import Note
from retail import access
from retail import services as retail_services
from retail.access import Area, area_required
from retail.models import User
from retail.once import applied_once
from retail.views import store_or_choose

NOTES_SHOWN = 5
#: How the timeline names each kind of event (others show their code).
EVENT_LABELS = {
    "appointment_booked": gettext_lazy("Booked"),
    "appointment_cancelled": gettext_lazy("Cancelled"),
    "appointment_reassigned": gettext_lazy("Reassigned"),
    "appointment_checked_in": gettext_lazy("Customer arrived"),
    "appointment_completed": gettext_lazy("Completed"),
    "appointment_no_show": gettext_lazy("No-show"),
    "set_aside_added": gettext_lazy("Item set aside"),
    "set_aside_released": gettext_lazy("Item back on the shelf"),
}


def _appointment(store, pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.select_related("store", "topic", "customer", "associate"),
        pk=pk,
        store=store,
    )


# --- The preparation page --------------------------------------------------------------------


def _reassign_choices(appointment: Appointment) -> list[User]:
    """The store's associates qualified for the topic and free then (not the current)."""
    staff = list(hours.store_staff(appointment.store).exclude(pk=appointment.associate_id))
    ids = slotting.qualified_ids(appointment.topic, [u.pk for u in staff])
    if not ids:
        return []
    calendar = slotting.load_calendar(
        appointment.store,
        appointment.topic,
        appointment.start,
        appointment.end,
        associate_ids=ids,
        exclude_appointment_id=appointment.pk,
    )
    return [
        u
        for u in staff
        if u.pk in ids and slotting.associate_state(calendar, u.pk, appointment.start) == "free"
    ]


def _detail_context(request, store, appointment: Appointment, **extra) -> dict:
    customer = appointment.customer
    context = {
        "store": store,
        "appointment": appointment,
        "customer": customer,
        "set_asides": list(
            SetAside.objects.filter(appointment=appointment)
            .select_related("variant__product")
            .order_by("pk")
        ),
        "events": [
            (event, EVENT_LABELS.get(event.kind, event.kind))
            for event in appointment.events.select_related("by").order_by("at", "pk")
        ],
        "open": appointment.state in HOLDING_STATES,
        "started": timezone.now() >= appointment.start,
        "is_manager": access.may_lead_team(request.user, store),
        "set_aside_form": extra.pop("set_aside_form", None) or SetAsideForm(),
        **extra,
    }
    if customer is not None:
        built = profile.build(customer, store)
        context.update(
            viewed=built["viewed"],
            carts=built["carts"],
            wishlist=built["wishlist"],
            searches=built["searches"],
            summary=built["summary"],
            recommendations=[
                r for r in built["recommendations"] if r["availability_class"] == "ok"
            ],
            stated_sizes=sorted((customer.sizes or {}).items()),
            sizes=sizes.customer_sizes(customer),
            notes=list(
                Note.objects.filter(customer=customer)
                .select_related("author")
                .order_by("-created_at", "-pk")[:NOTES_SHOWN]
            ),
        )
    if context["is_manager"] and appointment.state == AppointmentState.BOOKED:
        context["reassign_to"] = _reassign_choices(appointment)
    return context


def _detail(request, store, appointment, *, status: int = 200, **extra) -> HttpResponse:
    with timezone.override(store.tz):
        return render(
            request,
            "clienteling/appointments/detail.html",
            _detail_context(request, store, appointment, **extra),
            status=status,
        )


@area_required(Area.STORE)
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything the associate needs to arrive prepared, and the actions of its state."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    appointment = _appointment(store, pk)
    if appointment.customer is not None:
        retail_services.customer_profile_view(
            customer=appointment.customer, by=request.user, store=store
        )
    return _detail(request, store, appointment)


def _act(request, pk: int, action) -> HttpResponse:
    """Run `action(appointment)` for a POST from the page; refusals shown on the page."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    appointment = _appointment(store, pk)
    try:
        action(appointment, store)
    except AppointmentError as exc:
        appointment.refresh_from_db()
        return _detail(
            request, store, appointment, status=exc.status, message=exc.detail, level="error"
        )
    return redirect(reverse("appointments:detail", args=[pk]))


@area_required(Area.STORE)
@require_POST
@applied_once
def arrive(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda a, s: tablet.appointment_arrive(appointment=a, by=request.user))


@area_required(Area.STORE)
@require_POST
@applied_once
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, lambda a, s: tablet.appointment_complete(appointment=a, by=request.user)
    )


@area_required(Area.STORE)
@require_POST
@applied_once
def no_show(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, lambda a, s: tablet.appointment_no_show(appointment=a, by=request.user)
    )


@area_required(Area.STORE)
@require_POST
@applied_once
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda a, s: services.appointment_cancel(
            appointment=a, by=request.user, reason=_("cancelled on the tablet")
        ),
    )


@area_required(Area.STORE)
@require_POST
@applied_once
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    def action(appointment, store):
        form = ReassignForm(request.POST)
        person = None
        if form.is_valid():
            person = hours.store_staff(store).filter(pk=form.cleaned_data["associate"]).first()
        if person is None:
            raise AppointmentError(
                "validation_error", _("Choose an associate of this store."), status=400
            )
        services.appointment_reassign(appointment=appointment, associate=person, by=request.user)

    return _act(request, pk, action)


@area_required(Area.STORE)
@require_POST
@applied_once
def set_aside_add(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    appointment = _appointment(store, pk)
    form = SetAsideForm(request.POST)
    if not form.is_valid():
        return _detail(request, store, appointment, status=400, set_aside_form=form)
    try:
        tablet.set_aside_add(
            appointment=appointment,
            variant=form.cleaned_data["sku"],
            quantity=form.cleaned_data["quantity"],
            by=request.user,
        )
    except AppointmentError as exc:
        return _detail(
            request,
            store,
            appointment,
            status=exc.status,
            message=exc.detail,
            level="error",
            set_aside_form=form,
        )
    return redirect(reverse("appointments:detail", args=[pk]) + "#set-asides")


@area_required(Area.STORE)
@require_POST
@applied_once
def set_aside_remove(request: HttpRequest, pk: int, row: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    appointment = _appointment(store, pk)
    item = get_object_or_404(SetAside, pk=row, appointment=appointment)
    tablet.set_aside_remove(set_aside=item, by=request.user)
    return redirect(reverse("appointments:detail", args=[pk]) + "#set-asides")


# --- The associate's home panel, the store's day -------------------------------------------


def _day_bounds(store, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=store.tz)
    return start, start + dt.timedelta(days=1)


@area_required(Area.STORE)
@require_GET
def panel(request: HttpRequest) -> HttpResponse:
    """The home screen's panel: my appointments today at this store (one query)."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    start, end = _day_bounds(store, store.local_now().date())
    rows = list(
        Appointment.objects.filter(
            associate=request.user, store=store, start__gte=start, start__lt=end
        )
        .exclude(state=AppointmentState.CANCELLED)
        .select_related("topic", "customer")
        .order_by("start", "pk")
    )
    with timezone.override(store.tz):
        return render(
            request,
            "clienteling/appointments/panel.html",
            {"store": store, "appointments": rows, "now": timezone.now()},
        )


def _day_param(request, store) -> dt.date | None:
    raw = request.GET.get("date")
    if not raw:
        return store.local_now().date()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


@area_required(Area.STORE)
@require_GET
def day(request: HttpRequest) -> HttpResponse:
    """Every associate's appointments and free time on one day of this store."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    chosen = _day_param(request, store)
    if chosen is None:
        return render(
            request,
            "clienteling/appointments/day.html",
            {"store": store, "message": _("That is not a date (use YYYY-MM-DD).")},
            status=400,
        )
    rows = store_day.load(store, chosen)
    context = {
        "store": store,
        "day": chosen,
        "today": store.local_now().date(),
        "previous": chosen - dt.timedelta(days=1),
        "next": chosen + dt.timedelta(days=1),
        "rows": rows,
        "count": sum(len(r.appointments) for r in rows),
        "is_manager": access.may_lead_team(request.user, store),
    }
    with timezone.override(store.tz):
        return render(request, "clienteling/appointments/day.html", context)


# --- Booking for a customer (from their page) ------------------------------------------------


def _customer(request, pk: int):
    return get_object_or_404(access.customers_for(request.user), pk=pk)


def _free_slots(store, topic, day: dt.date) -> list[slotting.Slot]:
    return services.store_slots(store=store, topic=topic, first_day=day, days=1)


def _book_page(
    request, store, customer, form, *, status=200, message="", fragment=False
) -> HttpResponse:
    topic, chosen = None, None
    data = form.data if form.is_bound else form.initial
    topics = services.topics_offered(store)
    try:
        topic = topics.filter(pk=int(data.get("topic") or 0)).first() or topics.first()
        chosen = dt.date.fromisoformat(str(data.get("day") or store.local_now().date()))
    except ValueError:
        chosen = store.local_now().date()
    slots = _free_slots(store, topic, chosen) if topic else []
    context = {
        "store": store,
        "customer": customer,
        "form": form,
        "topics": topics,
        "topic": topic,
        "day": chosen,
        "slots": slots,
        "chosen_start": str(data.get("start") or ""),
        "message": message,
    }
    template = "clienteling/appointments/book.html" + ("#slots" if fragment else "")
    with timezone.override(store.tz):
        return render(request, template, context, status=status)


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Book for a customer on the phone or in the store: a topic, a day, one of its free
    times, optional items to set aside and a note. A slot taken meanwhile, an item the
    shelf cannot hold: refused with the reason, nothing booked."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, customer_pk)
    topics = services.topics_offered(store)
    if request.method == "GET":
        form = BookForm(topics=topics, initial={"day": store.local_now().date()})
        return _book_page(request, store, customer, form)
    form = BookForm(request.POST, topics=topics)
    if not form.is_valid():
        return _book_page(request, store, customer, form, status=400)
    data = form.cleaned_data
    fingerprint = hashlib.sha256(
        "|".join(
            str(x)
            for x in (
                customer.pk,
                data["topic"].pk,
                data["start"].isoformat(),
                ",".join(v.sku for v in data["skus"]),
                data["note"],
            )
        ).encode()
    ).hexdigest()
    try:
        appointment, _created = services.appointment_book(
            appointment_ref=f"TAB-{data['nonce'][:32]}",
            customer=customer,
            store=store,
            topic=data["topic"],
            start=data["start"],
            items=[SetAsideInput(v) for v in data["skus"]],
            note=data["note"],
            source=AppointmentSource.TABLET,
            by=request.user,
            fingerprint=fingerprint,
        )
    except AppointmentError as exc:
        message = exc.detail
        if exc.code == "validation_error":
            message = " ".join(str(m) for ms in exc.extra.get("errors", {}).values() for m in ms)
        return _book_page(request, store, customer, form, status=exc.status, message=message)
    return redirect(reverse("appointments:detail", args=[appointment.pk]))


@area_required(Area.STORE)
@require_GET
def book_slots(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The free times of a topic on a day (the booking form's htmx fragment)."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, customer_pk)
    form = BookForm(request.GET, topics=services.topics_offered(store))
    return _book_page(request, store, customer, form, fragment=bool(request.htmx))


# --- A manager's working hours ---------------------------------------------------------------


def _manager_store(request):
    store, choose = store_or_choose(request)
    if choose:
        return None, choose
    if not access.may_lead_team(request.user, store):
        raise PermissionDenied
    return store, None


@area_required(Area.STORE)
@require_GET
def hours_list(request: HttpRequest) -> HttpResponse:
    store, choose = _manager_store(request)
    if choose:
        return choose
    staff = list(hours.store_staff(store))
    by_person: dict[int, list[WorkingHours]] = {u.pk: [] for u in staff}
    for row in WorkingHours.objects.filter(store=store, associate__in=staff).order_by("weekday"):
        by_person[row.associate_id].append(row)
    today = store.local_now().date()
    exceptions: dict[int, list[WorkingException]] = {u.pk: [] for u in staff}
    for row in WorkingException.objects.filter(associate__in=staff, ends_on__gte=today).order_by(
        "starts_on", "pk"
    ):
        exceptions[row.associate_id].append(row)
    people = [(u, by_person[u.pk], exceptions[u.pk]) for u in staff]
    return render(
        request, "clienteling/appointments/hours.html", {"store": store, "people": people}
    )


def _hours_page(request, store, person, week_form, exception_form, *, status=200, message=""):
    """An associate's week and exceptions, with the coming appointments they no longer
    cover (times in the store's zone)."""
    today = store.local_now().date()
    context = {
        "store": store,
        "person": person,
        "week_form": week_form,
        "exception_form": exception_form,
        "exceptions": list(
            WorkingException.objects.filter(associate=person, ends_on__gte=today).order_by(
                "starts_on", "pk"
            )
        ),
        "message": message,
        "uncovered": hours.appointments_outside_hours(person, store),
    }
    with timezone.override(store.tz):
        return render(request, "clienteling/appointments/hours_edit.html", context, status=status)


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def hours_edit(request: HttpRequest, user_pk: int) -> HttpResponse:
    """One associate's weekly hours at this store (GET the form, POST the week)."""
    store, choose = _manager_store(request)
    if choose:
        return choose
    person = get_object_or_404(hours.store_staff(store), pk=user_pk)
    rows = WorkingHours.objects.filter(associate=person, store=store)
    if request.method == "GET":
        form = WeekForm(initial=WeekForm.initial_for(rows))
        return _hours_page(request, store, person, form, ExceptionForm())
    form = WeekForm(request.POST)
    days = form.days() if form.is_valid() else None
    if days is None or not form.is_valid():
        return _hours_page(request, store, person, form, ExceptionForm(), status=400)
    try:
        hours.working_week_set(associate=person, store=store, days=days, by=request.user)
    except hours.HoursError as exc:
        for field, messages in exc.errors.items():
            for text in messages:
                form.add_error(f"d{field[3:]}_ends" if field.startswith("day") else None, text)
        return _hours_page(
            request, store, person, form, ExceptionForm(), status=400, message=exc.message
        )
    return redirect(reverse("appointments:hours_edit", args=[person.pk]) + "?saved=1")


@area_required(Area.STORE)
@require_POST
def exception_add(request: HttpRequest, user_pk: int) -> HttpResponse:
    store, choose = _manager_store(request)
    if choose:
        return choose
    person = get_object_or_404(hours.store_staff(store), pk=user_pk)
    week = WeekForm(
        initial=WeekForm.initial_for(WorkingHours.objects.filter(associate=person, store=store))
    )
    form = ExceptionForm(request.POST)
    if not form.is_valid():
        return _hours_page(request, store, person, week, form, status=400)
    try:
        hours.working_exception_add(
            associate=person, store=store, by=request.user, **form.cleaned_data
        )
    except hours.HoursError as exc:
        for field, messages in exc.errors.items():
            for text in messages:
                form.add_error(field if field in form.fields else None, text)
        return _hours_page(request, store, person, week, form, status=400, message=exc.message)
    return redirect(reverse("appointments:hours_edit", args=[person.pk]) + "#exceptions")


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def exception_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: are you sure? POST: the exception goes."""
    store, choose = _manager_store(request)
    if choose:
        return choose
    row = get_object_or_404(
        WorkingException.objects.select_related("associate"),
        pk=pk,
        associate__in=hours.store_staff(store),
    )
    if request.method == "GET":
        return render(
            request,
            "clienteling/appointments/exception_delete.html",
            {"store": store, "exception": row},
        )
    person = row.associate
    hours.working_exception_delete(exception=row, store=store, by=request.user)
    return redirect(reverse("appointments:hours_edit", args=[person.pk]) + "#exceptions")
