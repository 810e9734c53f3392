"""Bookable slots: when a store can receive a customer for a topic, and how many
qualified associates are free then.

`load_calendar` reads everything a range of days needs in a fixed number of queries
(opening hours, closures, the associates' working hours, their exceptions, their
qualification for the topic, and their bookings); `slots` and `explain` are pure
functions over it.

Everything is computed in the store's time zone (`store.tz`): a day's slots start at
its opening time on that date (so a daylight-saving change moves the UTC times, never
the wall-clock ones), last `topic.minutes`, follow each other without gap, and end by
closing time. An associate is free for a slot when it lies inside their working hours
of that weekday at this store, outside their break and their exceptions (leave,
training days), and when neither the slot plus the topic's buffer nor any of their
bookings (from its start to its end plus its own buffer) meet.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from clienteling.appointments.models import Appointment, Topic, WorkingException, WorkingHours
from retail.hours import Week, week_hours
from retail.models import Store
from training.models import CertificationStatus, CertifiedSkill, LevelRecord, Track

UTC = dt.UTC


@dataclass(frozen=True)
class Shift:
    starts: dt.time
    ends: dt.time
    break_starts: dt.time | None = None
    break_ends: dt.time | None = None


@dataclass(frozen=True)
class Absence:
    starts_on: dt.date
    ends_on: dt.date
    starts: dt.time | None = None
    ends: dt.time | None = None


@dataclass
class Calendar:
    """What slot computation needs about one store and topic, loaded once.

    `shifts`: associate id → weekday → Shift (qualified associates only);
    `absences`: associate id → [Absence]; `busy`: associate id → [(start, until)] in
    UTC; `unqualified`: associates who work here but may not take the topic."""

    tz: ZoneInfo
    opening: Week
    minutes: int
    buffer: int
    shifts: dict[int, dict[int, Shift]] = field(default_factory=dict)
    absences: dict[int, list[Absence]] = field(default_factory=dict)
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict)
    unqualified: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Slot:
    start: dt.datetime  # aware, in the store's time zone
    end: dt.datetime
    associate_ids: tuple[int, ...]

    @property
    def available(self) -> int:
        return len(self.associate_ids)


# --- Loading (a fixed number of queries) ----------------------------------------------------


def qualified_ids(topic: Topic, user_ids, *, at: dt.datetime | None = None) -> set[int]:
    """Who of these may take the topic: everyone when it needs no skill; else an assessed
    level at or above the topic's, or (`topic.certified`) a valid certificate for it.
    One query at most."""
    ids = set(user_ids)
    if topic.skill_id is None or not ids:
        return ids
    if topic.certified:
        rows = CertifiedSkill.objects.filter(
            skill_id=topic.skill_id,
            level__gte=topic.level,
            certification__user_id__in=ids,
            certification__status=CertificationStatus.ACTIVE,
            certification__expires_at__gt=at or timezone.now(),
        ).values_list("certification__user_id", flat=True)
    else:
        rows = (
            LevelRecord.objects.current()
            .filter(
                track=Track.OFFICIAL,
                skill_id=topic.skill_id,
                level__gte=topic.level,
                user_id__in=ids,
            )
            .values_list("user_id", flat=True)
        )
    return set(rows)


def load_calendar(
    store: Store,
    topic: Topic,
    start: dt.datetime,
    end: dt.datetime,
    *,
    associate_ids=None,
    exclude_appointment_id: int | None = None,
) -> Calendar:
    """The calendar of `store` for `topic` between two moments (6 queries at most,
    whatever the range). `associate_ids` narrows it to those people."""
    tz = store.tz
    # 2 queries: hours and closures; a closed store (`is_open` off) has no hours at all.
    opening = week_hours(store) if store.is_open else Week()
    rows = WorkingHours.objects.filter(store=store, associate__is_active=True)
    if associate_ids is not None:
        rows = rows.filter(associate_id__in=list(associate_ids))
    shifts: dict[int, dict[int, Shift]] = defaultdict(dict)
    for row in rows:
        shifts[row.associate_id][row.weekday] = Shift(
            row.starts, row.ends, row.break_starts, row.break_ends
        )
    working = set(shifts)
    qualified = qualified_ids(topic, working)
    unqualified = frozenset(working - qualified)
    shifts = {aid: days for aid, days in shifts.items() if aid in qualified}
    absences: dict[int, list[Absence]] = defaultdict(list)
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    if shifts:
        first = (start.astimezone(tz) - dt.timedelta(days=1)).date()
        last = (end.astimezone(tz) + dt.timedelta(days=1)).date()
        for row in WorkingException.objects.filter(
            associate_id__in=list(shifts), starts_on__lte=last, ends_on__gte=first
        ):
            absences[row.associate_id].append(
                Absence(row.starts_on, row.ends_on, row.starts, row.ends)
            )
        # Bookings at any store: an associate is in one place at a time.
        booked = (
            Appointment.objects.holding()
            .filter(associate_id__in=list(shifts))
            .filter(Q(start__lt=end + dt.timedelta(minutes=topic.buffer_minutes)))
            .filter(busy_until__gt=start)
        )
        if exclude_appointment_id is not None:
            booked = booked.exclude(pk=exclude_appointment_id)
        for aid, b_start, b_until in booked.values_list("associate_id", "start", "busy_until"):
            busy[aid].append((b_start, b_until))
    return Calendar(
        tz=tz,
        opening=opening,
        minutes=topic.minutes,
        buffer=topic.buffer_minutes,
        shifts=dict(shifts),
        absences=dict(absences),
        busy=dict(busy),
        unqualified=unqualified,
    )


# --- Pure computation ---------------------------------------------------------------------


def _at(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=tz).astimezone(UTC)


def day_starts(calendar: Calendar, day: dt.date) -> list[dt.datetime]:
    """The slot starts of one store day (UTC), inside its opening hours."""
    span = calendar.opening.span(day)
    if span is None:
        return []
    opens, closes = _at(day, span[0], calendar.tz), _at(day, span[1], calendar.tz)
    length = dt.timedelta(minutes=calendar.minutes)
    starts, moment = [], opens
    while moment + length <= closes:
        starts.append(moment)
        moment += length
    return starts


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def _absent(absences: list[Absence], day: dt.date, start, end, tz: ZoneInfo) -> bool:
    for absence in absences:
        if not absence.starts_on <= day <= absence.ends_on:
            continue
        if absence.starts is None:
            return True
        if _overlaps(start, end, _at(day, absence.starts, tz), _at(day, absence.ends, tz)):
            return True
    return False


def associate_state(calendar: Calendar, associate_id: int, start: dt.datetime) -> str:
    """Why an associate can or cannot take the slot starting at `start` (UTC):
    "free", "off" (not working then, or absent), "break" or "busy"."""
    tz = calendar.tz
    local_day = start.astimezone(tz).date()
    end = start + dt.timedelta(minutes=calendar.minutes)
    shift = calendar.shifts.get(associate_id, {}).get(local_day.weekday())
    if shift is None:
        return "off"
    if not (_at(local_day, shift.starts, tz) <= start and end <= _at(local_day, shift.ends, tz)):
        return "off"
    if _absent(calendar.absences.get(associate_id, []), local_day, start, end, tz):
        return "off"
    if shift.break_starts is not None and _overlaps(
        start, end, _at(local_day, shift.break_starts, tz), _at(local_day, shift.break_ends, tz)
    ):
        return "break"
    until = end + dt.timedelta(minutes=calendar.buffer)
    for b_start, b_until in calendar.busy.get(associate_id, []):
        if _overlaps(start, until, b_start, b_until):
            return "busy"
    return "free"


def free_at(calendar: Calendar, start: dt.datetime) -> tuple[int, ...]:
    """The qualified associates free for the slot starting at `start`, by id."""
    return tuple(
        aid for aid in sorted(calendar.shifts) if associate_state(calendar, aid, start) == "free"
    )


def slots(calendar: Calendar, first_day: dt.date, days: int, *, now: dt.datetime) -> list[Slot]:
    """The bookable slots from `first_day` for `days` store days: in the future, inside
    opening hours, with at least one qualified associate free."""
    out = []
    length = dt.timedelta(minutes=calendar.minutes)
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        for start in day_starts(calendar, day):
            if start <= now:
                continue
            free = free_at(calendar, start)
            if free:
                tz = calendar.tz
                out.append(Slot(start.astimezone(tz), (start + length).astimezone(tz), free))
    return out


def explain(calendar: Calendar, start: dt.datetime, *, now: dt.datetime) -> str:
    """Why `start` cannot be booked, or "free": "in_the_past", "outside_opening_hours",
    "not_a_slot_start", "during_break" (every associate who works then is on a break),
    "no_associate" (no qualified associate works then) or "taken"."""
    start = start.astimezone(UTC)
    if start <= now:
        return "in_the_past"
    local = start.astimezone(calendar.tz)
    day = local.date()
    grid = day_starts(calendar, day)
    if not grid:
        return "outside_opening_hours"
    end = start + dt.timedelta(minutes=calendar.minutes)
    span = calendar.opening.span(day)
    if start < grid[0] or end > _at(day, span[1], calendar.tz):
        return "outside_opening_hours"
    if start not in grid:
        return "not_a_slot_start"
    states = {associate_state(calendar, aid, start) for aid in calendar.shifts}
    if "free" in states:
        return "free"
    if "busy" in states:
        return "taken"
    if "break" in states:
        return "during_break"
    return "no_associate"
