"""Availability across the network, as the online channel asks for it.

A fixed number of queries whatever the number of SKUs and locations: the
variants, the active locations (with their stores and opening hours) and the
stock rows of those SKUs.
"""

from __future__ import annotations

import datetime as dt

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
    locations = sorted(snapshot.locations.values(), key=lambda loc: (loc.kind != "store", loc.code))
    here = None
    if store_code is not None:
        here = next((loc for loc in locations if loc.store_id and loc.code == store_code), None)
        if here is None:
            raise UnknownStore(store_code)

    result = []
    for sku in skus:
        variant_id = variants[sku]
        listed, total = [], 0
        for loc in locations:
            available = snapshot.at(loc.pk, variant_id)
            if loc.sellable_online:
                total += available
            if (available > 0 and loc.sellable_online) or loc is here:
                listed.append(
                    {
                        "location": loc.code,
                        "kind": loc.kind,
                        "available": available,
                        "pickup": loc.offers_pickup,
                    }
                )
        entry = {"sku": sku, "available": total, "locations": listed}
        if here is not None:
            entry["pickup"] = _pickup(here, variant_id, snapshot, locations, now)
        result.append(entry)
    return {"skus": result}


def _pickup(here, variant_id, snapshot, locations, now) -> dict:
    store = here.store
    hours = snapshot.hours.get(store.pk, {})
    on_shelf = snapshot.at(here.pk, variant_id)
    senders = [
        loc
        for loc in locations
        if loc.pk != here.pk
        and loc.kind in (LocationKind.DC, LocationKind.STORE)
        and snapshot.at(loc.pk, variant_id) > 0
    ]
    by_transfer = sum(snapshot.at(loc.pk, variant_id) for loc in senders)
    ready = None
    if store.pickup_enabled and store.is_open:
        if on_shelf > 0:
            ready = ready_moment(store, now, PICK_TIME, hours)
        elif senders:
            fastest = min(loc.lead_time_days for loc in senders)
            ready = ready_moment(store, now + dt.timedelta(days=fastest), RECEIVE_TIME, hours)
    return {
        "store": here.code,
        "available_here": on_shelf,
        "available_by_transfer": by_transfer,
        "ready_by": ready.isoformat() if ready else None,
    }
