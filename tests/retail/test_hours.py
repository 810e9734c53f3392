"""Opening hours: the next open moment and when work done in opening hours ends."""

import datetime as dt

import pytest

from retail.hours import next_open_moment, ready_moment
from tests import factories

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def paris(db):
    # Paris: 09:00–20:00 Monday to Saturday, 09:00–17:00 on Sunday (factory hours).
    return factories.StoreFactory(code="P01", time_zone="Europe/Paris")


def test_open_now_is_now(paris):
    monday_noon = dt.datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 12:00 in Paris
    assert next_open_moment(paris, monday_noon) == monday_noon


def test_before_opening_is_the_opening_in_store_time(paris):
    early = dt.datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 06:00 in Paris
    assert next_open_moment(paris, early) == dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_closed_day_is_skipped(paris):
    from retail.models import OpeningHours

    OpeningHours.objects.filter(store=paris, weekday=6).delete()  # closed on Sundays
    saturday_night = dt.datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
    assert next_open_moment(paris, saturday_night) == dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_work_runs_over_into_the_next_opening(paris):
    late = dt.datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 19:30 in Paris, closes 20:00
    done = ready_moment(paris, late, dt.timedelta(hours=2))
    assert done == dt.datetime(2026, 11, 24, 9, 30, tzinfo=UTC)  # 10:30 next morning


def test_a_store_without_hours_or_closed_never_opens(paris):
    paris.is_open = False
    assert next_open_moment(paris, dt.datetime(2026, 11, 23, 11, 0, tzinfo=UTC)) is None
