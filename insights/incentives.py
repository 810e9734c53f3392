"""Incentives that count every channel.

An associate's figure for a period, from HQ's `IncentiveWeights` and the same
rollups as the `people` KPI (`AssociateDay`):

    figure = own store sales credited × own-store %
           + online sales credited (attributed) × online %
           + pickups handed over × amount per pickup
           + follow-ups converted × amount per follow-up
           − (store credit reversed × own-store % + online credit reversed × online %)
             × returns-deducted %

A cancellation or a return reverses part of a credit (`clienteling.attribution`);
the deduction takes back what that credit earned, at the rate it earned it (scaled by
the returns weight). A follow-up is converted when its customer ordered within the
journey window after it was done. Money to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum

from insights.models import AssociateDay, IncentiveWeights

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass
class Incentive:
    associate_id: int
    email: str
    store: str
    parts: dict[str, dict] = field(default_factory=dict)  # name -> {"basis", "weight", "amount"}
    total: Decimal = Decimal("0.00")


def _amount(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def incentives(
    scope, *, associate=None, weights: IncentiveWeights | None = None
) -> list[Incentive]:
    """Each associate's figure in the scope (per store they worked in), with its
    make-up; one associate only with `associate`. Two queries."""
    weights = weights or IncentiveWeights.current()
    q = Q(day__gte=scope.start, day__lte=scope.end)
    if scope.store is not None:
        q &= Q(store=scope.store)
    if associate is not None:
        q &= Q(associate=associate)
    rows = (
        AssociateDay.objects.filter(q)
        .values("associate_id", "associate__email", "store__code")
        .annotate(
            credited_store=Sum("credited_store"),
            credited_online=Sum("credited_online"),
            reversed_store=Sum("reversed_store"),
            reversed_online=Sum("reversed_online"),
            pickups=Sum("pickups_handed"),
            followups=Sum("followups_converted"),
        )
        .order_by("store__code", "associate__email")
    )
    result = []
    for row in rows:
        own = weights.own_store_sales / HUNDRED
        online = weights.attributed_online / HUNDRED
        deducted = weights.returns_deducted / HUNDRED
        parts = {
            "own_store_sales": (
                row["credited_store"],
                weights.own_store_sales,
                row["credited_store"] * own,
            ),
            "attributed_online": (
                row["credited_online"],
                weights.attributed_online,
                row["credited_online"] * online,
            ),
            "pickups_handed": (
                row["pickups"],
                weights.pickup_handed,
                row["pickups"] * weights.pickup_handed,
            ),
            "followups_converted": (
                row["followups"],
                weights.followup_converted,
                row["followups"] * weights.followup_converted,
            ),
            "returns_deducted": (
                row["reversed_store"] + row["reversed_online"],
                weights.returns_deducted,
                -(row["reversed_store"] * own + row["reversed_online"] * online) * deducted,
            ),
        }
        item = Incentive(row["associate_id"], row["associate__email"], row["store__code"])
        for name, (basis, weight, amount) in parts.items():
            item.parts[name] = {"basis": basis, "weight": weight, "amount": _amount(amount)}
        item.total = sum((p["amount"] for p in item.parts.values()), Decimal("0.00"))
        result.append(item)
    return result


def by_store(items: list[Incentive]) -> dict[str, Decimal]:
    """The team totals per store (a manager's view; HQ's is every store)."""
    totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for item in items:
        totals[item.store] += item.total
    return dict(sorted(totals.items()))
