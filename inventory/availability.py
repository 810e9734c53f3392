"""Availability across the network, as the online channel asks for it.

A fixed number of queries whatever the number of SKUs and locations: the
variants, the active locations (with their stores and opening hours) and the
stock rows of those SKUs.
"""

from __future__ import annotations

import math
from collections import defaultdict

from django.utils import timezone

from inventory.models import LocationKind
from inventory.sourcing import (
    load_snapshot_of_skus,
    nearness,
    pickup_promise,
)

MAX_SKUS = 50


class UnknownSkus(Exception):
    def __init__(self, skus):
        self.skus = sorted(set(skus))
        super().__init__(", ".join(self.skus))


class UnknownStore(Exception):
    pass


def network_availability(skus: list[str], store_code: str | None = None, now=None) -> dict:
    """What a pickup or delivery order can take now, per SKU and location.

    Every `available` is on hand − reserved − safety stock, never below 0. Lists the
    online-sellable locations with stock and, with `store_code`, that store always,
    plus when one unit can be ready for pickup there: the promise `plan_sourcing`
    makes for it (as the tablet, the cart and the kiosk show it). With a store, the
    locations are ranked as sourcing ranks them for it: the promised source first,
    then in the store's country before abroad, nearest first.
    """
    now = now or timezone.now()
    skus = list(dict.fromkeys(skus))
    variants, snapshot = load_snapshot_of_skus(skus)
    unknown = [sku for sku in skus if sku not in variants]
    if unknown:
        raise UnknownSkus(unknown)
    # Plain values per location, read once (model attribute access is the slow part).
    meta = {
        loc.pk: (loc.code, loc.kind, loc.sellable_online, loc.offers_pickup)
        for loc in snapshot.locations.values()
    }
    here = None
    if store_code is not None:
        here = next(
            (loc for loc in snapshot.locations.values() if loc.store_id and loc.code == store_code),
            None,
        )
        if here is None:
            raise UnknownStore(store_code)
    by_variant: dict[int, dict[int, int]] = defaultdict(dict)
    for (location_id, variant_id), available in snapshot.available.items():
        by_variant[variant_id][location_id] = available
    order = _ranking(here, snapshot) if here is not None else {}

    result = []
    for sku in skus:
        stock = by_variant.get(variants[sku], {})
        listed, total = [], 0
        for location_id, available in stock.items():
            code, kind, online, pickup = meta[location_id]
            if online:
                total += available
            if (available > 0 and online) or (here is not None and location_id == here.pk):
                listed.append(
                    {"location": code, "kind": kind, "available": available, "pickup": pickup}
                )
        if here is not None and here.pk not in stock:
            code, kind, _online, pickup = meta[here.pk]
            listed.append({"location": code, "kind": kind, "available": 0, "pickup": pickup})
        entry = {"sku": sku, "available": total, "locations": listed}
        if here is not None:
            pickup, source = _pickup(here, variants[sku], stock, meta, snapshot, now)
            entry["pickup"] = pickup
            listed.sort(
                key=lambda item: (item["location"] != source, order.get(item["location"], ()))
            )
        else:
            listed.sort(key=lambda item: (item["kind"] != "store", item["location"]))
        result.append(entry)
    return {"skus": result}


def _ranking(here, snapshot) -> dict[str, tuple]:
    """location code -> its rank for a pickup at `here`: this store, then the store's
    country before abroad, then nearest (by distance, else postcode area), then code.
    Kept with the process's journeys (it changes only with the network)."""
    key = ("ranking", here.pk)
    if key not in snapshot.memo:
        snapshot.memo[key] = _ranks(here, snapshot)
    return snapshot.memo[key]


def _ranks(here, snapshot) -> dict[str, tuple]:
    store = here.store
    ranks = {}
    for loc in snapshot.locations.values():
        km, same_area = nearness(loc, store.latitude, store.longitude, store.postcode)
        ranks[loc.code] = (
            loc.pk != here.pk,
            loc.country != store.country,
            km if km is not None else math.inf,
            not same_area,
            loc.code,
        )
    return ranks


def _pickup(here, variant_id: int, stock: dict[int, int], meta, snapshot, now) -> tuple:
    """How this SKU reaches the customer at `here` (its shelf, or a transfer), and the
    code of the location the promise takes it from."""
    store, here_pk = here.store, here.pk
    senders = [
        location_id
        for location_id, available in stock.items()
        if available > 0
        and location_id != here_pk
        and meta[location_id][1] in (LocationKind.DC, LocationKind.STORE)
    ]
    ready, source = None, None
    if store.pickup_enabled and store.is_open:
        ready, location = pickup_promise(store, variant_id, snapshot, now)
        source = location.code if location is not None else None
    pickup = {
        "store": here.code,
        "available_here": stock.get(here_pk, 0),
        "available_by_transfer": sum(stock[location_id] for location_id in senders),
        "ready_by": ready.isoformat() if ready else None,
    }
    return pickup, source
