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
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from inventory import promise
from inventory.models import LocationKind, StockLevel, StockLocation
from inventory.network import network_parts, network_version
from inventory.promise import explain
from retail.hours import closures_between
from retail.models import Store, Variant


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


@dataclass(frozen=True)
class Address:
    postcode: str = ""
    country: str = ""
    lat: Decimal | float | None = None
    lon: Decimal | float | None = None

    @classmethod
    def of(cls, data: Mapping | None) -> Address | None:
        """From an order's or a cart's address (a dict), None without one."""
        if data is None:
            return None
        return cls(
            postcode=data.get("postcode", ""),
            country=data.get("country", ""),
            lat=data.get("lat"),
            lon=data.get("lon"),
        )


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
    # Why this source, and its journey (`inventory.promise.reason`; `explain()` words it).
    reason: dict = field(default_factory=dict)

    @property
    def explanation(self) -> list[str]:
        return explain(self.reason)


@dataclass
class Plan:
    lines: list[PlanLine]
    short: dict[int, int]  # variant_id -> quantity nobody can promise

    @property
    def complete(self) -> bool:
        return not self.short

    @property
    def promised_by(self) -> dt.datetime | None:
        """When the customer has everything: the latest of the parts."""
        dates = [line.ready_by for line in self.lines if line.ready_by is not None]
        return max(dates) if len(dates) == len(self.lines) and dates else None

    @property
    def split(self) -> bool:
        return len(self.lines) > 1


@dataclass
class Snapshot:
    """Availability of the requested SKUs at every active location, read once."""

    locations: dict[int, StockLocation]
    available: dict[tuple[int, int], int]  # (location_id, variant_id) -> available
    on_hand: dict[tuple[int, int], int]  # physical stock (what limits a till sale)
    hours: dict[int, dict[int, tuple[dt.time, dt.time]]]  # store_id -> weekday -> span
    carriers: dict = field(default_factory=dict)  # (country, service) -> CarrierService
    # Journeys worked out already (a page asking many promises reuses them).
    memo: dict = field(default_factory=dict)

    def at(self, location_id: int, variant_id: int) -> int:
        return self.available.get((location_id, variant_id), 0)


# Journeys (ranked options per destination and minute) kept by this process for the
# network version they were worked out on: most questions repeat within a minute.
_journeys: dict = {"version": None, "memo": {}}
JOURNEYS_KEPT = 2000


def _kept_journeys() -> dict:
    version = network_version()
    if _journeys["version"] != version or len(_journeys["memo"]) > JOURNEYS_KEPT:
        _journeys.update(version=version, memo={})
    return _journeys["memo"]


def whole_minute(moment: dt.datetime) -> dt.datetime:
    """`moment` rounded up to the minute: promises are made to the minute (never
    earlier than the truth), so the same question within a minute has one answer."""
    if moment.second or moment.microsecond:
        return moment.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return moment


def load_snapshot(variant_ids) -> Snapshot:
    """The locations come from the process's cache of the network (`inventory.network`);
    one query reads the stock rows of these SKUs."""
    ids = list(variant_ids)
    stock = _table(StockLevel)
    rows = _rows(
        # Table names from the models, values as parameters.
        f"SELECT location_id, variant_id, on_hand, reserved, safety_stock FROM {stock} "  # noqa: S608
        f"WHERE variant_id IN ({_marks(ids)})",
        ids,
    )
    return _snapshot(rows)


def load_snapshot_of_skus(skus: list[str]) -> tuple[dict[str, int], Snapshot]:
    """({sku: variant id} of the active variants among `skus`, their snapshot): one
    query for both (the API's availability asks by SKU)."""
    if not skus:
        return {}, _snapshot([])
    variant, stock = _table(Variant), _table(StockLevel)
    rows = _rows(
        f"SELECT v.sku, v.id, s.location_id, s.on_hand, s.reserved, s.safety_stock "  # noqa: S608
        f"FROM {variant} v LEFT JOIN {stock} s ON s.variant_id = v.id "
        f"WHERE v.active AND v.sku IN ({_marks(skus)})",
        list(skus),
    )
    variants = {sku: var for sku, var, *_rest in rows}
    return variants, _snapshot(
        (loc, var, on_hand, reserved, safety)
        for _sku, var, loc, on_hand, reserved, safety in rows
        if loc is not None
    )


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values)) or "NULL"


