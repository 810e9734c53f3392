"""Stores with their addresses, coordinates and opening hours.

Columns: `code, name, address_line1, address_line2, city, postcode, country, time_zone,
latitude, longitude, pickup, pickup_hold_days, open, opening_hours`. A store is found
by its code (capitals: `s01` reads as `S01`); a new code creates one.

`opening_hours` is the week in one cell, for example
`Mon-Fri 09:00-19:00; Sat 10:00-18:00; Sun closed`: parts separated by `;`, each a
day (`Mon` … `Sun`) or a run of days (`Mon-Fri`) and either `HH:MM-HH:MM` in the
store's time zone or `closed`. A day no part names is closed; a day named twice is
refused, as is a store that closes before it opens.

An empty cell in `address_line2` clears it; an empty cell in `time_zone`, `pickup`,
`pickup_hold_days`, `open` or `opening_hours` (or a column left out) keeps what Aisle
has, and a new store gets the defaults (Europe/Paris, pickup offered, held 7 days,
open, no opening hours: closed every day).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retail.imports import cells
from retail.imports.base import (
    CREATED,
    Batch,
    Column,
    Kind,
    RowChange,
    row_updated,
)
from retail.models import OpeningHours, Store

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {d.casefold(): i for i, d in enumerate(DAYS)}
_PART = re.compile(r"(?P<days>[^\s\d]+(?:\s*[-–]\s*[^\s\d]+)?)\s+(?P<span>.+)")
_SPAN = re.compile(r"(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})")

Week = dict[int, tuple[dt.time, dt.time]]


class HoursError(ValueError):
    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def _day(name: str) -> int | None:
    return _DAY_INDEX.get(name.strip().casefold())


def _time(hour: str, minute: str) -> dt.time | None:
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        return None
    return dt.time(h, m)


def parse_week(text: str) -> Week:
    """The week a cell describes: weekday (0 = Monday) -> (opens, closes); a day not
    in it is closed. Raises HoursError with every problem found."""
    week: Week = {}
    named: set[int] = set()
    problems: list[str] = []
    parts = [p.strip() for p in text.split(";")]
    example = "Mon-Fri 09:00-19:00; Sat 10:00-18:00; Sun closed"
    for part in parts:
        if not part:
            continue
        match = _PART.fullmatch(part)
        if match is None:
            problems.append(
                _("“%(part)s” is not days and hours, as in “%(example)s”.")
                % {"part": part, "example": example}
            )
            continue
        ends = re.split(r"\s*[-–]\s*", match["days"])
        indexes = [_day(d) for d in ends]
        unknown = [d for d, i in zip(ends, indexes, strict=True) if i is None]
        if len(ends) > 2:
            problems.append(
                _("“%(days)s” is not a day or a run of days such as Mon-Fri.")
                % {"days": match["days"]}
            )
            continue
        if unknown:
            problems.append(
                _("“%(day)s” is not a day: write %(days)s.")
                % {"day": unknown[0], "days": ", ".join(DAYS)}
            )
            continue
        first, last = indexes[0], indexes[-1]
        if last < first:
            problems.append(
                _("“%(days)s” runs backwards: write the days from Monday to Sunday, as in Mon-Fri.")
                % {"days": match["days"]}
            )
            continue
        span_text = match["span"].strip()
        if span_text.casefold() == "closed":
            span = None
        else:
            times = _SPAN.fullmatch(span_text)
            opens = closes = None
            if times:
                opens, closes = _time(times[1], times[2]), _time(times[3], times[4])
            if opens is None or closes is None:
                problems.append(
                    _("“%(span)s” is not opening hours: write them as 09:00-19:00, or closed.")
                    % {"span": span_text}
                )
                continue
            if opens >= closes:
                problems.append(
                    _("In “%(part)s” the store closes before it opens.") % {"part": part}
                )
                continue
            span = (opens, closes)
        for day in range(first, last + 1):
            if day in named:
                problems.append(_("%(day)s is given twice.") % {"day": DAYS[day]})
                continue
            named.add(day)
            if span is not None:
                week[day] = span
    if problems:
        raise HoursError(problems)
    return week


def week_text(week: Week) -> str:
    """The week as one cell, runs of days with the same hours together (what
    `parse_week` reads back to the same week)."""
    parts = []
    day = 0
    while day < 7:
        span = week.get(day)
        last = day
        while last + 1 < 7 and week.get(last + 1) == span:
            last += 1
        days = DAYS[day] if last == day else f"{DAYS[day]}-{DAYS[last]}"
        hours = "closed" if span is None else f"{span[0]:%H:%M}-{span[1]:%H:%M}"
        parts.append(f"{days} {hours}")
        day = last + 1
    return "; ".join(parts)


# --- The kind ---------------------------------------------------------------------------

FIELDS = {  # column -> Store field
    "name": "name",
    "address_line1": "address_line1",
    "address_line2": "address_line2",
    "city": "city",
    "postcode": "postcode",
    "country": "country",
    "time_zone": "time_zone",
    "latitude": "latitude",
    "longitude": "longitude",
    "pickup": "pickup_enabled",
    "pickup_hold_days": "pickup_hold_days",
    "open": "is_open",
}
COLUMN_OF = {field: column for column, field in FIELDS.items()}


@dataclass
class StoreRow:
    code: str
    values: dict  # Store field -> value; a field left out is kept
    hours: Week | None  # None: keep


class StoresKind(Kind):
    code = "stores"
    verbose_name = gettext_lazy("Stores")
    columns = (
        Column("code", help=gettext_lazy("The store's code, e.g. S01.")),
        Column("name"),
        Column("address_line1"),
        Column("address_line2", required=False),
        Column("city"),
        Column("postcode"),
        Column("country", help=gettext_lazy("Two-letter ISO code, e.g. FR.")),
        Column("time_zone", required=False, help=gettext_lazy("e.g. Europe/Paris.")),
        Column("latitude", help=gettext_lazy("Decimal degrees, e.g. 48.8606.")),
        Column("longitude", help=gettext_lazy("Decimal degrees, e.g. 2.3408.")),
        Column("pickup", required=False, help=gettext_lazy("Offers pickup: yes or no.")),
        Column("pickup_hold_days", required=False),
        Column("open", required=False, help=gettext_lazy("yes, or no for a closed store.")),
        Column(
            "opening_hours",
            required=False,
            help=gettext_lazy("e.g. Mon-Fri 09:00-19:00; Sat 10:00-18:00; Sun closed."),
        ),
    )

    def parse(self, row):
        errors: dict[str, list[str]] = {}
        values: dict = {}
        code = row.get("code", "").upper()
        if not code:
            errors["code"] = [_("This cell cannot be empty.")]
        for column in ("name", "address_line1", "city", "postcode", "country"):
            if not row.get(column, ""):
                errors[column] = [_("This cell cannot be empty.")]
            else:
                values[FIELDS[column]] = row[column]
        if "country" in values:
            values["country"] = values["country"].upper()
        if "address_line2" in row:
            values["address_line2"] = row["address_line2"]
        if row.get("time_zone"):
            values["time_zone"] = row["time_zone"]
        readers = {
            "latitude": lambda t: cells.decimal(t, places=6, required_=True),
            "longitude": lambda t: cells.decimal(t, places=6, required_=True),
            "pickup": cells.boolean,
            "pickup_hold_days": lambda t: cells.integer(t, minimum=1, required_=False),
            "open": cells.boolean,
        }
        for column, read in readers.items():
            try:
                value = read(row.get(column, ""))
            except cells.CellError as exc:
                errors[column] = [exc.message]
                continue
            if value is not None:
                values[FIELDS[column]] = value
        hours = None
        if row.get("opening_hours"):
            try:
                hours = parse_week(row["opening_hours"])
            except HoursError as exc:
                errors["opening_hours"] = exc.messages
        candidate = Store(code=code or "XX", **values)
        try:
            candidate.clean_fields(
                exclude=[f.name for f in Store._meta.fields if f.name not in {*values, "code"}]
            )
        except ValidationError as exc:
            for field, messages in cells.messages_of(exc).items():
                errors.setdefault(COLUMN_OF.get(field, field), messages)
        if errors:
            return None, errors
        return StoreRow(code=code, values=values, hours=hours), {}

    def identity(self, item: StoreRow):
        return "code", item.code, item.code

    def apply(self, batch: Batch, *, by, dry_run: bool) -> list[RowChange]:
        from retail.services import audit_record

        codes = [row.item.code for row in batch]
        existing = {
            s.code: s
            for s in Store.objects.select_for_update()
            .filter(code__in=codes)
            .prefetch_related("opening_hours")
        }
        changes = []
        for row in batch:
            item: StoreRow = row.item
            store = existing.get(item.code)
            if store is None:
                store = Store.objects.create(code=item.code, **item.values)
                for day, (opens, closes) in sorted((item.hours or {}).items()):
                    OpeningHours.objects.create(
                        store=store, weekday=day, opens=opens, closes=closes
                    )
                audit_record(actor=by, action="store.import_create", target=store)
                existing[item.code] = store
                changes.append(RowChange(row.number, item.code, CREATED))
                continue
            changed = {}
            for field, new in item.values.items():
                old = getattr(store, field)
                if old != new:
                    changed[COLUMN_OF[field]] = (old, new)
                    setattr(store, field, new)
            if changed:
                store.save(update_fields=[FIELDS[c] for c in changed])
            if item.hours is not None:
                rows = {h.weekday: h for h in store.opening_hours.all()}
                old_week = {day: (h.opens, h.closes) for day, h in rows.items()}
                if old_week != item.hours:
                    changed["opening_hours"] = (week_text(old_week), week_text(item.hours))
                    _set_hours(store, rows, item.hours)
            changes.append(
                row_updated(row, item.code, store, changed, by=by, action="store.import_update")
            )
        return changes

    def export(self):
        for store in Store.objects.order_by("code").prefetch_related("opening_hours"):
            week = {h.weekday: (h.opens, h.closes) for h in store.opening_hours.all()}
            yield {
                "code": store.code,
                "name": store.name,
                "address_line1": store.address_line1,
                "address_line2": store.address_line2,
                "city": store.city,
                "postcode": store.postcode,
                "country": store.country,
                "time_zone": store.time_zone,
                "latitude": _coordinate(store.latitude),
                "longitude": _coordinate(store.longitude),
                "pickup": "yes" if store.pickup_enabled else "no",
                "pickup_hold_days": str(store.pickup_hold_days),
                "open": "yes" if store.is_open else "no",
                "opening_hours": week_text(week),
            }


def _coordinate(value: Decimal) -> str:
    return f"{value:.6f}"


def _set_hours(store: Store, rows: dict[int, OpeningHours], week: Week) -> None:
    """Make the store's hours the week given (a day left out is closed)."""
    for day, row in rows.items():
        if day not in week:
            row.delete()
    for day, (opens, closes) in sorted(week.items()):
        row = rows.get(day)
        if row is None:
            OpeningHours.objects.create(store=store, weekday=day, opens=opens, closes=closes)
        elif (row.opens, row.closes) != (opens, closes):
            row.opens, row.closes = opens, closes
            row.save(update_fields=["opens", "closes"])
