"""Associates' working hours and exceptions, as a store manager edits them on the
tablet. The models' own checks (`clean`, CHECK constraints) hold the rules of one
row; these services add the rules between rows: one set of hours per weekday (an
associate works at one store a day), exceptions of one associate never overlapping.
Each change is audit-logged (no personal data in the detail)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from clienteling.appointments.models import (
    Appointment,
    ExceptionKind,
    WorkingException,
    WorkingHours,
)
from retail import access
from retail.models import Role, Store, User
from retail.services import audit_record


class HoursError(Exception):
    """Refused; nothing changed. `errors`: field → messages, for the form."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message, self.errors = message, errors or {}


@dataclass(frozen=True)
class Day:
    starts: dt.time
    ends: dt.time
    break_starts: dt.time | None = None
    break_ends: dt.time | None = None


def store_staff(store: Store) -> QuerySet[User]:
    """The associates and managers of the store (home store or another of theirs)."""
    return (
        User.objects.filter(
            is_active=True,
            staff_profile__role__in=(Role.ASSOCIATE, Role.STORE_MANAGER),
        )
        .filter(Q(staff_profile__home_store=store) | Q(staff_profile__other_stores=store))
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )


def _check_manager(by: User, store: Store, associate: User) -> None:
    if not access.may_lead_team(by, store):
        raise HoursError(_("Only a manager of this store can change working hours."))
    if not store_staff(store).filter(pk=associate.pk).exists():
        raise HoursError(_("This person does not work at this store."))


def _day_errors(weekday: int, day: Day) -> list[str]:
    label = WorkingHours(weekday=weekday).get_weekday_display()
    if day.starts >= day.ends:
        return [_("%(day)s: the working day must end after it starts.") % {"day": label}]
    if (day.break_starts is None) != (day.break_ends is None):
        return [_("%(day)s: a break needs a start and an end.") % {"day": label}]
    if day.break_starts is not None and not (
        day.starts <= day.break_starts < day.break_ends <= day.ends
    ):
        return [
            _("%(day)s: the break must start before it ends, inside the working hours.")
            % {"day": label}
        ]
    return []


@transaction.atomic
def working_week_set(
    *, associate: User, store: Store, days: Mapping[int, Day | None], by: User
) -> list[WorkingHours]:
    """Set the associate's weekly hours at `store`: weekday (0 Monday) → a Day, or None
    for a day off here. All or nothing: any bad day refuses the whole week (with each
    day's reason); a weekday they work at another store is refused too."""
    _check_manager(by, store, associate)
    errors: dict[str, list[str]] = {}
    for weekday, day in days.items():
        if day is not None:
            problems = _day_errors(weekday, day)
            if problems:
                errors[f"day{weekday}"] = problems
    elsewhere = dict(
        WorkingHours.objects.filter(associate=associate)
        .exclude(store=store)
        .values_list("weekday", "store__code")
    )
    for weekday, day in days.items():
        if day is not None and weekday in elsewhere:
            label = WorkingHours(weekday=weekday).get_weekday_display()
            errors.setdefault(f"day{weekday}", []).append(
                _("%(day)s: they work at %(store)s that day.")
                % {"day": label, "store": elsewhere[weekday]}
            )
    if errors:
        raise HoursError(_("The hours were not saved."), errors)
    WorkingHours.objects.filter(
        associate=associate, store=store, weekday__in=[w for w, d in days.items() if d is None]
    ).delete()
    rows = []
    for weekday, day in sorted(days.items()):
        if day is None:
            continue
        row, _created = WorkingHours.objects.update_or_create(
            associate=associate,
            weekday=weekday,
            defaults={
                "store": store,
                "starts": day.starts,
                "ends": day.ends,
                "break_starts": day.break_starts,
                "break_ends": day.break_ends,
            },
        )
        rows.append(row)
    audit_record(
        actor=by,
        action="staff.working_hours",
        target=associate,
        store=store,
        detail={"weekdays": sorted(w for w, d in days.items() if d is not None)},
    )
    return rows


