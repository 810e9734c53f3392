"""The appointments KPI (`insights.kpis.appointments`) over real appointments and
orders: conversion, value per appointment, no-show rate and booking lead time per
store, and the dashboard's table."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clienteling.appointments import associate as tablet
from clienteling.appointments import services
from insights import kpis
from insights.dashboard.board import Dashboard
from tests import factories
from tests.clienteling.factories import TopicFactory, associate_at, offer, sale

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2030, 3, 4)


def at(hour, day=MONDAY):
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)


@pytest.fixture
def booked(store):
    """Four appointments on Monday, booked on the Saturday before (48 h ahead)."""
    topic = offer(TopicFactory(code="fitting", minutes=60), store)
    associate_at(store)
    associate_at(store)
    customers = [factories.CustomerFactory() for _ in range(4)]
    with time_machine.travel(at(10, MONDAY - dt.timedelta(days=2)), tick=False):
        rows = [
            services.appointment_book(
                appointment_ref=f"A-{n}",
                customer=customer,
                store=store,
                topic=topic,
                start=at(10 + n // 2 * 2),
                source="api",
                fingerprint=f"A-{n}",
            )[0]
            for n, customer in enumerate(customers)
        ]
    return rows


def test_conversion_value_no_shows_and_lead_time_per_store(store, booked, associate):
    bought, browsed, missed, cancelled = booked
    shirt = factories.VariantFactory(price=Decimal("80.00"))
    with time_machine.travel(at(10), tick=False):
        tablet.appointment_arrive(appointment=bought, by=associate)
        tablet.appointment_arrive(appointment=browsed, by=associate)
    with time_machine.travel(at(10, MONDAY) + dt.timedelta(minutes=40), tick=False):
        sale(bought.customer, shirt, store=store)
        tablet.appointment_complete(appointment=bought, by=associate)
        tablet.appointment_complete(appointment=browsed, by=associate)
    with time_machine.travel(at(12, MONDAY) + dt.timedelta(minutes=10), tick=False):
        tablet.appointment_no_show(appointment=missed, by=associate)
        services.appointment_cancel(appointment=cancelled, by=None, now=at(9))

    figures = kpis.appointments(kpis.Scope(MONDAY, MONDAY, store=store))

    assert figures["booked"] == 3  # the cancelled one left out
    assert (figures["completed"], figures["with_purchase"], figures["no_shows"]) == (2, 1, 1)
    assert figures["conversion"] == 0.5
    assert figures["value_per_appointment"] == Decimal("40.00")
    assert figures["no_show_rate"] == round(1 / 3, 4)
    assert figures["lead_time_hours"] == 48.0
    assert figures["by_store"]["S01"]["booked"] == 3
    assert (
        kpis.appointments(kpis.Scope(MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)))[
            "booked"
        ]
        == 0
    )


def test_the_store_dashboard_has_the_appointments_table(store, booked):
    board = Dashboard(
        kpis.Scope(MONDAY, MONDAY, store=store), network=False, store_names={"S01": store.name}
    )

    table = board.table("appointments")

    assert "appointments" in [t.key for t in board.tables()]
    assert table.rows == [
        ["S01", store.name, 4, 0, 0.0, Decimal("0.00"), 0.0, 49.0]
    ]  # 48, 48, 50, 50 h
