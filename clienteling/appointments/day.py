"""A store's day of appointments, as the tablet's day view shows it: every associate
working that day with their hours, their appointments and their free time.

`load` reads the day in a fixed number of queries (the slot calendar of
`clienteling.appointments.slots` for every associate working at the store, and the
day's appointments); `free_time` is a pure function over the calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from clienteling.appointments import slots as slotting
from clienteling.appointments.models import Appointment, AppointmentState, Topic
from retail.models import Store, User

UTC = dt.UTC


def _at(day: dt.date, time: dt.time, calendar: slotting.Calendar) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=calendar.tz).astimezone(UTC)


def _minus(spans: list[tuple], start, end) -> list[tuple]:
    out = []
    for a, b in spans:
        if end <= a or b <= start:
            out.append((a, b))
            continue
        if a < start:
            out.append((a, start))
        if end < b:
            out.append((end, b))
    return out


def free_time(
    calendar: slotting.Calendar, associate_id: int, day: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The associate's free spans on `day` (store time): their working hours inside the
    store's opening hours, less their break, their exceptions (leave, training) and
    their appointments with buffers. Empty when they do not work that day."""
    shift = calendar.shifts.get(associate_id, {}).get(day.weekday())
    opening = calendar.opening.span(day)
    if shift is None or opening is None:
        return []
    start = max(_at(day, shift.starts, calendar), _at(day, opening[0], calendar))
    end = min(_at(day, shift.ends, calendar), _at(day, opening[1], calendar))
    if start >= end:
        return []
    spans = [(start, end)]
    if shift.break_starts is not None:
        spans = _minus(
            spans, _at(day, shift.break_starts, calendar), _at(day, shift.break_ends, calendar)
        )
    for absence in calendar.absences.get(associate_id, []):
        if not absence.starts_on <= day <= absence.ends_on:
            continue
        if absence.starts is None:
            return []
        spans = _minus(spans, _at(day, absence.starts, calendar), _at(day, absence.ends, calendar))
    for busy_start, busy_until in calendar.busy.get(associate_id, []):
        spans = _minus(spans, busy_start, busy_until)
    return [(a.astimezone(calendar.tz), b.astimezone(calendar.tz)) for a, b in spans if a < b]


@dataclass
class Row:
    associate: User
    shift: slotting.Shift | None
    absent: bool
    appointments: list[Appointment] = field(default_factory=list)
    free: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)


def load(store: Store, day: dt.date) -> list[Row]:
    """Every associate who works at the store that day or has an appointment there, by
    name, with their appointments (cancelled ones left out) and free time."""
    tz = store.tz
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=1)
    anyone = Topic(minutes=5, buffer_minutes=0)  # no skill: every associate qualifies
    calendar = slotting.load_calendar(store, anyone, start, end)
    appointments = list(
        Appointment.objects.filter(store=store, start__gte=start, start__lt=end)
        .exclude(state=AppointmentState.CANCELLED)
        .select_related("topic", "customer", "associate")
        .order_by("start", "pk")
    )
    ids = {aid for aid, days in calendar.shifts.items() if day.weekday() in days}
    ids |= {a.associate_id for a in appointments}
    people = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    rows = {}
    for aid, person in people.items():
        shift = calendar.shifts.get(aid, {}).get(day.weekday())
        free = free_time(calendar, aid, day)
        absent = shift is not None and any(
            a.starts_on <= day <= a.ends_on and a.starts is None
            for a in calendar.absences.get(aid, [])
        )
        rows[aid] = Row(person, shift, absent, [], free)
    for appointment in appointments:
        rows[appointment.associate_id].appointments.append(appointment)
    return sorted(
        rows.values(),
        key=lambda r: (r.associate.first_name, r.associate.last_name, r.associate.pk),
    )
