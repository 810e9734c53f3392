"""The customer's sizes inferred from what they bought and kept, by category.

`infer` is a pure function over purchase lines; `purchase_lines` reads them (one
query). The rule, for each category (a size-less "One Size" item says nothing):

- every unit kept (bought, not cancelled, not returned) votes for its size; the size
  with the most votes wins, the most recent purchase breaking a tie;
- a size that came back while another size of the *same product* was kept is an
  exchange for size: the returned size is not theirs (it is listed as "not"), and the
  kept size gets one extra vote for each such exchange.

Return reasons belong to the returns app, above clienteling; exchanges of the same
product are the signal this layer can see (`OrderLine.returned_quantity`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from orders.models import OrderLine, OrderStatus
from retail.models import Customer

ONE_SIZE = {"", "one size", "os"}


@dataclass(frozen=True)
class Bought:
    category: str
    product_id: int
    size: str
    quantity: int
    returned: int = 0
    at: dt.datetime | None = None

    @property
    def kept(self) -> int:
        return max(0, self.quantity - self.returned)


@dataclass
class InferredSize:
    category: str
    size: str
    units: int  # units kept in that size
    others: list[str] = field(default_factory=list)  # other sizes kept, most first
    not_theirs: list[str] = field(default_factory=list)  # sizes exchanged for another


def infer(lines: Iterable[Bought]) -> list[InferredSize]:
    """Each category's size (see the module's rule), by category name."""
    votes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    kept_units: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latest: dict[tuple[str, str], dt.datetime] = {}
    by_product: dict[tuple[str, int], list[Bought]] = defaultdict(list)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    for line in lines:
        if line.size.strip().lower() in ONE_SIZE:
            continue
        by_product[(line.category, line.product_id)].append(line)
        if line.kept:
            votes[line.category][line.size] += line.kept
            kept_units[line.category][line.size] += line.kept
            key = (line.category, line.size)
            latest[key] = max(latest.get(key, epoch), line.at or epoch)
    not_theirs: dict[str, set[str]] = defaultdict(set)
    for (category, _product), rows in by_product.items():
        kept = {r.size for r in rows if r.kept}
        for row in rows:
            if row.returned and row.size not in kept and kept:
                not_theirs[category].add(row.size)
                for size in kept:
                    votes[category][size] += 1
    out = []
    for category in sorted(votes):
        ranked = sorted(
            votes[category],
            key=lambda size: (-votes[category][size], -latest[(category, size)].timestamp(), size),
        )
        ranked = [s for s in ranked if s not in not_theirs[category]] or ranked
        out.append(
            InferredSize(
                category=category,
                size=ranked[0],
                units=kept_units[category][ranked[0]],
                others=ranked[1:],
                not_theirs=sorted(not_theirs[category] - set(ranked[:1])),
            )
        )
    return out


def purchase_lines(customer: Customer, *, limit: int = 500) -> list[Bought]:
    """The customer's purchase lines of every channel (newest first, at most `limit`),
    cancelled units left out. One query."""
    rows = (
        OrderLine.objects.filter(order__customer=customer)
        .exclude(order__status=OrderStatus.CANCELLED)
        .order_by("-order__created_at", "-pk")
        .values_list(
            "variant__product__category__name",
            "variant__product_id",
            "variant__size",
            "quantity",
            "cancelled_quantity",
            "returned_quantity",
            "order__created_at",
        )[:limit]
    )
    return [
        Bought(category or "", product, size or "", max(0, qty - cancelled), returned, at)
        for category, product, size, qty, cancelled, returned, at in rows
    ]


def customer_sizes(customer: Customer) -> list[InferredSize]:
    return infer(purchase_lines(customer))
