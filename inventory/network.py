"""The network's locations with their stores and opening hours, cached.

Locations change rarely and every availability or sourcing question needs all
of them, so each process keeps them in memory and reloads when a version key in
the shared cache changes (a location, store or opening hour saved or deleted).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch

from inventory.models import LocationKind, StockLocation
from retail import versions
from retail.models import OpeningHours

VERSION_KEY = "aisle:network-version"
_loaded: dict = {"version": None, "locations": {}, "hours": {}}


def bump(**_signal) -> None:
    """Signal receiver: the next question reloads the network."""
    versions.bump(VERSION_KEY)


def network() -> tuple[dict[int, StockLocation], dict[int, dict[int, tuple[dt.time, dt.time]]]]:
    """(active locations by id, store id -> weekday -> (opens, closes)). Treat as read-only."""
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
        hours = {
            loc.store_id: {h.weekday: (h.opens, h.closes) for h in loc.store.opening_hours.all()}
            for loc in locations.values()
            if loc.store_id
        }
        _loaded.update(version=version, locations=locations, hours=hours)
    return _loaded["locations"], _loaded["hours"]
