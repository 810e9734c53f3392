"""The network's locations with their stores, opening hours, closures and carriers, cached.

Locations change rarely and every availability or sourcing question needs all
of them, so each process keeps them in memory and reloads when a version key in
the shared cache changes (a location, store, opening hour, closure, carrier
service or the sourcing settings saved or deleted).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.utils import timezone

from inventory.models import CarrierService, LocationKind, SourcingSettings, StockLocation
from retail import versions
from retail.hours import Week
from retail.models import OpeningHours, StoreClosure

VERSION_KEY = "aisle:network-version"
# Closures further ahead than this do not change any promise made today.
CLOSURES_AHEAD = dt.timedelta(days=120)
_loaded: dict = {"version": None, "locations": {}, "hours": {}, "carriers": {}, "nearby_km": 30}


def bump(**_signal) -> None:
    """Signal receiver: the next question reloads the network."""
    versions.bump(VERSION_KEY)


def _fresh() -> dict:
    version = versions.current(VERSION_KEY)
    if _loaded["version"] != version:
        locations = {
            loc.pk: loc
            for loc in StockLocation.objects.filter(active=True)
            .exclude(kind=LocationKind.HOLD)
            .select_related("store")
            .prefetch_related(
                Prefetch("store__opening_hours", queryset=OpeningHours.objects.order_by("weekday"))
            )
        }
        today = timezone.now().date() - dt.timedelta(days=1)
        closed: dict[int, set[dt.date]] = {}
        for store_id, day in (
            StoreClosure.objects.filter(date__gte=today, date__lte=today + CLOSURES_AHEAD)
            .order_by()
            .values_list("store_id", "date")
        ):
            closed.setdefault(store_id, set()).add(day)
        hours = {
            loc.store_id: Week(
                {h.weekday: (h.opens, h.closes) for h in loc.store.opening_hours.all()},
                closed=frozenset(closed.get(loc.store_id, ())),
            )
            for loc in locations.values()
            if loc.store_id
        }
        carriers = {(c.country, c.service): c for c in CarrierService.objects.filter(active=True)}
        _loaded.update(
            version=version,
            locations=locations,
            hours=hours,
            carriers=carriers,
            nearby_km=SourcingSettings.current().nearby_km,
        )
    return _loaded


def network_parts() -> tuple[dict, dict, dict]:
    """(locations, hours, carriers) checked against the version once (one cache read)."""
    loaded = _fresh()
    return loaded["locations"], loaded["hours"], loaded["carriers"]


def network_version():
    """The version of the network this process holds (after `network()` was asked)."""
    return _loaded["version"]


def network() -> tuple[dict[int, StockLocation], dict[int, Week]]:
    """(active locations by id, store id -> its week of opening hours). Treat as read-only."""
    loaded = _fresh()
    return loaded["locations"], loaded["hours"]


def carriers() -> dict[tuple[str, str], CarrierService]:
    """(sending country, service) -> the active carrier service."""
    return _fresh()["carriers"]


def nearby_km() -> int:
    """HQ's distance within which a store is called nearby."""
    return _fresh()["nearby_km"]