def _rows(sql: str, params: list) -> list[tuple]:
    """Plain rows: a page asks this for hundreds of stock rows, and the ORM's row
    machinery cost more than the query itself."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _snapshot(rows) -> Snapshot:
    locations, hours, known = network_parts()
    memo = _kept_journeys()
    locations = dict(locations)  # callers may leave some out
    available, on_hand_by_key = {}, {}
    for loc, var, on_hand, reserved, safety in rows:
        if loc not in locations:
            continue
        available[(loc, var)] = max(0, on_hand - reserved - safety)
        on_hand_by_key[(loc, var)] = on_hand
    return Snapshot(locations, available, on_hand_by_key, hours, known, memo)


def distance_km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance between two points."""
    lat1, lon1, lat2, lon2 = (math.radians(float(x)) for x in (lat1, lon1, lat2, lon2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def postcode_area(postcode: str) -> str:
    """The area part of a postcode: the leading letters of one that starts with letters
    (Dublin's `D02 VF65` → `D`, Valletta's `VLT 1117` → `VLT`), else its first two
    characters (`75004` → `75`, Paris)."""
    compact = postcode.strip().upper().replace(" ", "")
    letters = re.match(r"[A-Z]+", compact)
    return letters.group(0) if letters else compact[:2]


@dataclass
class Option:
    """A location that could send units, with when they would reach the customer."""

    location: StockLocation
    ready: dt.datetime | None
    leg: promise.Leg | None
    km: float | None
    same_area: bool
    abroad: bool

    def __post_init__(self) -> None:
        self.pk = self.location.pk  # read in every loop: a plain attribute


KIND_ORDER = {LocationKind.DC: 0, LocationKind.STORE: 1, LocationKind.SUPPLIER: 2}


def _rank(option: Option):
    """In the country first, then the soonest, then the DC before stores before
    suppliers, then the nearest (by distance, else the same postcode area)."""
    return (
        option.abroad,
        option.ready is None,
        option.ready or dt.datetime.max.replace(tzinfo=dt.UTC),
        KIND_ORDER.get(option.location.kind, 3),
        option.km if option.km is not None else math.inf,
        not option.same_area,
        option.location.code,
    )


def nearness(location: StockLocation, lat, lon, postcode: str) -> tuple[float | None, bool]:
    """(distance in km when both have coordinates, same postcode area)."""
    km = None
    if lat is not None and lon is not None and location.latitude is not None:
        km = distance_km(lat, lon, location.latitude, location.longitude)
    same_area = bool(postcode and location.postcode) and postcode_area(
        location.postcode
    ) == postcode_area(postcode)
    return km, same_area


def _cover(
    remaining: dict[int, int], candidates: list[StockLocation], snapshot: Snapshot
) -> list[tuple[StockLocation, dict[int, int]]]:
    """Fewest shipments first: repeatedly take the candidate that can send the most of
    what is still needed (ties go to the earlier, preferred candidate)."""
    chosen = []
    pool = list(candidates)
    while remaining and pool:
        best, best_take, best_units = None, {}, 0
        needed = sum(remaining.values())
        for loc in pool:
            take = {
                var: min(qty, snapshot.at(loc.pk, var))
                for var, qty in remaining.items()
                if snapshot.at(loc.pk, var) > 0
            }
            units = sum(take.values())
            if units > best_units:
                best, best_take, best_units = loc, take, units
                if units == needed:  # nobody can do better than all of it
                    break
        if best is None:
            break
        chosen.append((best, best_take))
        pool.remove(best)
        _take_all(remaining, best_take)
    # One plan line per source, listed in the order of preference.
    return sorted(chosen, key=lambda pair: candidates.index(pair[0]))


def _why(option: Option, take: dict[int, int], tier: list[Option], parts: int, snapshot) -> str:
    if option.abroad:
        return promise.Why.ABROAD
    if parts > 1:
        return promise.Why.SPLIT

    def could(other: Option) -> bool:  # could have sent this part alone
        return other.pk != option.pk and all(
            snapshot.at(other.pk, var) >= qty for var, qty in take.items()
        )

    if option.location.kind == LocationKind.SUPPLIER and not any(
        could(other) and other.location.kind != LocationKind.SUPPLIER for other in tier
    ):
        return promise.Why.DROP_SHIP
    rival = next((other for other in tier if could(other)), None)  # the best-ranked
    if rival is None:
        return promise.Why.ONLY
    if option.ready < rival.ready:
        return promise.Why.SOONEST
    if option.location.kind == LocationKind.DC and rival.location.kind != LocationKind.DC:
        return promise.Why.DC
    return promise.Why.NEAREST


def _choose(
    remaining: dict[int, int], options: list[Option], snapshot: Snapshot
) -> list[tuple[Option, dict[int, int], str]]:
    """The sources for what remains, from `options` in rank order: in the country
    first (never across a border for what the country has), fewest parcels, then the
    best-ranked."""
    ranked = options  # ranked already (`_pickup_options`, `_delivery_options`)
    by_pk = {o.pk: o for o in ranked}
    chosen = []
    for tier in ([o for o in ranked if not o.abroad], [o for o in ranked if o.abroad]):
        if not remaining:
            break
        covered = _cover(remaining, [o.location for o in tier], snapshot)
        chosen += [(by_pk[loc.pk], take, tier) for loc, take in covered]
    parts = len(chosen)
    return [
        (option, take, _why(option, take, tier, parts, snapshot)) for option, take, tier in chosen
    ]


def _take_all(remaining: dict[int, int], take: dict[int, int]) -> None:
    for var, qty in take.items():
        remaining[var] -= qty
        if remaining[var] == 0:
            del remaining[var]


def default_strategy(request: SourcingRequest, snapshot: Snapshot) -> Plan:
    """The network's sourcing rules (see design.md and `inventory.promise`):

    - carry-out: this store's shelf only (on hand not reserved);
    - pickup at S: S's shelf, else transfers to S from the DCs and other stores;
    - delivery: the DCs, the stores that ship and the suppliers (drop-ship);
    - the sources in the destination's country first: a border is crossed only for
      what the country cannot give;
    - fewest parcels, then the soonest, then the DC before stores before suppliers,
      then the nearest; each line says why (`PlanLine.reason`).
    """
    remaining = {var: qty for var, qty in request.lines.items() if qty > 0}
    lines: list[PlanLine] = []
    now = whole_minute(request.now)

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
            why = promise.reason(why=promise.Why.CARRY_OUT, location=here, ready_by=request.now)
            lines.append(PlanLine(here, Fulfilment.CARRY_OUT, taken, request.now, why))
        return Plan(lines, short)

    if request.method == Method.PICKUP:
        store = request.store
        here = _store_location(store, snapshot)
        week = snapshot.hours.get(store.pk, {})
        if here is not None:
            take = {var: min(qty, snapshot.at(here.pk, var)) for var, qty in remaining.items()}
            take = {var: qty for var, qty in take.items() if qty > 0}
            if take:
                ready = _shelf_ready(store, snapshot, now)
                why = promise.reason(
                    why=promise.Why.SHELF,
                    location=here,
                    ready_by=ready,
                    closed=_closed_until(store, week, now, ready),
                )
                lines.append(PlanLine(here, Fulfilment.PICKUP, take, ready, why))
                _take_all(remaining, take)
        if not remaining:
            return Plan(lines, remaining)
        options = _with_stock(_pickup_options(store, snapshot, now), remaining, snapshot)
        lines += _sourced(
            remaining,
            options,
            snapshot,
            to_country=store.country,
            fulfilment=lambda _location: Fulfilment.SHIP_TO_STORE,
            closed=lambda ready: _closed_until(store, week, now, ready),
        )
        return Plan(lines, remaining)

    # Delivery to an address.
    address = request.address or Address()
    options = _with_stock(_delivery_options(address, snapshot, now), remaining, snapshot)
    lines += _sourced(
        remaining,
        options,
        snapshot,
        to_country=address.country,
        fulfilment=lambda location: DELIVERY_KINDS[location.kind],
    )
    return Plan(lines, remaining)


def _sourced(
    remaining: dict[int, int],
    options: list[Option],
    snapshot: Snapshot,
    *,
    to_country: str,
    fulfilment,
    closed=lambda _ready: [],
) -> list[PlanLine]:
    """The plan lines for what remains, each with why its source was chosen."""
    lines = []
    for option, take, why in _choose(remaining, options, snapshot):
        data = promise.reason(
            why=why,
            location=option.location,
            ready_by=option.ready,
            leg=option.leg,
            km=option.km,
            same_area=option.same_area,
            to_country=to_country,
            units=sum(take.values()),
            closed=closed(option.ready),
        )
        lines.append(
            PlanLine(option.location, fulfilment(option.location), take, option.ready, data)
        )
    return lines


def _with_stock(ranked: list[Option], remaining: dict[int, int], snapshot) -> list[Option]:
    available = snapshot.available
    if len(remaining) == 1:  # the common question: one SKU
        [var] = remaining
        return [o for o in ranked if available.get((o.pk, var), 0) > 0]
    wanted = list(remaining)
    return [o for o in ranked if any(available.get((o.pk, var), 0) > 0 for var in wanted)]


def _pickup_options(store: Store, snapshot: Snapshot, now: dt.datetime) -> list[Option]:
    """Every DC and other store that could send units to `store`, with their journey,
    ranked (`_rank`); worked out once per snapshot, store and moment."""
    key = ("pickup", store.pk, now)
    if key not in snapshot.memo:
        options = []
        for loc in snapshot.locations.values():
            if loc.kind not in (LocationKind.DC, LocationKind.STORE) or loc.store_id == store.pk:
                continue
            ready, leg = promise.transfer_ready(
                loc, store, now=now, hours=snapshot.hours, known=snapshot.carriers
            )
            if ready is None:
                continue
            km, same_area = nearness(loc, store.latitude, store.longitude, store.postcode)
            options.append(Option(loc, ready, leg, km, same_area, loc.country != store.country))
        snapshot.memo[key] = sorted(options, key=_rank)
    return snapshot.memo[key]


def pickup_promise(
    store: Store, variant_id: int, snapshot: Snapshot, now: dt.datetime
) -> tuple[dt.datetime | None, StockLocation | None]:
    """(When one unit of a SKU can be ready for pickup at `store`, the location it
    comes from), or (None, None): what `plan_sourcing` promises for that one unit.
    Under the default strategy this asks its rules directly, without building the
    plan and its explanations (the availability API asks it for every SKU of a call):
    the store's shelf, else the first-ranked location in the country with the unit,
    else the first-ranked abroad."""
    if strategy() is not default_strategy:
        plan = plan_sourcing(
            SourcingRequest(method=Method.PICKUP, lines={variant_id: 1}, store=store, now=now),
            snapshot,
        )
        if plan.complete and plan.lines:
            return plan.lines[0].ready_by, plan.lines[0].location
        return None, None
    now = whole_minute(now)
    here = _store_location(store, snapshot)
    if here is not None and snapshot.at(here.pk, variant_id) > 0:
        return _shelf_ready(store, snapshot, now), here
    options = _pickup_options(store, snapshot, now)
    for abroad in (False, True):
        for option in options:
            if option.abroad == abroad and snapshot.at(option.pk, variant_id) > 0:
                return option.ready, option.location
    return None, None


def _shelf_ready(store: Store, snapshot: Snapshot, now: dt.datetime) -> dt.datetime | None:
    key = ("shelf", store.pk, now)
    if key not in snapshot.memo:  # the same for every SKU of a page
        snapshot.memo[key] = promise.shelf_ready(store, now=now, hours=snapshot.hours)
    return snapshot.memo[key]


DELIVERY_KINDS = {
    LocationKind.DC: Fulfilment.SHIP_TO_HOME,
    LocationKind.STORE: Fulfilment.SHIP_FROM_STORE,
    LocationKind.SUPPLIER: Fulfilment.DROP_SHIP,
}


def _delivery_options(address: Address, snapshot: Snapshot, now: dt.datetime) -> list[Option]:
    """Every location that could deliver to `address`, with its journey, ranked."""
    key = ("delivery", address, now)
    if key not in snapshot.memo:
        options = []
        for loc in snapshot.locations.values():
            if loc.kind not in DELIVERY_KINDS or not loc.sellable_online:
                continue
            if loc.kind == LocationKind.STORE and not loc.ships_to_customers:
                continue
            leg = promise.home_leg(
                loc, country=address.country, now=now, hours=snapshot.hours, known=snapshot.carriers
            )
            if leg is None:
                continue
            km, same_area = nearness(loc, address.lat, address.lon, address.postcode)
            abroad = bool(address.country and loc.country) and loc.country != address.country
            options.append(Option(loc, promise.delivered_by(loc, leg), leg, km, same_area, abroad))
        snapshot.memo[key] = sorted(options, key=_rank)
    return snapshot.memo[key]


def _closed_until(store: Store, week, now: dt.datetime, ready: dt.datetime | None) -> list:
    """The pickup store's closures between now and the ready day (they delay it)."""
    if ready is None:
        return []
    today = now.astimezone(store.tz).date()
    return closures_between(week, today, ready.astimezone(store.tz).date())


def _store_location(store: Store | None, snapshot: Snapshot) -> StockLocation | None:
    if store is None:
        return None
    key = ("here", store.pk)  # its location's pk, kept with the network's journeys
    if key not in snapshot.memo:
        snapshot.memo[key] = next(
            (pk for pk, loc in snapshot.locations.items() if loc.store_id == store.pk), None
        )
    # Looked up in this snapshot's locations: a caller may have left it out.
    return snapshot.locations.get(snapshot.memo[key])


def strategy() -> Callable[[SourcingRequest, Snapshot], Plan]:
    path = getattr(settings, "AISLE_SOURCING_STRATEGY", "inventory.sourcing.default_strategy")
    return import_string(path)


def plan_sourcing(request: SourcingRequest, snapshot: Snapshot | None = None) -> Plan:
    """The sourcing plan for a request, from one snapshot of availability (read here
    unless given: a page asking for many promises reads it once)."""
    if snapshot is None:
        snapshot = load_snapshot(request.lines.keys())
    if request.exclude_location_ids:
        snapshot = Snapshot(
            {
                pk: loc
                for pk, loc in snapshot.locations.items()
                if pk not in request.exclude_location_ids
            },
            snapshot.available,
            snapshot.on_hand,
            snapshot.hours,
            snapshot.carriers,
            # A memo of its own: the shared one ranks the locations left out.
        )
    return strategy()(request, snapshot)
