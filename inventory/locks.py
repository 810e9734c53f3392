"""Row locks, taken in one fixed order (by pk) so that nothing deadlocks.

Every service that changes stock figures locks its `StockLevel` rows here
first; availability is checked only while the lock is held. Bookings lock the
associates whose time they take (`staff_for_update`) the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import Q

from inventory.models import StockLevel
from retail.models import User

Key = tuple[int, int]  # (location_id, variant_id)


def stock_levels_for_update(keys: Iterable[Key]) -> dict[Key, StockLevel]:
    """Lock (creating when missing) the stock rows for these (location, variant)
    pairs, in pk order, and return them by key. Must run inside a transaction."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    condition = reduce(or_, (Q(location_id=loc, variant_id=var) for loc, var in keys))
    existing = set(StockLevel.objects.filter(condition).values_list("location_id", "variant_id"))
    missing = [
        StockLevel(location_id=loc, variant_id=var)
        for loc, var in keys
        if (loc, var) not in existing
    ]
    if missing:
        StockLevel.objects.bulk_create(missing, ignore_conflicts=True)
    rows = (
        StockLevel.objects.filter(condition)
        .select_related("variant", "location")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    return {(row.location_id, row.variant_id): row for row in rows}


def stock_levels_at_for_update(
    location_id: int, variant_ids: Iterable[int]
) -> dict[int, StockLevel]:
    """The same for many SKUs at one location (a feed's batch of thousands of lines,
    where one `IN` list reads better than thousands of OR-ed pairs), by variant id."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = StockLevel.objects.filter(location_id=location_id, variant_id__in=ids)
    existing = set(rows.values_list("variant_id", flat=True))
    missing = [StockLevel(location_id=location_id, variant_id=v) for v in ids if v not in existing]
    if missing:
        StockLevel.objects.bulk_create(missing, ignore_conflicts=True)
    locked = (
        rows.select_related("variant", "location").order_by("pk").select_for_update(of=("self",))
    )
    return {row.variant_id: row for row in locked}


def staff_for_update(user_ids: Iterable[int]) -> list[int]:
    """Lock staff accounts' rows in pk order and return the ids locked: a booking
    (`clienteling.appointments`) locks every associate it might assign, then checks
    who is free while the lock is held, so one associate is never booked twice for
    the same time. Must run inside a transaction."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    return list(
        User.objects.filter(pk__in=ids)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
