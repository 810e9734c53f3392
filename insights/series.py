"""Figures over time, for the dashboards' charts: read from the rollups in a fixed
number of queries, bucketed by day for a period of up to `DAILY_UP_TO_DAYS` days and by
calendar month beyond.

The numbers add up to the KPI functions': the sum of a channel's buckets is
`kpis.revenue(scope)["by_channel"][channel]`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from insights.dates import CHANNELS
from insights.models import OrderDay, RefundDay

ZERO = Decimal("0.00")
DAILY_UP_TO_DAYS = 62
DAY, MONTH = "day", "month"


@dataclass
class Series:
    """`buckets`: the first day of each bucket, every bucket of the period (empty ones
    too); `values[channel][i]`: the channel's figure in bucket i."""

    unit: str
    buckets: list[dt.date]
    values: dict[str, list[Decimal]] = field(default_factory=dict)

    def totals(self) -> list[Decimal]:
        return [sum((v[i] for v in self.values.values()), ZERO) for i in range(len(self.buckets))]


def bucket_unit(start: dt.date, end: dt.date) -> str:
    return DAY if (end - start).days < DAILY_UP_TO_DAYS else MONTH


def buckets(start: dt.date, end: dt.date, unit: str) -> list[dt.date]:
    if unit == DAY:
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    result, month = [], start.replace(day=1)
    while month <= end:
        result.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return result


def revenue_by_channel(scope) -> Series:
    """Net revenue by channel of the order per bucket: Σ `OrderDay.net` of the bucket's
    days less Σ `RefundDay.amount` of refunds for returns paid on them — the
    definition of `kpis.revenue`, day by day. Two queries."""
    unit = bucket_unit(scope.start, scope.end)
    days = buckets(scope.start, scope.end, unit)
    index = {day: i for i, day in enumerate(days)}
    values: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * len(days))
    for model, measure, extra in (
        (OrderDay, "net", {}),
        (RefundDay, "amount", {"from_return": True}),
    ):
        rows = model.objects.filter(scope.days(), **extra)
        key = "day"
        if unit == MONTH:
            rows = rows.annotate(bucket=TruncMonth("day"))
            key = "bucket"
        sign = 1 if model is OrderDay else -1
        for bucket, channel, amount in (
            rows.values(key, "channel")
            .annotate(total=Sum(measure))
            .values_list(key, "channel", "total")
        ):
            values[channel][index[_as_date(bucket)]] += sign * (amount or ZERO)
    ordered = {c: values[c] for c in CHANNELS if c in values}
    ordered.update({c: v for c, v in sorted(values.items()) if c not in ordered})
    return Series(unit, days, ordered)


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