@transaction.atomic
def working_exception_add(
    *,
    associate: User,
    store: Store,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    starts: dt.time | None = None,
    ends: dt.time | None = None,
    note: str = "",
    by: User,
) -> WorkingException:
    """Leave, a training day…: the associate takes no appointments then. Refused: dates
    or times the wrong way round, one time without the other, or overlapping another
    of their exceptions."""
    _check_manager(by, store, associate)
    errors: dict[str, list[str]] = {}
    if kind not in ExceptionKind.values:
        errors["kind"] = [_("Choose a kind.")]
    if starts_on > ends_on:
        errors["ends_on"] = [_("The last day must be on or after the first.")]
    if (starts is None) != (ends is None):
        errors["ends"] = [_("Give both times, or neither for whole days.")]
    elif starts is not None and starts >= ends:
        errors["ends"] = [_("The end time must be after the start time.")]
    if len(note) > 200:
        errors["note"] = [_("A note has at most 200 characters.")]
    if not errors:
        clashes = (
            WorkingException.objects.select_for_update()
            .filter(associate=associate, starts_on__lte=ends_on, ends_on__gte=starts_on)
            .order_by("starts_on", "pk")
        )
        clash = next((c for c in clashes if _times_meet(c, starts, ends)), None)
        if clash is not None:
            errors["starts_on"] = [
                _("It overlaps their %(kind)s from %(first)s to %(last)s.")
                % {
                    "kind": clash.get_kind_display().lower(),
                    "first": clash.starts_on.isoformat(),
                    "last": clash.ends_on.isoformat(),
                }
            ]
    if errors:
        raise HoursError(_("The exception was not saved."), errors)
    row = WorkingException.objects.create(
        associate=associate,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        starts=starts,
        ends=ends,
        note=note,
    )
    audit_record(
        actor=by,
        action="staff.working_exception_add",
        target=associate,
        store=store,
        detail={"exception_id": row.pk, "kind": kind},
    )
    return row


def _times_meet(other: WorkingException, starts, ends) -> bool:
    if other.starts is None or starts is None:
        return True  # a whole day meets anything that day
    return other.starts < ends and starts < other.ends


@transaction.atomic
def working_exception_delete(*, exception: WorkingException, store: Store, by: User) -> None:
    """Remove an exception (the associate takes appointments then again)."""
    _check_manager(by, store, exception.associate)
    audit_record(
        actor=by,
        action="staff.working_exception_delete",
        target=exception.associate,
        store=store,
        detail={"exception_id": exception.pk, "kind": exception.kind},
    )
    exception.delete()


def appointments_outside_hours(
    associate: User, store: Store, *, now: dt.datetime | None = None, days: int = 90
) -> list[Appointment]:
    """The associate's coming appointments at `store` (booked or checked in, within
    `days`) that their hours no longer cover: a day off, outside the hours, in the
    break, or during leave. The manager reassigns or moves them. Three queries."""
    now = now or timezone.now()
    shifts = {
        row.weekday: row for row in WorkingHours.objects.filter(associate=associate, store=store)
    }
    rows = list(
        Appointment.objects.holding()
        .filter(
            associate=associate, store=store, end__gt=now, start__lt=now + dt.timedelta(days=days)
        )
        .select_related("topic", "customer")
        .order_by("start", "pk")
    )
    if not rows:
        return []
    absences = list(
        WorkingException.objects.filter(
            associate=associate,
            ends_on__gte=rows[0].start.astimezone(store.tz).date(),
            starts_on__lte=rows[-1].start.astimezone(store.tz).date(),
        )
    )
    out = []
    for appointment in rows:
        start = appointment.start.astimezone(store.tz)
        end = appointment.end.astimezone(store.tz)
        day, begins, finishes = start.date(), start.time(), end.time()
        if end.date() != day:
            finishes = dt.time.max
        shift = shifts.get(day.weekday())
        covered = shift is not None and shift.starts <= begins and finishes <= shift.ends
        if covered and shift.break_starts is not None:
            covered = not (begins < shift.break_ends and shift.break_starts < finishes)
        for absence in absences:
            if covered and absence.starts_on <= day <= absence.ends_on:
                covered = absence.starts is not None and not (
                    begins < absence.ends and absence.starts < finishes
                )
        if not covered:
            out.append(appointment)
    return out
