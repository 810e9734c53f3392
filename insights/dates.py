"""The dates of insights, fixed once.

A store or kiosk sale is dated in its store's time zone; an online order (web, app,
social) — or a sale with no store — in the network's reporting time zone
(`AISLE_REPORTING_TIME_ZONE`, by default the HQ's `TIME_ZONE`). A refund or a return
counts on the day it happens, in the time zone of the order it belongs to.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db.models import Q

IN_STORE = ("store", "kiosk")
ONLINE = ("web", "app", "social")
CHANNELS = ("web", "app", "store", "kiosk", "social")


def reporting_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.AISLE_REPORTING_TIME_ZONE)


def tz_for(store, channel: str) -> zoneinfo.ZoneInfo:
    """The time zone a sale of `channel` in `store` (or None) is dated in."""
    if store is not None and channel in IN_STORE:
        return store.tz
    return reporting_tz()


def local_day(at: dt.datetime, store, channel: str) -> dt.date:
    return at.astimezone(tz_for(store, channel)).date()


def day_bounds(day: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local day, as aware datetimes (a DST day is 23 or 25 hours)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def in_day(store, day: dt.date, *, at: str, channel: str) -> Q:
    """Rows whose time field `at` falls on `day` in the bucket of `store` (or None):
    store and kiosk rows in the store's day, the others in the reporting day."""
    online_start, online_end = day_bounds(day, reporting_tz())
    online = Q(**{f"{at}__gte": online_start, f"{at}__lt": online_end})
    if store is None:
        return online
    store_start, store_end = day_bounds(day, store.tz)
    local = Q(**{f"{at}__gte": store_start, f"{at}__lt": store_end})
    return (Q(**{f"{channel}__in": IN_STORE}) & local) | (
        ~Q(**{f"{channel}__in": IN_STORE}) & online
    )


def today(store=None) -> dt.date:
    from django.utils import timezone

    return timezone.now().astimezone(store.tz if store is not None else reporting_tz()).date()
