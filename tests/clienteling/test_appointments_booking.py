"""Booking services (`clienteling.appointments.services`): who gets the appointment,
each refusal with its reason and nothing written, idempotency, set-asides through the
stock ledger (reserved, released on cancel, at the end, and once when a till sale
needs the units), cancelling and reassigning."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clienteling.appointments import services
from clienteling.appointments.services import AppointmentError, SetAsideInput
from clienteling.models import (
    Appointment,
    AppointmentEvent,
    SetAside,
    WorkingException,
)
from inventory import services as stock
from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.services import StockRequest
from retail.models import OutboxEntry
from tests import factories
from tests.clienteling.factories import TopicFactory, associate_at, offer, skilled

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2030, 3, 4)
NOW = dt.datetime(2030, 3, 4, 7, 0, tzinfo=PARIS)  # Monday, before the store opens


def at(hour, minute=0, day=MONDAY):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def topic(store):
    return offer(TopicFactory(code="fitting", minutes=60, set_aside=True), store)


@pytest.fixture
def customer(db):
    return factories.CustomerFactory(customer_ref="WEB-C1", marketing_consent=False)


@pytest.fixture
def shelf(store):
    return factories.store_location(store)


def book(store, topic, customer, start, *, ref="WEB-A1", items=(), fingerprint="f1", **kw):
    appointment, _created = services.appointment_book(
        appointment_ref=ref,
        customer=customer,
        store=store,
        topic=topic,
        start=start,
        items=items,
        source="api",
        fingerprint=fingerprint,
        **kw,
    )
    return appointment


def nothing_written():
    return (
        Appointment.objects.count(),
        AppointmentEvent.objects.count(),
        SetAside.objects.count(),
        StockMovement.objects.filter(kind=MovementKind.RESERVATION).count(),
    ) == (0, 0, 0, 0)


def test_a_booking_goes_to_the_free_associate_with_fewest_appointments_that_day(
    store, topic, customer
):
    busy = associate_at(store)
    idle = associate_at(store)
    book(store, topic, customer, at(9), ref="A-0")  # the lower id, busy, gets the first
    assert Appointment.objects.get(appointment_ref="A-0").associate == busy

    appointment = book(store, topic, customer, at(11), ref="A-1")

    assert appointment.associate == idle
    assert appointment.state == "booked"
    assert (appointment.start, appointment.end) == (at(11), at(12))
    assert len(appointment.code) == 6
    assert list(appointment.events.values_list("kind", "to_state")) == [
        ("appointment_booked", "booked")
    ]


def test_a_customer_without_marketing_consent_can_book(store, topic, customer):
    associate_at(store)
    assert customer.marketing_consent is False

    assert book(store, topic, customer, at(10)).state == "booked"


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        (at(6), "in_the_past"),
        (at(8), "outside_opening_hours"),
        (at(19, 30), "outside_opening_hours"),  # would end after 20:00
        (at(9, 30), "not_a_slot_start"),
        (at(12), "during_break"),
        (at(16), "no_associate"),  # the associate has gone home
        (at(10, day=MONDAY + dt.timedelta(days=1)), "no_associate"),  # on leave
        (at(10, day=MONDAY + dt.timedelta(days=400)), "too_far"),
    ],
)
def test_a_start_that_is_not_bookable_is_refused_with_its_reason(
    store, topic, customer, start, reason
):
    ann = associate_at(store, starts=(9, 0), ends=(16, 0), pause=((12, 0), (13, 0)))
    tuesday = MONDAY + dt.timedelta(days=1)
    WorkingException.objects.create(associate=ann, kind="leave", starts_on=tuesday, ends_on=tuesday)

    with pytest.raises(AppointmentError) as refused:
        book(store, topic, customer, start)

    assert (refused.value.code, refused.value.extra["reason"]) == ("slot_unavailable", reason)
    assert refused.value.status == 409
    assert nothing_written()


def test_a_taken_slot_is_refused(store, topic, customer):
    associate_at(store)
    book(store, topic, customer, at(10), ref="A-0")

    with pytest.raises(AppointmentError) as refused:
        book(store, topic, customer, at(10), ref="A-1")

    assert refused.value.extra["reason"] == "taken"
    assert Appointment.objects.count() == 1


def test_a_topic_the_store_does_not_offer_is_refused(store, other_store, customer):
    associate_at(store)
    elsewhere = offer(TopicFactory(code="alterations"), other_store)

    with pytest.raises(AppointmentError) as refused:
        book(store, elsewhere, customer, at(10))

    assert refused.value.code == "validation_error"
    assert "topic" in refused.value.extra["errors"]
    assert nothing_written()


def test_an_unknown_customer_is_refused(store, topic):
    associate_at(store)

    with pytest.raises(AppointmentError) as refused:
        book(store, topic, None, at(10))

    assert refused.value.extra["errors"].keys() == {"customer_ref"}
    assert nothing_written()


def test_an_associate_without_the_skill_is_never_assigned(store, customer):
    skill = factories.SkillFactory()
    topic = offer(TopicFactory(code="tailoring", skill=skill, level=2), store)
    associate_at(store)  # no level

    with pytest.raises(AppointmentError) as refused:
        book(store, topic, customer, at(10))

    assert refused.value.extra["reason"] == "no_associate"
    expert = associate_at(store)
    skilled(expert, skill, 2)
    assert book(store, topic, customer, at(10)).associate == expert


def test_the_same_ref_is_idempotent_and_another_body_conflicts(store, topic, customer):
    associate_at(store)
    first = book(store, topic, customer, at(10), fingerprint="same")

    again, created = services.appointment_book(
        appointment_ref="WEB-A1",
        customer=customer,
        store=store,
        topic=topic,
        start=at(10),
        source="api",
        fingerprint="same",
    )
    assert (again, created) == (first, False)
    with pytest.raises(AppointmentError) as refused:
        book(store, topic, customer, at(11), fingerprint="other")
    assert refused.value.code == "appointment_ref_conflict"
    assert Appointment.objects.count() == 1


# --- Set-asides --------------------------------------------------------------------------


def test_set_asides_are_reserved_through_the_ledger_and_released_on_cancel(
    store, topic, customer, shelf, assert_ledger_reconciles
):
    associate_at(store)
    jumper, scarf = factories.VariantFactory(sku="JUMPER-M"), factories.VariantFactory(sku="SCARF")
    factories.give_stock(shelf, jumper, 3)
    factories.give_stock(shelf, scarf, 1)

    appointment = book(
        store,
        topic,
        customer,
        at(10),
        items=[SetAsideInput(jumper, 2), SetAsideInput(scarf, 1)],
    )

    assert StockLevel.objects.get(location=shelf, variant=jumper).reserved == 2
    assert StockLevel.objects.get(location=shelf, variant=scarf).reserved == 1
    reservations = StockMovement.objects.filter(kind=MovementKind.RESERVATION)
    assert sorted(reservations.values_list("quantity", flat=True)) == [1, 2]
    assert set(appointment.set_asides.values_list("state", flat=True)) == {"held"}

    services.appointment_cancel(appointment=appointment, by=None)

    assert StockLevel.objects.get(location=shelf, variant=jumper).reserved == 0
    assert StockLevel.objects.get(location=shelf, variant=scarf).reserved == 0
    assert set(appointment.set_asides.values_list("state", flat=True)) == {"released"}
    appointment.refresh_from_db()
    assert appointment.state == "cancelled"
    # Cancelling again changes nothing and releases nothing twice.
    services.appointment_cancel(appointment=appointment, by=None)
    assert StockMovement.objects.filter(kind=MovementKind.RELEASE).count() == 2
    assert_ledger_reconciles()


def test_a_sku_the_store_cannot_hold_books_nothing(store, topic, customer, shelf):
    associate_at(store)
    jumper, scarf = factories.VariantFactory(sku="JUMPER-M"), factories.VariantFactory(sku="SCARF")
    factories.give_stock(shelf, jumper, 5)

    with pytest.raises(AppointmentError) as refused:
        book(store, topic, customer, at(10), items=[SetAsideInput(jumper), SetAsideInput(scarf)])

    assert (refused.value.code, refused.value.extra["skus"]) == ("insufficient_stock", ["SCARF"])
    assert nothing_written()
    assert StockLevel.objects.get(location=shelf, variant=jumper).reserved == 0


def test_a_topic_without_set_asides_refuses_items(store, customer, shelf):
    associate_at(store)
    topic = offer(TopicFactory(code="demo", set_aside=False), store)
    jumper = factories.VariantFactory()
    factories.give_stock(shelf, jumper, 5)

    with pytest.raises(AppointmentError) as refused:
        book(store, topic, customer, at(10), items=[SetAsideInput(jumper)])

    assert refused.value.extra["errors"].keys() == {"skus"}
    assert nothing_written()


def test_set_asides_go_back_once_the_appointment_has_ended(
    store, topic, customer, shelf, assert_ledger_reconciles
):
    associate_at(store)
    jumper = factories.VariantFactory()
    factories.give_stock(shelf, jumper, 2)
    appointment = book(store, topic, customer, at(10), items=[SetAsideInput(jumper, 2)])

    assert services.appointments_release_ended() == 0  # not over yet
    with time_machine.travel(at(11, 1), tick=False):
        assert services.appointments_release_ended() == 1
        assert services.appointments_release_ended() == 0

    level = StockLevel.objects.get(location=shelf, variant=jumper)
    assert (level.on_hand, level.reserved) == (2, 0)
    assert appointment.set_asides.get().state == "released"
    assert appointment.events.filter(kind="set_aside_released").count() == 1
    assert_ledger_reconciles()


def test_a_till_sale_taking_set_aside_units_releases_them_exactly_once(
    store, topic, customer, shelf, assert_ledger_reconciles
):
    associate_at(store)
    jumper = factories.VariantFactory()
    factories.give_stock(shelf, jumper, 2)
    appointment = book(store, topic, customer, at(10), items=[SetAsideInput(jumper, 2)])

    stock.stock_sell(
        requests=[StockRequest(shelf.pk, jumper.pk, 1, "till")], by=None, from_reserved=False
    )

    level = StockLevel.objects.get(location=shelf, variant=jumper)
    assert (level.on_hand, level.reserved) == (1, 0)
    assert appointment.set_asides.get().state == "released"
    # Cancelling afterwards releases nothing a second time (reserved never below zero).
    services.appointment_cancel(appointment=appointment, by=None)
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (1, 0)
    assert StockMovement.objects.filter(kind=MovementKind.RELEASE).count() == 1
    assert_ledger_reconciles()


def test_a_count_below_the_set_aside_units_releases_them(
    store, topic, customer, shelf, assert_ledger_reconciles
):
    associate_at(store)
    jumper = factories.VariantFactory()
    factories.give_stock(shelf, jumper, 3)
    appointment = book(store, topic, customer, at(10), items=[SetAsideInput(jumper, 1)])

    stock.stock_count(location=shelf, variant=jumper, counted=0, by=None)

    assert appointment.set_asides.get().state == "released"
    level = StockLevel.objects.get(location=shelf, variant=jumper)
    assert (level.on_hand, level.reserved) == (0, 0)
    assert_ledger_reconciles()


# --- Cancelling, finishing, reassigning ---------------------------------------------------


def test_an_appointment_cannot_be_cancelled_once_it_started(store, topic, customer):
    associate_at(store)
    appointment = book(store, topic, customer, at(10))

    with time_machine.travel(at(10, 5), tick=False), pytest.raises(AppointmentError) as refused:
        services.appointment_cancel(appointment=appointment, by=None)

    assert refused.value.code == "not_cancellable"
    appointment.refresh_from_db()
    assert appointment.state == "booked"


def test_a_cancelled_slot_can_be_booked_again(store, topic, customer):
    associate_at(store)
    appointment = book(store, topic, customer, at(10), ref="A-0")
    services.appointment_cancel(appointment=appointment, by=None)

    assert book(store, topic, customer, at(10), ref="A-1").state == "booked"


def test_finishing_records_the_outcome_and_releases_set_asides(store, topic, customer, shelf):
    associate_at(store)
    jumper = factories.VariantFactory()
    factories.give_stock(shelf, jumper, 1)
    appointment = book(store, topic, customer, at(10), items=[SetAsideInput(jumper)])

    services.appointment_finish(appointment=appointment, outcome="no_show", by=None)

    appointment.refresh_from_db()
    assert appointment.state == "no_show"
    assert StockLevel.objects.get(location=shelf, variant=jumper).reserved == 0


def test_a_manager_reassigns_to_a_qualified_free_associate_only(store, customer, manager):
    skill = factories.SkillFactory()
    topic = offer(TopicFactory(code="tailoring", skill=skill, level=2), store)
    first, second = associate_at(store), associate_at(store)
    novice = associate_at(store)
    skilled(first, skill, 2)
    skilled(second, skill, 3)
    appointment = book(store, topic, customer, at(10))
    assert appointment.associate == first

    with pytest.raises(AppointmentError) as refused:
        services.appointment_reassign(appointment=appointment, associate=novice, by=manager)
    assert refused.value.code == "not_qualified"
    with pytest.raises(AppointmentError) as refused:
        services.appointment_reassign(appointment=appointment, associate=second, by=first)
    assert refused.value.code == "permission_denied"

    services.appointment_reassign(appointment=appointment, associate=second, by=manager)

    appointment.refresh_from_db()
    assert appointment.associate == second
    assert appointment.events.filter(kind="appointment_reassigned", by=manager).exists()


def test_a_reassignment_to_a_busy_associate_is_refused(store, topic, customer, manager):
    first, second = associate_at(store), associate_at(store)
    mine = book(store, topic, customer, at(10), ref="A-0")
    theirs = book(store, topic, customer, at(10), ref="A-1")
    assert {mine.associate, theirs.associate} == {first, second}

    with pytest.raises(AppointmentError) as refused:
        services.appointment_reassign(appointment=mine, associate=theirs.associate, by=manager)

    assert (refused.value.code, refused.value.extra["reason"]) == ("associate_unavailable", "busy")


def test_a_booking_records_its_domain_event_in_the_outbox(store, topic, customer):
    associate_at(store)

    appointment = book(store, topic, customer, at(10))

    entry = OutboxEntry.objects.get(name="appointment_changed")
    assert entry.payload["appointment_ref"] == appointment.appointment_ref
    assert entry.payload["event"] == "appointment_booked"
