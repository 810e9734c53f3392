"""Slot computation (`clienteling.appointments.slots`): opening hours, time zones, a
daylight-saving change, breaks, leave, qualification, bookings with buffers,
capacity, and a fixed number of queries for a week."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clienteling.appointments import services
from clienteling.models import Appointment, WorkingException
from retail.models import StoreClosure
from tests import factories
from tests.clienteling.factories import TopicFactory, associate_at, offer, skilled

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2030, 3, 4)  # a Monday; Europe moves its clocks on Sunday 31 March 2030
BEFORE = dt.datetime(2030, 3, 1, 12, tzinfo=dt.UTC)  # "now": before every slot here


def starts(found):
    return [s.start for s in found]


def local(day, hour, minute=0, tz=PARIS):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


@pytest.fixture
def topic(store):
    return offer(TopicFactory(code="fitting", minutes=60), store)


def test_slots_fill_the_overlap_of_opening_and_working_hours(store, topic):
    associate_at(store, starts=(8, 0), ends=(12, 0))  # the store opens at 9

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=1, now=BEFORE)

    assert starts(found) == [local(MONDAY, 9), local(MONDAY, 10), local(MONDAY, 11)]
    assert all(s.end - s.start == dt.timedelta(minutes=60) for s in found)
    assert [s.available for s in found] == [1, 1, 1]


def test_slots_never_run_past_closing_time(store):
    topic = offer(TopicFactory(code="styling", minutes=90), store)
    associate_at(store, weekdays=[6], starts=(9, 0), ends=(20, 0))  # Sunday: 9 to 17

    sunday = MONDAY + dt.timedelta(days=6)
    found = services.store_slots(store=store, topic=topic, first_day=sunday, days=1, now=BEFORE)

    assert found[-1].start == local(sunday, 15, 0)
    assert found[-1].end == local(sunday, 16, 30)  # 16:30 to 18:00 would pass 17:00
    assert len(found) == 5


def test_times_are_the_store_s_own_in_any_time_zone(db):
    new_york = factories.StoreFactory(code="NY1", time_zone="America/New_York")
    shanghai = factories.StoreFactory(code="SH1", time_zone="Asia/Shanghai")
    topic = offer(TopicFactory(code="demo", minutes=60), new_york, shanghai)
    associate_at(new_york, starts=(9, 0), ends=(10, 0))
    associate_at(shanghai, starts=(9, 0), ends=(10, 0))

    ny = services.store_slots(store=new_york, topic=topic, first_day=MONDAY, days=1, now=BEFORE)
    sh = services.store_slots(store=shanghai, topic=topic, first_day=MONDAY, days=1, now=BEFORE)

    assert [s.start.isoformat() for s in ny] == ["2030-03-04T09:00:00-05:00"]
    assert [s.start.isoformat() for s in sh] == ["2030-03-04T09:00:00+08:00"]
    assert ny[0].start.astimezone(dt.UTC).hour == 14
    assert sh[0].start.astimezone(dt.UTC).hour == 1


def test_a_daylight_saving_change_keeps_wall_clock_times(store, topic):
    associate_at(store, starts=(10, 0), ends=(11, 0))
    saturday = dt.date(2030, 3, 30)  # clocks go forward in the night of Sunday 31

    found = services.store_slots(store=store, topic=topic, first_day=saturday, days=3, now=BEFORE)

    assert [s.start.strftime("%a %H:%M") for s in found] == ["Sat 10:00", "Sun 10:00", "Mon 10:00"]
    assert [s.start.utcoffset() for s in found] == [
        dt.timedelta(hours=1),
        dt.timedelta(hours=2),
        dt.timedelta(hours=2),
    ]
    assert [s.start.astimezone(dt.UTC).hour for s in found] == [9, 8, 8]


def test_a_break_takes_its_slots_away(store, topic):
    associate_at(store, starts=(9, 0), ends=(14, 0), pause=((11, 30), (12, 30)))

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=1, now=BEFORE)

    # 11:00-12:00 and 12:00-13:00 meet the break; 13:00 is free again.
    assert [s.start.hour for s in found] == [9, 10, 13]


def test_leave_and_a_training_afternoon_take_their_days_and_hours(store, topic):
    ann = associate_at(store, starts=(9, 0), ends=(12, 0))
    WorkingException.objects.create(
        associate=ann, kind="leave", starts_on=MONDAY, ends_on=MONDAY + dt.timedelta(days=1)
    )
    WorkingException.objects.create(
        associate=ann,
        kind="training",
        starts_on=MONDAY + dt.timedelta(days=2),
        ends_on=MONDAY + dt.timedelta(days=2),
        starts=dt.time(10, 30),
        ends=dt.time(12, 0),
    )

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=4, now=BEFORE)

    assert [(s.start.date() - MONDAY).days for s in found] == [2, 3, 3, 3]
    assert found[0].start == local(MONDAY + dt.timedelta(days=2), 9)


def test_a_closure_day_has_no_slots(store, topic):
    associate_at(store, starts=(9, 0), ends=(11, 0))
    StoreClosure.objects.create(store=store, date=MONDAY, reason="Inventory day")

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=2, now=BEFORE)

    assert {s.start.date() for s in found} == {MONDAY + dt.timedelta(days=1)}


def test_a_closed_store_has_no_slots(store, topic):
    associate_at(store, starts=(9, 0), ends=(11, 0))
    store.is_open = False
    store.save(update_fields=["is_open"])

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=7, now=BEFORE)

    assert found == []


def test_capacity_counts_the_free_qualified_associates(store, topic):
    associate_at(store, starts=(9, 0), ends=(11, 0))
    associate_at(store, starts=(9, 0), ends=(11, 0))
    associate_at(store, starts=(10, 0), ends=(11, 0))

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=1, now=BEFORE)

    assert [(s.start.hour, s.available) for s in found] == [(9, 2), (10, 3)]


def test_only_associates_with_the_skill_count(store):
    skill = factories.SkillFactory()
    topic = offer(TopicFactory(code="tailoring", minutes=60, skill=skill, level=2), store)
    expert = associate_at(store, starts=(9, 0), ends=(10, 0))
    novice = associate_at(store, starts=(9, 0), ends=(10, 0))
    associate_at(store, starts=(9, 0), ends=(10, 0))  # no level at all
    skilled(expert, skill, 3)
    skilled(novice, skill, 1)

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=1, now=BEFORE)

    assert [(s.start.hour, s.associate_ids) for s in found] == [(9, (expert.pk,))]


def test_bookings_and_their_buffer_keep_the_associate_busy(store):
    topic = offer(TopicFactory(code="fitting", minutes=60, buffer_minutes=15), store)
    ann = associate_at(store, starts=(9, 0), ends=(14, 0))
    start = local(MONDAY, 10)
    Appointment.objects.create(
        appointment_ref="A-1",
        customer=factories.CustomerFactory(),
        store=store,
        topic=topic,
        associate=ann,
        start=start,
        end=start + dt.timedelta(hours=1),
        busy_until=start + dt.timedelta(minutes=75),
        code="ABCDEF",
        source="api",
    )

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=1, now=BEFORE)

    # 9:00 needs its own buffer to 10:15 (meets the booking); 11:00 meets the booking's
    # buffer (to 11:15); 12:00 and 13:00 are free.
    assert [s.start.hour for s in found] == [12, 13]


def test_a_cancelled_booking_frees_its_time(store, topic):
    ann = associate_at(store, starts=(9, 0), ends=(10, 0))
    start = local(MONDAY, 9)
    Appointment.objects.create(
        appointment_ref="A-1",
        customer=factories.CustomerFactory(),
        store=store,
        topic=topic,
        associate=ann,
        start=start,
        end=start + dt.timedelta(hours=1),
        busy_until=start + dt.timedelta(hours=1),
        code="ABCDEF",
        source="api",
        state="cancelled",
    )

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=1, now=BEFORE)

    assert starts(found) == [start]


def test_only_future_slots_are_listed(store, topic):
    associate_at(store, starts=(9, 0), ends=(12, 0))
    now = local(MONDAY, 10, 30).astimezone(dt.UTC)

    found = services.store_slots(store=store, topic=topic, first_day=MONDAY, days=1, now=now)

    assert starts(found) == [local(MONDAY, 11)]


def _week_queries(store, topic):
    with CaptureQueriesContext(connection) as captured:
        services.store_slots(store=store, topic=topic, first_day=MONDAY, days=7, now=BEFORE)
    return len(captured)


def test_a_week_of_slots_takes_a_fixed_number_of_queries(store):
    skill = factories.SkillFactory()
    topic = offer(TopicFactory(code="tailoring", minutes=30, skill=skill, level=1), store)
    first = associate_at(store, starts=(9, 0), ends=(17, 0), pause=((12, 0), (13, 0)))
    skilled(first, skill, 2)
    few = _week_queries(store, topic)

    for n in range(6):
        person = associate_at(store, starts=(9, 0), ends=(17, 0), pause=((12, 0), (13, 0)))
        skilled(person, skill, 2)
        WorkingException.objects.create(
            associate=person, kind="leave", starts_on=MONDAY, ends_on=MONDAY
        )
        start = local(MONDAY + dt.timedelta(days=n % 7), 10)
        Appointment.objects.create(
            appointment_ref=f"A-{n}",
            customer=factories.CustomerFactory(),
            store=store,
            topic=topic,
            associate=person,
            start=start,
            end=start + dt.timedelta(minutes=30),
            busy_until=start + dt.timedelta(minutes=30),
            code=f"ABC{n:03d}",  # open appointments' codes are unique at a store
            source="api",
        )
    many = _week_queries(store, topic)

    assert few == many <= 6
