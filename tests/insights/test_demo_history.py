"""The demo's year of history (`insights.demo`): long and varied enough that every chart
has a real shape. The small demo is seeded once for the module, on a standing date."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Sum
from django.test import override_settings

from insights import demo
from insights.models import CustomerSummary, OrderDay
from insights.segments import SEGMENTS
from orders.models import Order, OrderLine, Payment, Refund
from retail.demo import DemoContext

# A Wednesday late in November: the history runs from 1 November 2025 to yesterday.
NOW = dt.datetime(2026, 11, 18, 11, 0, tzinfo=dt.UTC)
MONTHS = [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The small demo, seeded once; rolled back after the module's tests."""
    from django.conf import settings

    media, settings.MEDIA_ROOT = settings.MEDIA_ROOT, tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(NOW, tick=True), override_settings(AISLE_DEMO_HISTORY=True):
            out = io.StringIO()
            call_command("seed_demo", force=True, stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)
    settings.MEDIA_ROOT = media


def history():
    return Order.objects.filter(order_ref__startswith=demo.PREFIX)


def monthly_net() -> dict[tuple[int, int], dict[str, Decimal]]:
    months: dict = defaultdict(lambda: defaultdict(lambda: Decimal("0.00")))
    for day, channel, net in OrderDay.objects.values_list("day", "channel", "net"):
        months[(day.year, day.month)][channel] += net
    return months


@pytest.mark.django_db
def test_every_segment_has_members(seeded):
    counts = dict(
        CustomerSummary.objects.values_list("segment")
        .annotate(n=Count("pk"))
        .values_list("segment", "n")
    )

    assert {segment for segment in SEGMENTS if counts.get(segment, 0) > 0} == set(SEGMENTS)
    assert "rollups rebuilt in" in seeded


@pytest.mark.django_db
def test_every_month_of_the_year_has_revenue_in_several_channels(seeded):
    months = monthly_net()

    for month in MONTHS:
        earning = {channel for channel, net in months[month].items() if net > 0}
        assert len(earning) >= 2, (month, earning)
    everywhere = set().union(*(months[m] for m in MONTHS))
    assert {"store", "kiosk", "web", "app", "social"} <= everywhere


@pytest.mark.django_db
def test_december_peaks_and_summer_dips(seeded):
    totals = {month: sum(channels.values()) for month, channels in monthly_net().items()}

    assert totals[(2025, 12)] > totals[(2026, 7)] * Decimal("1.5")
    assert totals[(2025, 12)] > totals[(2026, 8)]
    assert totals[(2026, 1)] > totals[(2026, 2)]  # the January sale


@pytest.mark.django_db
def test_stores_are_busier_at_the_weekend(seeded):
    by_weekday: dict[int, int] = defaultdict(int)
    for day, orders in OrderDay.objects.filter(channel="store").values_list("day", "orders"):
        by_weekday[day.weekday()] += orders

    assert by_weekday[5] > by_weekday[1] * 1.3  # Saturday against Tuesday


@pytest.mark.django_db
def test_returns_come_with_several_reasons_boris_and_exchanges(seeded):
    from returns.models import Return, ReturnLine

    returns = Return.objects.filter(return_ref__startswith=demo.PREFIX, state="completed")
    reasons = set(ReturnLine.objects.filter(ret__in=returns).values_list("reason", flat=True))
    dispositions = set(
        ReturnLine.objects.filter(ret__in=returns).values_list("disposition", flat=True)
    )

    assert len(reasons) >= 5
    assert len(dispositions) >= 3
    boris = returns.filter(order__channel__in=("web", "app", "social"), started_via="counter")
    assert boris.exists()
    assert returns.filter(exchange_order__isnull=False).exists()
    assert returns.filter(refund_to="store_credit").exists()


@pytest.mark.django_db
def test_history_rows_are_consistent(seeded):
    orders = history()
    assert orders.count() > 1000
    # Every order's total is its lines; what was paid is its total.
    lines = dict(
        OrderLine.objects.filter(order__in=orders)
        .values("order_id")
        .annotate(t=Sum("line_total"))
        .values_list("order_id", "t")
    )
    paid = dict(
        Payment.objects.filter(order__in=orders)
        .values("order_id")
        .annotate(t=Sum("amount"))
        .values_list("order_id", "t")
    )
    refunded = dict(
        Refund.objects.filter(order__in=orders)
        .values("order_id")
        .annotate(t=Sum("amount"))
        .values_list("order_id", "t")
    )
    for pk, total in orders.values_list("pk", "total"):
        assert lines[pk] == total
        assert paid[pk] == total
        assert refunded.get(pk, 0) <= paid[pk]
    # Cancelled and expired orders kept nothing and got their money back.
    cancelled = orders.filter(status="cancelled")
    assert cancelled.exists()
    assert not OrderLine.objects.filter(order__in=cancelled).exclude(
        cancelled_quantity=F("quantity")
    )
    assert not cancelled.exclude(pk__in=Refund.objects.values("order_id"))
    # Nothing is in the future; nothing is left open.
    assert not orders.filter(created_at__gte=NOW)
    assert not orders.filter(status="open")
    assert not Refund.objects.filter(order__in=orders, at__gte=NOW)


@pytest.mark.django_db
def test_history_moves_no_stock(seeded):
    from inventory.models import StockMovement
    from returns.models import Return

    lines = OrderLine.objects.filter(order__in=history()).values_list("pk", flat=True)
    refs = [f"order_line:{pk}" for pk in lines]
    returns = Return.objects.filter(return_ref__startswith=demo.PREFIX).values_list("pk", flat=True)
    refs += [f"return:{pk}" for pk in returns]
    moved = StockMovement.objects.filter(source__in=refs)

    assert not moved.exists()


@pytest.mark.django_db
def test_kpis_for_the_year_are_all_non_zero(seeded):
    out = io.StringIO()
    call_command("kpis", "--from", "2025-11-18", "--to", "2026-11-17", stdout=out)
    doc = json.loads(out.getvalue())

    def non_zero(value) -> bool:
        if isinstance(value, dict):
            return any(non_zero(v) for v in value.values())
        if isinstance(value, list):
            return any(non_zero(v) for v in value)
        if isinstance(value, str):
            try:
                return Decimal(value) != 0
            except ArithmeticError:
                return False
        return isinstance(value, int | float) and not isinstance(value, bool) and value != 0

    skipped = {"period", "store", "currency"}
    for name, value in doc.items():
        if name not in skipped:
            assert non_zero(value), name
    assert all(doc["segments"][s] > 0 for s in doc["segments"])
    assert Decimal(doc["returns"]["refunded"]) > 0
    assert len(doc["revenue"]["by_store"]) == 5
    assert doc["webrooming"]["webroomed_orders"] > 0
    assert doc["showrooming"]["showroomed_orders"] > 0
    fulfilment = doc["fulfilment"]
    assert any(s["ready_hours_p50"] for s in fulfilment.values())
    assert any(s["no_show_rate"] for s in fulfilment.values())
    assert any(s["ship_hours_p50"] for s in fulfilment.values())


@pytest.mark.django_db
def test_a_second_run_writes_no_history_again(seeded, monkeypatch, settings):
    settings.AISLE_DEMO_HISTORY = True
    monkeypatch.setattr(demo, "_refresh", lambda ctx: None)
    monkeypatch.setattr(demo, "_tallies", lambda ctx: None)
    before = history().count()

    with time_machine.travel(NOW, tick=True):
        demo.seed(DemoContext(scale="small", stdout=io.StringIO()))

    assert history().count() == before
