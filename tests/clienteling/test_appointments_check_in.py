"""Checking in for an appointment at the kiosk (`appointment_check_in`): by code or QR,
only at its store, on the day from half an hour before until the end; the associate
is told (a follow-up task), the change's webhook and history recorded; wrong codes are
limited per kiosk; an open appointment's code is unique at its store."""

import json

import pytest
import time_machine
from django.db import IntegrityError, transaction

from clienteling.appointments import services
from clienteling.appointments.services import AppointmentError
from clienteling.models import Appointment, FollowUpTask
from retail.api_clients import api_client_create
from retail.models import LimitHit, WebhookDelivery
from tests import factories
from tests.clienteling.appointment_world import (  # noqa: F401 (fixtures)
    MONDAY,
    ann_fixture,
    at,
    book,
    customer_fixture,
    monday_morning_fixture,
    topic_fixture,
)

pytestmark = pytest.mark.usefixtures("monday_morning")


@pytest.fixture
def booked(store, topic, customer, ann):
    return book(store, topic, customer, at(10))


def check_in(store, text, *, when=None, by=None):
    with time_machine.travel(when or at(9, 45), tick=False):
        return services.appointment_check_in(store=store, text=text, by=by)


def snapshot(appointment):
    appointment.refresh_from_db()
    return appointment.state, appointment.checked_in_at, FollowUpTask.objects.count()


def test_checking_in_by_code_tells_the_associate_and_the_webhook(store, booked, ann, kiosk_user):
    api_client_create(name="site", scopes=["appointments:read"], webhook_url="https://s.example/h")

    appointment = check_in(store, f" {booked.code.lower()} ", by=kiosk_user)

    assert appointment.state == "checked_in" and appointment.checked_in_at == at(9, 45)
    event = appointment.events.get(kind="appointment_checked_in")
    assert (event.from_state, event.to_state, event.by) == ("booked", "checked_in", kiosk_user)
    task = FollowUpTask.objects.get()
    assert task.assigned_to == ann and task.customer == booked.customer
    assert task.due_on == MONDAY and "Checked in" in task.title and "10:00" in task.title
    delivery = WebhookDelivery.objects.get(event="appointment_checked_in")
    assert json.loads(delivery.body)["appointment"]["state"] == "checked_in"
    # Checking in again (a double tap): nothing more.
    assert check_in(store, booked.code, when=at(9, 50)).checked_in_at == at(9, 45)
    assert FollowUpTask.objects.count() == 1
    assert appointment.events.filter(kind="appointment_checked_in").count() == 1


def test_checking_in_by_the_qr_code_from_the_email(store, booked):
    appointment = check_in(store, services.qr_payload(booked))

    assert appointment.state == "checked_in"


@pytest.mark.parametrize(
    ("when", "code", "words"),
    [
        (at(10, day=MONDAY.replace(day=3)), "too_early", "on the day"),  # the day before
        (at(9, 29), "too_early", "check in from 09:30"),
        (at(11), "too_late", "has passed"),
    ],
)
def test_checking_in_outside_the_window_is_refused(store, booked, when, code, words):
    before = snapshot(booked)

    with pytest.raises(AppointmentError) as refused:
        check_in(store, booked.code, when=when)

    assert refused.value.code == code and words in refused.value.detail
    assert snapshot(booked) == before
    assert not LimitHit.objects.exists()  # the right code, at the wrong time: no guess


def test_the_window_opens_half_an_hour_before_and_lasts_until_the_end(store, booked):
    assert check_in(store, booked.code, when=at(9, 30)).state == "checked_in"


def test_another_stores_kiosk_cannot_check_in_the_appointment(store, other_store, booked):
    before = snapshot(booked)

    with pytest.raises(AppointmentError) as by_qr:
        check_in(other_store, services.qr_payload(booked))
    with pytest.raises(AppointmentError) as by_code:
        check_in(other_store, booked.code)

    assert by_qr.value.code == "not_here" and "Paris Rivoli" in by_qr.value.detail
    assert by_code.value.code == "wrong_code"  # a code names nothing elsewhere
    assert snapshot(booked) == before


def test_a_cancelled_appointment_and_an_altered_qr_are_refused(store, booked):
    payload = services.qr_payload(booked)
    altered = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    with pytest.raises(AppointmentError) as refused:
        check_in(store, altered)
    assert refused.value.code == "wrong_code" and "altered" in refused.value.detail

    services.appointment_cancel(appointment=booked, by=None)
    with pytest.raises(AppointmentError) as cancelled:
        check_in(store, payload)
    assert cancelled.value.code == "not_checkable"
    with pytest.raises(AppointmentError) as by_code:
        check_in(store, booked.code)
    assert by_code.value.code == "wrong_code"  # a cancelled code is free for another
    booked.refresh_from_db()
    assert booked.state == "cancelled"


def test_wrong_codes_are_limited_per_kiosk(store, booked, kiosk_user, settings):
    settings.AISLE_APPOINTMENT_DEVICE_GUESSES = 3
    other_kiosk = factories.StaffFactory(role="kiosk", home_store=store)
    wrong = "XXXXXX" if booked.code != "XXXXXX" else "YYYYYY"
    for _ in range(3):
        with pytest.raises(AppointmentError) as refused:
            check_in(store, wrong, by=kiosk_user)
        assert refused.value.code == "wrong_code" and refused.value.status == 400

    with pytest.raises(AppointmentError) as limited:
        check_in(store, booked.code, by=kiosk_user)  # even the right code now

    assert (limited.value.code, limited.value.status) == ("too_many_codes", 429)
    assert snapshot(booked)[0] == "booked"
    assert check_in(store, booked.code, by=other_kiosk).state == "checked_in"


def test_an_empty_code_is_refused_with_what_to_do(store, booked):
    with pytest.raises(AppointmentError) as refused:
        check_in(store, "  ")
    assert refused.value.status == 400 and "Type your appointment code" in str(
        refused.value.extra["errors"]["code"]
    )


def test_an_open_appointments_code_is_unique_at_its_store(store, other_store, booked, topic):
    codes = {services._free_code(store) for _ in range(50)}
    assert booked.code not in codes and not any(code.isdigit() for code in codes)

    twin = Appointment.objects.get(pk=booked.pk)
    twin.pk, twin.appointment_ref = None, "WEB-TWIN"
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()  # same store, same code, both open
    twin.pk, twin.store = None, other_store
    twin.save()  # another store may hold it
    services.appointment_cancel(appointment=booked, by=None)
    twin.pk, twin.store, twin.appointment_ref = None, store, "WEB-TWIN-2"
    twin.save()  # a cancelled appointment's code is free again
    assert Appointment.objects.filter(code=booked.code).count() == 3


@pytest.mark.parametrize(
    ("text", "appointment"),
    [
        ("AISLEAPT1:1:ACDEFG:0123456789abcdef0123", True),
        ("acd efg", True),
        ("346797", False),  # six digits: a pickup code
        ("WEB-347", False),  # an order reference
        ("AISLE1:1:123456:0123456789abcdef0123", False),  # a pickup's QR
    ],
)
def test_the_kiosk_tells_an_appointment_from_a_pickup(text, appointment):
    assert services.looks_like_appointment(text) is appointment


def test_checking_in_at_the_kiosk_starts_the_assigned_associates_selling_session(
    store, booked, ann
):
    from clienteling.models import SellingSession

    check_in(store, booked.code)
    check_in(store, booked.code, when=at(9, 50))  # again: still one session

    session = SellingSession.objects.get()
    assert (session.associate, session.customer, session.store) == (ann, booked.customer, store)
