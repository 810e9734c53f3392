"""The endless aisle: search the whole catalog, and see where each variant is and
when it could reach the customer.

The search runs over the in-memory catalog index (`inventory.catalog_index`) and
reads the stock of the page's variants on this store's shelf with one query. The
product page reads the stock of the product's variants across the network with
one query (`inventory.sourcing.load_snapshot`) and answers, per variant: on this
shelf, in the nearest stores (with their distance), at the distribution centres
and at the suppliers, each with when it could be ready here or delivered.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import promise
from inventory.catalog_index import CatalogIndex, ProductEntry, VariantEntry, catalog_index
from inventory.models import LocationKind
from inventory.network import nearby_km, network
from inventory.sourcing import (
    Method,
    PlanLine,
    SourcingRequest,
    distance_km,
    load_snapshot,
    plan_sourcing,
    whole_minute,
)
from retail.models import Store

PAGE_SIZE = 24
MAX_TERMS = 8
MAX_QUERY = 100
NEARBY_STORES = 5  # at most, nearest first, within HQ's nearby distance


class SearchError(ValueError):
    """A search the tablet cannot run (said in words for the associate)."""


@dataclass
class Filters:
    category: str = ""
    brand: str = ""
    size: str = ""
    colour: str = ""
    here_only: bool = False


@dataclass
class Hit:
    product: ProductEntry
    here: int  # units available on this store's shelf, all matching variants


@dataclass
class SearchPage:
    query: str
    hits: list[Hit]
    number: int
    has_next: bool
    matched: (
        int | None
    )  # products matching; None when only the shelf filter's first pages were read


# Chinese and Japanese write words without spaces between them.
CJK_RUN = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


def _terms(query: str) -> list[str]:
    """The query's words in lower case. A run of Chinese characters is cut from the
    Latin letters beside it ("羊毛coat" is 羊毛 and coat) and, when longer than a
    word of two characters, into pairs, each matched anywhere in the product's text:
    羊毛大衣 (wool coat) finds 羊毛混纺大衣 (wool-blend coat), as "wool coat" does."""
    query = " ".join(query.split())
    if len(query) > MAX_QUERY:
        raise SearchError(_("Type at most %(n)s characters.") % {"n": MAX_QUERY})
    words = [t for t in query.lower().split(" ") if t]
    if len(words) > MAX_TERMS:
        raise SearchError(_("Use at most %(n)s words.") % {"n": MAX_TERMS})
    terms = []
    for word in words:
        for part in CJK_RUN.split(word):
            if CJK_RUN.fullmatch(part) and len(part) > 2:
                terms += [part[i : i + 2] for i in range(0, len(part), 2)]
            elif part:
                terms.append(part)
    return list(dict.fromkeys(terms))


def catalog_search(
    *, query: str, store: Store, filters: Filters | None = None, page: int = 1
) -> SearchPage:
    """Products matching every word of `query` (in name, brand, category, style code,
    colour, a SKU or barcode from its start, or a size exactly) and the filters,
    by name, one page at a time, each with its units on this store's shelf."""
    filters = filters or Filters()
    terms = _terms(query)
    size, colour = filters.size, filters.colour
    index = catalog_index()
    if terms:
        candidates = [index.products[p] for p in sorted(matching_positions(index, terms))]
    else:
        candidates = index.products
    matched = [
        entry
        for entry in candidates
        if (not filters.category or entry.category_code == filters.category)
        and (not filters.brand or entry.brand == filters.brand)
        and (not (size or colour) or entry.fits(size, colour))
    ]
    page = max(1, page)
    wanted = page * PAGE_SIZE + 1  # this page, and one more to know there is a next
    if filters.here_only:
        chosen, here, total = _on_the_shelf(store, matched, filters, wanted)
        chosen = chosen[(page - 1) * PAGE_SIZE :]
    else:
        chosen, total = matched[(page - 1) * PAGE_SIZE : wanted], len(matched)
        shown = [v.id for e in chosen[:PAGE_SIZE] for v in e.variants if _fits(v, filters)]
        here = _shelf(store, shown)
    hits = [
        Hit(e, sum(here.get(v.id, 0) for v in e.variants if _fits(v, filters)))
        for e in chosen[:PAGE_SIZE]
    ]
    return SearchPage(query, hits, page, len(chosen) > PAGE_SIZE, total)


def matching_positions(index: CatalogIndex, terms: list[str]) -> set[int]:
    """Positions of the products every word matches."""
    positions = index.positions(terms[0])
    for term in terms[1:]:
        if not positions:
            break
        positions &= index.positions(term)
    return positions


def _fits(variant: VariantEntry, filters: Filters) -> bool:
    return (not filters.size or variant.size == filters.size) and (
        not filters.colour or variant.colour == filters.colour
    )


SHELF_CHUNK = 120  # products whose shelf is read at once


def _on_the_shelf(store: Store, matched: list[ProductEntry], filters: Filters, wanted: int):
    """The first `wanted` matching products with units on the shelf, read a chunk of
    products at a time; the total is known only when every chunk was read."""
    chosen, here = [], {}
    for start in range(0, len(matched), SHELF_CHUNK):
        chunk = matched[start : start + SHELF_CHUNK]
        here.update(_shelf(store, [v.id for e in chunk for v in e.variants if _fits(v, filters)]))
        chosen += [
            e for e in chunk if any(here.get(v.id, 0) for v in e.variants if _fits(v, filters))
        ]
        if len(chosen) >= wanted:
            return chosen[:wanted], here, None
    return chosen, here, len(chosen)


