"""What the customer-side appointment tests share: a Paris store open 9:00–20:00, a
topic it offers, a customer (no marketing consent) and a booking helper, on Monday
4 March 2030 at 07:00 store time (the tests travel there).

A test module imports the fixtures it uses by their `*_fixture` names."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clienteling.appointments import services
from tests import factories
from tests.clienteling.factories import TopicFactory, associate_at, offer

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2030, 3, 4)
NOW = dt.datetime(2030, 3, 4, 7, 0, tzinfo=PARIS)  # before the store opens


def at(hour, minute=0, day=MONDAY):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture(name="monday_morning")
def monday_morning_fixture():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(name="topic")
def topic_fixture(store):
    return offer(
        TopicFactory(code="fitting", name="Fitting", name_zh="试衣", minutes=60, set_aside=True),
        store,
    )


@pytest.fixture(name="customer")
def customer_fixture(db):
    return factories.CustomerFactory(
        customer_ref="WEB-C1", name="Mei Lin Chen", email="mei@example.com"
    )


@pytest.fixture(name="ann")
def ann_fixture(store):
    return associate_at(store, first_name="Ann", last_name="Lee-Smith")


def book(store, topic, customer, start, *, ref="WEB-A1", items=(), **kw):
    appointment, _created = services.appointment_book(
        appointment_ref=ref,
        customer=customer,
        store=store,
        topic=topic,
        start=start,
        items=items,
        source=kw.pop("source", "api"),
        fingerprint=kw.pop("fingerprint", "f1"),
        **kw,
    )
    return appointment
