"""Recompute every stock figure from the ledger and report drift."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from inventory.models import StockLevel, StockMovement


@dataclass(frozen=True)
class Drift:
    location: str
    sku: str
    on_hand: int
    ledger_on_hand: int
    reserved: int
    ledger_reserved: int


def ledger_drift() -> list[Drift]:
    """Every (location, SKU) whose figures differ from the sum of its ledger rows."""
    sums = {
        (row["location_id"], row["variant_id"]): (row["on_hand"] or 0, row["reserved"] or 0)
        for row in StockMovement.objects.values("location_id", "variant_id")
        .order_by()
        .annotate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    }
    drift = []
    seen = set()
    levels = StockLevel.objects.values_list(
        "location_id", "variant_id", "location__code", "variant__sku", "on_hand", "reserved"
    )
    for loc_id, var_id, code, sku, on_hand, reserved in levels.iterator(chunk_size=5000):
        key = (loc_id, var_id)
        seen.add(key)
        ledger_on_hand, ledger_reserved = sums.get(key, (0, 0))
        if (on_hand, reserved) != (ledger_on_hand, ledger_reserved):
            drift.append(Drift(code, sku, on_hand, ledger_on_hand, reserved, ledger_reserved))
    for key, (ledger_on_hand, ledger_reserved) in sums.items():
        if key not in seen and (ledger_on_hand or ledger_reserved):
            drift.append(Drift(str(key[0]), str(key[1]), 0, ledger_on_hand, 0, ledger_reserved))
    return drift
