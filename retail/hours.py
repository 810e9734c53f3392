"""Opening hours: when a store is open, and the first moment it is open after a time."""

from __future__ import annotations

import datetime as dt

from retail.models import OpeningHours, Store, StoreClosure

# How far ahead to look for an opening (a store closed for longer has no next opening).
SEARCH_DAYS = 14


class Week(dict):
    """weekday -> (opens, closes) of one store, and the dates it stays closed anyway
    (`closed`: holidays, inventory days)."""

    def __init__(self, spans=(), *, closed: frozenset[dt.date] = frozenset()):
        super().__init__(spans)
        self.closed = closed

    def span(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """The opening hours on `day`, or None when the store is closed that day."""
        if day in self.closed:
            return None
        return self.get(day.weekday())


def week_hours(store: Store) -> Week:
    """weekday -> (opens, closes), using prefetched `opening_hours` (and `closures`)
    when present, with the store's closures from yesterday on."""
    cache = getattr(store, "_prefetched_objects_cache", {})
    rows = cache.get("opening_hours")
    if rows is None:
        rows = OpeningHours.objects.filter(store=store)
    since = store.local_now().date() - dt.timedelta(days=1)
    closures = cache.get("closures")  # prefetched by a caller walking many stores
    if closures is None:
        closed = frozenset(
            StoreClosure.objects.filter(store=store, date__gte=since).values_list("date", flat=True)
        )
    else:
        closed = frozenset(c.date for c in closures if c.date >= since)
    return Week({row.weekday: (row.opens, row.closes) for row in rows}, closed=closed)


def _span(hours, day: dt.date):
    return hours.span(day) if isinstance(hours, Week) else hours.get(day.weekday())


def closures_between(hours, start: dt.date, end: dt.date) -> list[dt.date]:
    """The closure dates (holidays) from `start` to `end`, both included."""
    closed = getattr(hours, "closed", frozenset())
    return sorted(day for day in closed if start <= day <= end)


def next_open_moment(
    store: Store, after: dt.datetime, hours: dict[int, tuple[dt.time, dt.time]] | None = None
) -> dt.datetime | None:
    """The first moment at or after `after` when the store is open (aware, in the
    store's time zone), or None when it opens on no day in the next two weeks."""
    hours = week_hours(store) if hours is None else hours
    if not hours or not store.is_open:
        return None
    local = after.astimezone(store.tz)
    for offset in range(SEARCH_DAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        span = _span(hours, day)
        if span is None:
            continue
        opens = dt.datetime.combine(day, span[0], tzinfo=store.tz)
        closes = dt.datetime.combine(day, span[1], tzinfo=store.tz)
        if local < opens:
            return opens
        if opens <= local < closes:
            return local
    return None


def ready_moment(
    store: Store,
    earliest: dt.datetime,
    work: dt.timedelta,
    hours: dict[int, tuple[dt.time, dt.time]] | None = None,
) -> dt.datetime | None:
    """When `work` (picking, receiving) started no earlier than `earliest` is done,
    counting only opening hours: the moment a customer could collect."""
    hours = week_hours(store) if hours is None else hours
    moment = next_open_moment(store, earliest, hours)
    remaining = work
    for _ in range(SEARCH_DAYS + 1):
        if moment is None:
            return None
        closes = dt.datetime.combine(moment.date(), _span(hours, moment.date())[1], tzinfo=store.tz)
        if moment + remaining <= closes:
            return moment + remaining
        remaining -= closes - moment
        moment = next_open_moment(store, closes + dt.timedelta(seconds=1), hours)
    return None
