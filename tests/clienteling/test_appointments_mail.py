"""The customer's appointment e-mails (`clienteling.appointments.mail`): the confirmation
with the store's time, address, code, QR, signed link and calendar file; the same on a
move and a cancellation; the thank-you with the rating link; the reminder the day
before inside the store's hours, once. All are service e-mails: sent without marketing
consent, with nothing promotional."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from clienteling.appointments import ics, links, services
from clienteling.appointments import mail as appointment_mail
from clienteling.models import Appointment
from retail.models import OutboundMessage, StoreClosure
from tests.clienteling.appointment_world import (  # noqa: F401 (fixtures)
    MONDAY,
    NOW,
    PARIS,
    ann_fixture,
    at,
    book,
    customer_fixture,
    monday_morning_fixture,
    topic_fixture,
)

pytestmark = pytest.mark.usefixtures("monday_morning")
WEDNESDAY = MONDAY + dt.timedelta(days=2)


def calendar_file(email) -> str:
    _name, content, mimetype = next(a for a in email.attachments if a[0].endswith(".ics"))
    assert mimetype.startswith("text/calendar")
    return content.decode() if isinstance(content, bytes) else content


def test_a_booking_is_confirmed_by_email_with_store_time_address_code_qr_link_and_calendar(
    store, topic, customer, ann, django_capture_on_commit_callbacks
):
    store.address_line1 = "12, Rue de Rivoli; Bât. B"
    store.save()
    assert customer.marketing_consent is False  # a service e-mail all the same

    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(store, topic, customer, at(10))

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["mei@example.com"]
    assert "10:00" in email.subject and store.name in email.subject
    body = email.body
    # 10:00 in Paris is 09:00 UTC: the e-mail speaks the store's time.
    assert "10:00 to 11:00 (store time, Europe/Paris)" in body and "09:00" not in body
    assert "12, Rue de Rivoli; Bât. B" in body and "75001 Paris" in body
    assert "What: Fitting" in body
    assert "With: Ann" in body and "Lee-Smith" not in body
    assert f"Your check-in code: {appointment.code}" in body
    assert "unsubscribe" not in body.lower() and "List-Unsubscribe" not in email.extra_headers
    token = re.search(r"/appointment/([^/\s]+)/", body)[1]
    assert links.load(token, links.Purpose.MANAGE) == appointment
    html = email.alternatives[0][0]
    assert "<svg" in html and appointment.code in html
    png = next(a for a in email.attachments if a[0].endswith(".png"))
    assert png[1].startswith(b"\x89PNG")

    text = calendar_file(email)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF line endings only
    lines = text.split("\r\n")
    assert "UID:WEB-A1" in lines
    assert "DTSTART:20300304T090000Z" in lines and "DTEND:20300304T100000Z" in lines
    assert "SUMMARY:Fitting at Paris Rivoli" in lines
    unfolded = text.replace("\r\n ", "")
    assert "LOCATION:Paris Rivoli\\, 12\\, Rue de Rivoli\\; Bât. B\\, 75001 Paris" in unfolded
    assert all(len(line.encode()) <= 75 for line in lines)

    message = OutboundMessage.objects.get(template="appointment_confirmation")
    assert message.key == f"appointment_booked:{appointment.pk}"
    assert [a["name"] for a in message.attachments] == [
        "appointment-WEB-A1.ics",
        "appointment-WEB-A1.png",
    ]
    # The event delivered again (a retry): still one e-mail.
    appointment_mail.appointment_mail(
        {"appointment_id": appointment.pk, "event": "appointment_booked", "event_id": 1}
    )
    assert OutboundMessage.objects.filter(template="appointment_confirmation").count() == 1


def test_a_chinese_speaking_customer_gets_the_topic_in_chinese(
    store, topic, customer, ann, django_capture_on_commit_callbacks
):
    customer.language = "zh-hans"
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        book(store, topic, customer, at(10))
    message = OutboundMessage.objects.get(template="appointment_confirmation")
    assert message.context["topic"] == "试衣"


def test_a_move_sends_the_new_time_with_the_same_calendar_entry_updated(
    store, topic, customer, ann, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(store, topic, customer, at(10))
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(appointment=appointment, start=at(14), by=None)

    moved = OutboundMessage.objects.get(template="appointment_confirmation", key__contains="resch")
    email = mail.outbox[-1]
    assert len(mail.outbox) == 2
    assert "moved" in email.subject and "14:00" in email.subject
    assert "14:00 to 15:00" in email.body
    lines = calendar_file(email).split("\r\n")
    assert "UID:WEB-A1" in lines and "SEQUENCE:1" in lines
    assert "DTSTART:20300304T130000Z" in lines
    event = appointment.events.get(kind="appointment_rescheduled")
    assert moved.key == f"appointment_rescheduled:{appointment.pk}:{event.pk}"


def test_a_cancellation_is_confirmed_and_removes_the_calendar_entry(
    store, topic, customer, ann, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(store, topic, customer, at(10))
        services.appointment_cancel(appointment=appointment, by=None)

    # Cancelled before its confirmation went: only the cancellation is sent.
    assert [m.template for m in OutboundMessage.objects.all()] == ["appointment_cancelled"]
    email = mail.outbox[0]
    assert "cancelled" in email.subject
    lines = calendar_file(email).split("\r\n")
    assert "METHOD:CANCEL" in lines and "STATUS:CANCELLED" in lines and "UID:WEB-A1" in lines


def test_a_completed_visit_gets_a_thank_you_with_a_signed_rating_link_a_no_show_none(
    store, topic, customer, ann, django_capture_on_commit_callbacks
):
    first = book(store, topic, customer, at(10))
    second = book(store, topic, customer, at(14), ref="WEB-A2")
    with time_machine.travel(at(11), tick=False), django_capture_on_commit_callbacks(execute=True):
        services.appointment_finish(appointment=first, outcome="completed", by=ann)
        services.appointment_finish(appointment=second, outcome="no_show", by=ann)

    thanks = OutboundMessage.objects.filter(template="appointment_thanks")
    assert [m.key for m in thanks] == [f"appointment_thanks:{first.pk}"]
    body = thanks.get().body
    token = re.search(r"/appointment/rate/([^/\s]+)/", body)[1]
    assert links.load(token, links.Purpose.RATE) == first
    assert links.load(token, links.Purpose.MANAGE) is None  # one kind cannot stand in


def test_the_calendar_file_escapes_text_and_folds_long_lines_without_splitting_characters():
    text = ics.calendar(
        uid="WEB-A1",
        start=at(10),
        end=at(11),
        summary="试衣 " * 40,
        location="A, B; C\\D\nE",
        stamp=NOW,
    )
    lines = text.split("\r\n")
    assert "LOCATION:A\\, B\\; C\\\\D\\nE" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    assert f"SUMMARY:{'试衣 ' * 40}" in text.replace("\r\n ", "").split("\r\n")


# --- The reminder the day before ----------------------------------------------------------


def remind_at(moment) -> int:
    with time_machine.travel(moment, tick=False):
        return appointment_mail.appointments_remind()


def test_the_reminder_goes_once_the_day_before_inside_the_stores_hours(
    store, topic, customer, ann, django_capture_on_commit_callbacks
):
    appointment = book(store, topic, customer, at(10, day=WEDNESDAY))
    tuesday = MONDAY + dt.timedelta(days=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert remind_at(at(12)) == 0  # two days before
        assert remind_at(at(8, 50, day=tuesday)) == 0  # the day before, not open yet
        assert remind_at(at(9, 0, day=tuesday)) == 1
        assert remind_at(at(9, 10, day=tuesday)) == 0  # once
        assert remind_at(at(19, 0, day=tuesday)) == 0

    reminders = OutboundMessage.objects.filter(template="appointment_reminder")
    assert reminders.count() == 1
    email = next(e for e in mail.outbox if "Reminder" in e.subject)
    assert "10:00" in email.subject and appointment.code in email.body
    assert "/appointment/" in email.body
    assert reminders.get().created_at.astimezone(PARIS) == at(9, 0, day=tuesday)


def test_no_reminder_after_closing_for_a_cancelled_or_same_day_booking(store, topic, customer, ann):
    cancelled = book(store, topic, customer, at(10, day=WEDNESDAY))
    services.appointment_cancel(appointment=cancelled, by=None)
    tuesday = MONDAY + dt.timedelta(days=1)
    late = book(store, topic, customer, at(12, day=WEDNESDAY), ref="WEB-A2")
    assert remind_at(at(20, 30, day=tuesday)) == 0  # closed: the window has passed
    with time_machine.travel(at(10, day=tuesday), tick=False):
        same_day = book(store, topic, customer, at(15, day=WEDNESDAY), ref="WEB-A3")
    assert remind_at(at(10, 30, day=tuesday)) == 1  # `late` only (its window is open)

    keys = set(OutboundMessage.objects.values_list("key", flat=True))
    assert appointment_mail.reminder_key(late) in keys
    assert appointment_mail.reminder_key(cancelled) not in keys
    assert appointment_mail.reminder_key(same_day) not in keys


def test_a_store_closed_the_day_before_reminds_on_its_last_opening_day(store, topic, customer, ann):
    tuesday = MONDAY + dt.timedelta(days=1)
    StoreClosure.objects.create(store=store, date=tuesday, reason="inventory")
    appointment = book(store, topic, customer, at(10, day=WEDNESDAY))

    assert remind_at(at(10, day=tuesday)) == 0
    assert remind_at(at(10)) == 1  # Monday, inside its hours
    assert OutboundMessage.objects.filter(key=appointment_mail.reminder_key(appointment)).exists()


def test_a_moved_appointment_is_reminded_of_its_new_time(store, topic, customer, ann):
    appointment = book(store, topic, customer, at(10, day=WEDNESDAY))
    tuesday = MONDAY + dt.timedelta(days=1)
    assert remind_at(at(9, day=tuesday)) == 1
    with time_machine.travel(at(9, 5, day=tuesday), tick=False):
        services.appointment_reschedule(
            appointment=Appointment.objects.get(pk=appointment.pk),
            start=at(10, day=WEDNESDAY + dt.timedelta(days=1)),
            by=None,
        )
    assert remind_at(at(9, 0, day=WEDNESDAY)) == 1
    assert OutboundMessage.objects.filter(template="appointment_reminder").count() == 2


def test_a_reassignment_tells_the_customer_the_new_associates_first_name_once(
    store, topic, customer, ann, manager, django_capture_on_commit_callbacks
):
    from tests.clienteling.factories import associate_at

    bo = associate_at(store, first_name="Bo", last_name="Westergaard")
    cy = associate_at(store, first_name="Cy", last_name="Okonkwo")
    appointment = book(store, topic, customer, at(10))
    assert appointment.associate == ann
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reassign(appointment=appointment, associate=bo, by=manager)
    with django_capture_on_commit_callbacks(execute=True):  # the same associate again
        services.appointment_reassign(appointment=appointment, associate=bo, by=manager)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["mei@example.com"] and "10:00" in email.subject
    assert "Bo now meets you" in email.body and "Westergaard" not in email.body
    assert "Fitting" in email.body and "10:00" in email.body
    assert appointment.code not in email.body  # nothing else changed: no new code
    # A delivery run twice sends nothing twice (one message per reassignment event).
    event = appointment.events.get(kind="appointment_reassigned")
    payload = {"appointment_id": appointment.pk, "event_id": event.pk}
    appointment_mail.appointment_mail({**payload, "event": "appointment_reassigned"})
    assert OutboundMessage.objects.filter(template="appointment_reassigned").count() == 1

    # Two reassignments delivered late: only the latest one speaks (no stale name).
    with django_capture_on_commit_callbacks(execute=False):
        services.appointment_reassign(appointment=appointment, associate=cy, by=manager)
        services.appointment_reassign(appointment=appointment, associate=ann, by=manager)
    for event in appointment.events.filter(kind="appointment_reassigned").order_by("pk")[1:]:
        payload = {"appointment_id": appointment.pk, "event_id": event.pk}
        appointment_mail.appointment_mail({**payload, "event": "appointment_reassigned"})
    later = OutboundMessage.objects.filter(template="appointment_reassigned").order_by("pk")[1:]
    assert [m.context["associate"] for m in later] == ["Ann"]