def _shelf(store: Store, variant_ids: list[int]) -> dict[int, int]:
    """Units available (on hand − reserved − safety stock) on the store's shelf."""
    locations, _hours = network()
    shelf = next((pk for pk, loc in locations.items() if loc.store_id == store.pk), None)
    if not variant_ids or shelf is None:
        return {}
    with connection.cursor() as cursor:
        # One array parameter (not one per SKU): the page's shelf in one index look-up.
        if connection.vendor == "postgresql":
            cursor.execute(SHELF_SQL.format(ids="= ANY(%s)"), [shelf, variant_ids])
        else:
            marks = ", ".join(["%s"] * len(variant_ids))
            cursor.execute(SHELF_SQL.format(ids=f"IN ({marks})"), [shelf, *variant_ids])
        rows = cursor.fetchall()
    return {v: max(0, on_hand - reserved - safety) for v, on_hand, reserved, safety in rows}


SHELF_SQL = (
    "SELECT variant_id, on_hand, reserved, safety_stock FROM inventory_stocklevel"
    " WHERE location_id = %s AND variant_id {ids}"
)


def search_options() -> CatalogIndex:
    """What the filters offer (categories, brands, sizes, colours)."""
    return catalog_index()


# --- One product across the network ----------------------------------------------


@dataclass
class Source:
    code: str
    name: str
    kind: str
    available: int
    distance_km: float | None = None  # from this store
    ready_here: dt.datetime | None = None  # ready for pickup in this store, if sent here
    delivered_by: dt.date | None = None  # at an address in this store's country


@dataclass
class VariantAvailability:
    variant: VariantEntry
    here: int
    ready_here: dt.datetime | None  # from the shelf, or the soonest transfer
    stores: list[Source] = field(default_factory=list)  # nearest first, with stock
    dcs: list[Source] = field(default_factory=list)
    suppliers: list[Source] = field(default_factory=list)
    network: int = 0  # units any location could give an order
    promise: PlanLine | None = None  # one unit collected here: from where, when, why

    @property
    def orderable(self) -> bool:
        return self.here > 0 or self.network > 0


def product_by_style(style_code: str) -> ProductEntry | None:
    return catalog_index().by_style.get(style_code)


def product_availability(
    *, product: ProductEntry, store: Store, now: dt.datetime | None = None
) -> list[VariantAvailability]:
    """Every variant of the product: on this shelf, the promise for one unit collected
    here (`plan_sourcing`, as the cart, the kiosk and the API make it), the nearby
    stores (within HQ's distance), the DCs and suppliers, and when each could reach the
    customer (one stock query)."""
    now = whole_minute(now or timezone.now())  # as promises are made
    snapshot = load_snapshot([v.id for v in product.variants])
    locations = snapshot.locations
    here = next((loc for loc in locations.values() if loc.store_id == store.pk), None)
    takes_pickups = store.pickup_enabled and store.is_open
    within = nearby_km()
    journeys: dict[int, tuple] = {}  # location id -> (ready here, home delivery day, km)

    def journey(loc) -> tuple:
        if loc.pk not in journeys:
            ready = None
            if takes_pickups and loc.kind != LocationKind.SUPPLIER:
                ready, _leg = promise.transfer_ready(
                    loc, store, now=now, hours=snapshot.hours, known=snapshot.carriers
                )
            delivered = None
            if loc.kind != LocationKind.STORE or loc.ships_to_customers:
                leg = promise.home_leg(
                    loc,
                    country=store.country,
                    now=now,
                    hours=snapshot.hours,
                    known=snapshot.carriers,
                )
                delivered = leg.arrives if leg else None
            km = None
            if None not in (store.latitude, loc.latitude):
                km = round(
                    distance_km(store.latitude, store.longitude, loc.latitude, loc.longitude), 1
                )
            journeys[loc.pk] = (ready, delivered, km)
        return journeys[loc.pk]

    result = []
    for variant in product.variants:
        row = VariantAvailability(
            variant=variant,
            here=snapshot.at(here.pk, variant.id) if here else 0,
            ready_here=None,
        )
        for loc in locations.values():
            available = snapshot.at(loc.pk, variant.id)
            if available <= 0 or (here is not None and loc.pk == here.pk):
                continue
            ready, delivered, km = journey(loc)
            source = Source(loc.code, loc.name, loc.kind, available, km, ready, delivered)
            if loc.kind == LocationKind.SUPPLIER:
                # Suppliers ship to the customer (drop-ship), never to a store.
                source.ready_here = None
                row.suppliers.append(source)
            elif loc.kind == LocationKind.DC:
                row.dcs.append(source)
            elif km is not None and km <= within:
                row.stores.append(source)
            if loc.sellable_online or loc.kind == LocationKind.STORE:
                row.network += available
        row.stores.sort(key=lambda s: (s.distance_km, s.code))
        row.stores = row.stores[:NEARBY_STORES]
        row.dcs.sort(key=lambda s: s.code)
        row.suppliers.sort(key=lambda s: (s.delivered_by, s.code))
        if takes_pickups:
            plan = plan_sourcing(
                SourcingRequest(method=Method.PICKUP, lines={variant.id: 1}, store=store, now=now),
                snapshot,
            )
            if plan.complete and plan.lines:
                row.promise = plan.lines[0]
                row.ready_here = row.promise.ready_by
        result.append(row)
    return result
