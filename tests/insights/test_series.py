"""Revenue over time (`insights.series`): by day up to 62 days, by month beyond, adding
up to `kpis.revenue` (the history of conftest.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from insights import kpis, rollups, series


def test_a_short_period_is_bucketed_by_local_day(world):
    rollups.refresh(full=True)
    scope = kpis.Scope(dt.date(2026, 11, 30), dt.date(2026, 12, 3))
    data = series.revenue_by_channel(scope)
    assert data.unit == series.DAY
    assert data.buckets == [dt.date(2026, 11, 30) + dt.timedelta(days=n) for n in range(4)]
    # 1 Dec: O1 170 (Shanghai) + O2 30 (New York); 2 Dec: O9 30; web: O3 90 + O4 80
    # on 2 Dec, O7 50 less O3's 30 refunded on 3 Dec; app: O5 expired, 0.
    assert list(data.values) == ["web", "app", "store"]
    assert data.values["store"] == [D("0"), D("200.00"), D("30.00"), D("0")]
    assert data.values["web"] == [D("0"), D("0"), D("170.00"), D("20.00")]
    assert data.totals() == [D("0"), D("200.00"), D("200.00"), D("20.00")]


def test_a_long_period_is_bucketed_by_month_and_adds_up_to_the_kpi(world):
    rollups.refresh(full=True)
    scope = kpis.Scope(dt.date(2026, 5, 15), dt.date(2026, 12, 3))
    data = series.revenue_by_channel(scope)
    assert data.unit == series.MONTH
    assert data.buckets[0] == dt.date(2026, 5, 1) and data.buckets[-1] == dt.date(2026, 12, 1)
    assert len(data.buckets) == 8
    # June: gina's O8 (web, 50); November: frank's O6 (store, NY, 80).
    june, november = data.buckets.index(dt.date(2026, 6, 1)), 6
    assert data.values["web"][june] == D("50.00")
    assert data.values["store"][november] == D("80.00")
    by_channel = kpis.revenue(scope)["by_channel"]
    for channel, values in data.values.items():
        assert sum(values, D("0")) == by_channel[channel], channel


def test_one_store_and_one_channel(world):
    rollups.refresh(full=True)
    scope = kpis.Scope(dt.date(2026, 12, 1), dt.date(2026, 12, 3), store=world.sh, channel="web")
    data = series.revenue_by_channel(scope)
    assert data.values == {"web": [D("0"), D("80.00"), D("0")]}  # O4, collected at SH
