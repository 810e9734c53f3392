"""Availability across the network, as the online channel asks for it.

A fixed number of queries whatever the number of SKUs and locations: the
variants, the active locations (with their stores and opening hours) and the
stock rows of those SKUs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from inventory.models import LocationKind
from inventory.sourcing import PICK_TIME, RECEIVE_TIME, load_snapshot
from retail.hours import ready_moment
from retail.models import Variant

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
    plus when one unit can be ready for pickup there (within its opening hours).
    """
    now = now or timezone.now()
    skus = list(dict.fromkeys(skus))
    variants = {
        v.sku: v.pk for v in Variant.objects.filter(sku__in=skus, active=True).only("pk", "sku")
    }
    unknown = [sku for sku in skus if sku not in variants]
    if unknown:
        raise UnknownSkus(unknown)
    snapshot = load_snapshot(variants.values())
    # Plain values per location, read once (model attribute access is the slow part).
    meta = {
        loc.pk: (loc.code, loc.kind, loc.sellable_online, loc.offers_pickup, loc.lead_time_days)
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

    ready_cache: dict = {}
    result = []
    for sku in skus:
        stock = by_variant.get(variants[sku], {})
        listed, total = [], 0
        for location_id, available in stock.items():
            code, kind, online, pickup, _lead = meta[location_id]
            if online:
                total += available
            if (available > 0 and online) or (here is not None and location_id == here.pk):
                listed.append(
                    {"location": code, "kind": kind, "available": available, "pickup": pickup}
                )
        if here is not None and here.pk not in stock:
            code, kind, _online, pickup, _lead = meta[here.pk]
            listed.append({"location": code, "kind": kind, "available": 0, "pickup": pickup})
        listed.sort(key=lambda item: (item["kind"] != "store", item["location"]))
        entry = {"sku": sku, "available": total, "locations": listed}
        if here is not None:
            entry["pickup"] = _pickup(
                here, stock, meta, snapshot.hours.get(here.store_id, {}), now, ready_cache
            )
        result.append(entry)
    return {"skus": result}


def _pickup(here, stock: dict[int, int], meta, hours, now, ready_cache: dict) -> dict:
    """How this SKU reaches the customer at `here`: its shelf, or a transfer.
    `ready_cache` keeps the ready time per lead time within one request."""
    store = here.store
    on_shelf = stock.get(here.pk, 0)
    senders = [
        location_id
        for location_id, available in stock.items()
        if available > 0
        and location_id != here.pk
        and meta[location_id][1] in (LocationKind.DC, LocationKind.STORE)
    ]
    by_transfer = sum(stock[location_id] for location_id in senders)
    ready = None
    if store.pickup_enabled and store.is_open:
        lead = 0 if on_shelf > 0 else min((meta[i][4] for i in senders), default=None)
        if lead is not None:
            if lead not in ready_cache:
                ready_cache[lead] = (
                    ready_moment(store, now, PICK_TIME, hours)
                    if lead == 0
                    else ready_moment(store, now + dt.timedelta(days=lead), RECEIVE_TIME, hours)
                )
            ready = ready_cache[lead]
    return {
        "store": here.code,
        "available_here": on_shelf,
        "available_by_transfer": by_transfer,
        "ready_by": ready.isoformat() if ready else None,
    }
