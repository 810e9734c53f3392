"""Available-to-promise across the network, and sourcing plans.

`plan_sourcing()` loads one snapshot of availability and hands it to the
sourcing strategy, one replaceable function (setting `AISLE_SOURCING_STRATEGY`,
default `inventory.sourcing.default_strategy`). The strategy only reads the
snapshot: it decides, it never reserves. Orders reserve what the plan says.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from inventory.models import LocationKind, StockLevel, StockLocation
from inventory.network import network
from retail.hours import ready_moment
from retail.models import Store


class Method:
    PICKUP = "pickup"
    SHIP = "ship"
    CARRY_OUT = "carry_out"


class Fulfilment:
    """The fulfilment method of one plan line (the order's fulfilment methods)."""

    PICKUP = "pickup"
    SHIP_TO_STORE = "ship_to_store"
    SHIP_TO_HOME = "ship_to_home"
    SHIP_FROM_STORE = "ship_from_store"
    DROP_SHIP = "drop_ship"
    CARRY_OUT = "carry_out"


# Time to pick a pickup order from the shelf, and to receive a transfer, in opening hours.
PICK_TIME = dt.timedelta(hours=2)
RECEIVE_TIME = dt.timedelta(hours=2)


@dataclass(frozen=True)
class Address:
    postcode: str = ""
    country: str = ""
    lat: Decimal | float | None = None
    lon: Decimal | float | None = None


@dataclass
class SourcingRequest:
    method: str
    lines: Mapping[int, int]  # variant_id -> quantity
    store: Store | None = None  # pickup and carry-out
    address: Address | None = None  # ship
    now: dt.datetime = field(default_factory=timezone.now)
    # Locations not to source from (one found short by a count or a till sale).
    exclude_location_ids: frozenset[int] = frozenset()


@dataclass
class PlanLine:
    location: StockLocation
    fulfilment: str
    quantities: dict[int, int]  # variant_id -> quantity from this location
    ready_by: dt.datetime | None = None


@dataclass
class Plan:
    lines: list[PlanLine]
    short: dict[int, int]  # variant_id -> quantity nobody can promise

    @property
    def complete(self) -> bool:
        return not self.short


@dataclass
class Snapshot:
    """Availability of the requested SKUs at every active location, read once."""

    locations: dict[int, StockLocation]
    available: dict[tuple[int, int], int]  # (location_id, variant_id) -> available
    on_hand: dict[tuple[int, int], int]  # physical stock (what limits a till sale)
    hours: dict[int, dict[int, tuple[dt.time, dt.time]]]  # store_id -> weekday -> span

    def at(self, location_id: int, variant_id: int) -> int:
        return self.available.get((location_id, variant_id), 0)


def load_snapshot(variant_ids) -> Snapshot:
    """The locations come from the process's cache of the network (`inventory.network`);
    one query reads the stock rows of these SKUs."""
    locations, hours = network()
    locations = dict(locations)  # callers may leave some out
    available, on_hand_by_key = {}, {}
    rows = StockLevel.objects.filter(variant_id__in=list(variant_ids)).values_list(
        "location_id", "variant_id", "on_hand", "reserved", "safety_stock"
    )
    for loc, var, on_hand, reserved, safety in rows:
        if loc not in locations:
            continue
        available[(loc, var)] = max(0, on_hand - reserved - safety)
        on_hand_by_key[(loc, var)] = on_hand
    return Snapshot(locations, available, on_hand_by_key, hours)


def distance_km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance between two points."""
    lat1, lon1, lat2, lon2 = (math.radians(float(x)) for x in (lat1, lon1, lat2, lon2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def postcode_area(postcode: str) -> str:
    """The area part of a postcode: the leading letters of a British one (`W1D 1AN` →
    `W`), else its first two characters (`75004` → `75`)."""
    compact = postcode.strip().upper().replace(" ", "")
    letters = re.match(r"[A-Z]+", compact)
    return letters.group(0) if letters else compact[:2]


def _nearness(location: StockLocation, lat, lon, postcode: str, country: str):
    """A sort key: by distance when both have coordinates, else by postcode area."""
    if lat is not None and lon is not None and location.latitude is not None:
        return (0, distance_km(lat, lon, location.latitude, location.longitude), location.code)
    same_area = bool(postcode) and postcode_area(location.postcode) == postcode_area(postcode)
    same_country = bool(country) and location.country == country
    return (1, (0 if same_area else 1) + (0 if same_country else 1), location.code)


def _cover(
    remaining: dict[int, int], candidates: list[StockLocation], snapshot: Snapshot
) -> list[tuple[StockLocation, dict[int, int]]]:
    """Fewest shipments first: repeatedly take the candidate that can send the most of
    what is still needed (ties go to the earlier, preferred candidate)."""
    chosen = []
    pool = list(candidates)
    while remaining and pool:
        best, best_take, best_units = None, {}, 0
        for loc in pool:
            take = {
                var: min(qty, snapshot.at(loc.pk, var))
                for var, qty in remaining.items()
                if snapshot.at(loc.pk, var) > 0
            }
            units = sum(take.values())
            if units > best_units:
                best, best_take, best_units = loc, take, units
        if best is None:
            break
        chosen.append((best, best_take))
        pool.remove(best)
        for var, qty in best_take.items():
            remaining[var] -= qty
            if remaining[var] == 0:
                del remaining[var]
    # One plan line per source, listed in the order of preference.
    return sorted(chosen, key=lambda pair: candidates.index(pair[0]))


def _store_ready_by(
    store: Store, snapshot: Snapshot, earliest: dt.datetime, work
) -> dt.datetime | None:
    return ready_moment(store, earliest, work, snapshot.hours.get(store.pk, {}))


def default_strategy(request: SourcingRequest, snapshot: Snapshot) -> Plan:
    """The network's sourcing rules (see design.md):

    - carry-out: this store's shelf only (on hand not reserved);
    - pickup at S: S's shelf, else transfers to S from the DC or the nearest stores
      that can spare the units (ship-to-store, with a ready date);
    - delivery: the DC first, then stores that ship (nearest to the address), then
      supplier drop-ship; fewest shipments first, one plan line per source.
    """
    remaining = {var: qty for var, qty in request.lines.items() if qty > 0}
    lines: list[PlanLine] = []
    locations = list(snapshot.locations.values())

    if request.method == Method.CARRY_OUT:
        # A till sale is a fact: units reserved for other orders are released for it,
        # so only the shelf's physical stock limits it (checked again under the lock).
        here = _store_location(request.store, snapshot)
        if here is None:
            return Plan([], remaining)
        take = {
            var: min(qty, snapshot.on_hand.get((here.pk, var), 0)) for var, qty in remaining.items()
        }
        short = {var: qty - take[var] for var, qty in remaining.items() if qty > take[var]}
        taken = {var: qty for var, qty in take.items() if qty > 0}
        if taken:
            lines.append(PlanLine(here, Fulfilment.CARRY_OUT, taken, request.now))
        return Plan(lines, short)

    if request.method == Method.PICKUP:
        store = request.store
        here = _store_location(store, snapshot)
        if here is not None:
            take = {var: min(qty, snapshot.at(here.pk, var)) for var, qty in remaining.items()}
            take = {var: qty for var, qty in take.items() if qty > 0}
            if take:
                ready = _store_ready_by(store, snapshot, request.now, PICK_TIME)
                lines.append(PlanLine(here, Fulfilment.PICKUP, take, ready))
                for var, qty in take.items():
                    remaining[var] -= qty
                    if remaining[var] == 0:
                        del remaining[var]
        lat, lon = store.latitude, store.longitude
        dcs = sorted(
            (loc for loc in locations if loc.kind == LocationKind.DC),
            key=lambda loc: _nearness(loc, lat, lon, store.postcode, store.country),
        )
        stores = sorted(
            (
                loc
                for loc in locations
                if loc.kind == LocationKind.STORE and loc.store_id != store.pk
            ),
            key=lambda loc: _nearness(loc, lat, lon, store.postcode, store.country),
        )
        for source, take in _cover(remaining, dcs + stores, snapshot):
            arrives = request.now + dt.timedelta(days=source.lead_time_days)
            ready = _store_ready_by(store, snapshot, arrives, RECEIVE_TIME)
            lines.append(PlanLine(source, Fulfilment.SHIP_TO_STORE, take, ready))
        return Plan(lines, remaining)

    # Delivery to an address.
    address = request.address or Address()
    near = lambda loc: _nearness(loc, address.lat, address.lon, address.postcode, address.country)  # noqa: E731
    dcs = sorted(
        (loc for loc in locations if loc.kind == LocationKind.DC and loc.sellable_online), key=near
    )
    stores = sorted(
        (
            loc
            for loc in locations
            if loc.kind == LocationKind.STORE and loc.ships_to_customers and loc.sellable_online
        ),
        key=near,
    )
    suppliers = sorted(
        (loc for loc in locations if loc.kind == LocationKind.SUPPLIER and loc.sellable_online),
        key=lambda loc: (loc.lead_time_days, loc.code),
    )
    kinds = {
        LocationKind.DC: Fulfilment.SHIP_TO_HOME,
        LocationKind.STORE: Fulfilment.SHIP_FROM_STORE,
        LocationKind.SUPPLIER: Fulfilment.DROP_SHIP,
    }
    for source, take in _cover(remaining, dcs + stores + suppliers, snapshot):
        eta = request.now + dt.timedelta(days=source.lead_time_days)
        lines.append(PlanLine(source, kinds[source.kind], take, eta))
    return Plan(lines, remaining)


def _store_location(store: Store | None, snapshot: Snapshot) -> StockLocation | None:
    if store is None:
        return None
    for loc in snapshot.locations.values():
        if loc.store_id == store.pk:
            return loc
    return None


def strategy() -> Callable[[SourcingRequest, Snapshot], Plan]:
    path = getattr(settings, "AISLE_SOURCING_STRATEGY", "inventory.sourcing.default_strategy")
    return import_string(path)


def plan_sourcing(request: SourcingRequest) -> Plan:
    """The sourcing plan for a request, from one snapshot of availability."""
    snapshot = load_snapshot(request.lines.keys())
    for location_id in request.exclude_location_ids:
        snapshot.locations.pop(location_id, None)
    return strategy()(request, snapshot)
