"""Certificates expire: the holder and their manager are reminded once, 30 days
before; once expired the level it held up drops, and the history keeps it all."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from retail.models import AuditLog, OutboxEntry
from tests import factories
from training import services, tasks
from training.models import (
    Certification,
    CertificationReminder,
    CertificationStatus,
    LevelRecord,
    LevelSource,
    Track,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def certified(associate, manager, course, skill):
    """The associate at level 1, then certified at level 2 by passing the course."""
    services.level_record(
        user=associate, skill=skill, level=1, track=Track.OFFICIAL, source="initial", by=None
    )
    factories.course_passed(associate, course)
    return Certification.objects.get(user=associate)


def run_reminders(capture) -> int:
    with capture(execute=True):
        queued = tasks.certification_reminders.apply().get()
    return queued


def test_an_expiring_certificate_reminds_holder_and_manager_once(
    certified, associate, manager, django_capture_on_commit_callbacks
):
    with time_machine.travel(certified.expires_at - dt.timedelta(days=40)):
        assert run_reminders(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []

    with time_machine.travel(certified.expires_at - dt.timedelta(days=29)):
        assert run_reminders(django_capture_on_commit_callbacks) == 2
        assert run_reminders(django_capture_on_commit_callbacks) == 0  # the task ran twice
    with time_machine.travel(certified.expires_at - dt.timedelta(days=10)):
        assert run_reminders(django_capture_on_commit_callbacks) == 0

    assert sorted(m.to[0] for m in mail.outbox) == sorted([associate.email, manager.email])
    holder_mail = next(m for m in mail.outbox if m.to == [associate.email])
    assert "expires on" in holder_mail.subject and "pickup-done-right" in holder_mail.subject
    assert certified.number in holder_mail.body
    manager_mail = next(m for m in mail.outbox if m.to == [manager.email])
    assert str(associate) in manager_mail.subject
    reminders = CertificationReminder.objects.all()
    assert reminders.count() == 2 and {r.state for r in reminders} == {"sent"}
    assert OutboxEntry.objects.filter(name="training.tasks.reminder_deliver").count() == 2


def test_delivering_a_reminder_twice_sends_it_once(certified, django_capture_on_commit_callbacks):
    with time_machine.travel(certified.expires_at - dt.timedelta(days=5)):
        run_reminders(django_capture_on_commit_callbacks)
        reminder = CertificationReminder.objects.first()
        services.reminder_deliver(reminder_id=reminder.pk)
        tasks.reminder_deliver.apply(args=[reminder.pk])
        services.reminder_deliver(reminder_id=999999)  # gone: a no-op
    assert len(mail.outbox) == 2


def test_a_reminder_is_written_in_the_language_the_course_was_taken_in(
    associate, skill, django_capture_on_commit_callbacks
):
    course = factories.CourseFactory(grants={skill: 2}, languages=("en", "zh-hans"))
    enrolment = services.course_enrol(user=associate, course=course)
    for position in (1, 2):
        services.module_complete(enrolment=enrolment, user=associate, position=position)
    attempt = services.attempt_start(enrolment=enrolment, user=associate, language="zh-hans")
    services.attempt_submit(
        attempt_id=attempt.pk, user=associate, answers=factories.quiz_answers(attempt)
    )
    cert = Certification.objects.get()
    assert cert.language == "zh-hans"
    with time_machine.travel(cert.expires_at - dt.timedelta(days=3)):
        run_reminders(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert "(zh-hans)" in mail.outbox[0].subject


def test_once_expired_the_level_drops_and_the_history_is_kept(certified, associate, skill):
    assert services.certified_level(user=associate, skill=skill) == 2
    with time_machine.travel(certified.expires_at - dt.timedelta(hours=1)):
        assert tasks.certifications_lapse.apply().get() == 0
    with time_machine.travel(certified.expires_at + dt.timedelta(hours=1)):
        assert tasks.certifications_lapse.apply().get() == 1
        assert tasks.certifications_lapse.apply().get() == 0  # ran twice: nothing more
        assert services.certified_level(user=associate, skill=skill) == 0
        assert not services.has_certification(user=associate, skill=skill, level=2)

    certified.refresh_from_db()
    assert certified.status == CertificationStatus.LAPSED
    history = list(
        LevelRecord.objects.filter(user=associate, skill=skill, track=Track.OFFICIAL).order_by(
            "valid_from", "pk"
        )
    )
    assert [(r.level, r.source) for r in history] == [
        (1, "initial"),
        (2, LevelSource.COURSE),
        (1, LevelSource.LAPSE),
    ]
    assert history[0].valid_to == history[1].valid_from
    assert history[1].valid_to == history[2].valid_from and history[2].valid_to is None
    assert AuditLog.objects.filter(action="training.lapse").count() == 1


def test_a_managers_later_assessment_is_not_lowered_by_a_lapse(
    certified, associate, manager, skill, store
):
    services.assessment_record(user=associate, by=manager, levels={skill: 3}, store=store)
    with time_machine.travel(certified.expires_at + dt.timedelta(days=1)):
        services.certifications_lapse_due()
    current = LevelRecord.objects.current().get(user=associate, skill=skill, track="official")
    assert (current.level, current.source) == (3, LevelSource.MANAGER)


def test_a_renewed_certificate_keeps_the_level_until_the_renewal_lapses(
    certified, associate, course, skill
):
    with time_machine.travel(certified.expires_at - dt.timedelta(days=20)):
        factories.course_passed(associate, course)
    certified.refresh_from_db()
    renewal = Certification.objects.get(status=CertificationStatus.ACTIVE)
    assert certified.status == CertificationStatus.SUPERSEDED
    with time_machine.travel(certified.expires_at + dt.timedelta(days=1)):
        services.certifications_lapse_due()
        assert services.has_certification(user=associate, skill=skill, level=2)
    with time_machine.travel(renewal.expires_at + dt.timedelta(days=1)):
        services.certifications_lapse_due()
        current = LevelRecord.objects.current().get(user=associate, skill=skill, track="official")
        assert current.level == 1


def test_another_valid_certificate_still_holds_its_level(associate, skill):
    low = factories.CourseFactory(grants={skill: 1})
    high = factories.CourseFactory(grants={skill: 2})
    factories.course_passed(associate, low)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=100)):
        factories.course_passed(associate, high)
    high_cert = Certification.objects.get(course=high)
    low_cert = Certification.objects.get(course=low)
    with time_machine.travel(low_cert.expires_at + dt.timedelta(days=1)):
        services.certifications_lapse_due()
        assert (
            LevelRecord.objects.current().get(user=associate, skill=skill, track="official").level
            == 2
        )
    with time_machine.travel(high_cert.expires_at + dt.timedelta(days=1)):
        services.certifications_lapse_due()
        assert (
            LevelRecord.objects.current().get(user=associate, skill=skill, track="official").level
            == 0
        )


def test_a_failed_delivery_is_noted_and_retried_by_the_outbox(
    certified, monkeypatch, django_capture_on_commit_callbacks
):
    from retail import outbox

    def broken(*args, **kwargs):
        raise OSError("SMTP server unreachable")

    monkeypatch.setattr("training.services.certificates.send_mail", broken)
    with time_machine.travel(certified.expires_at - dt.timedelta(days=5)):
        run_reminders(django_capture_on_commit_callbacks)
    reminders = CertificationReminder.objects.all()
    assert {r.state for r in reminders} == {"queued"}
    assert all("SMTP server unreachable" in r.error for r in reminders)
    entries = OutboxEntry.objects.filter(name="training.tasks.reminder_deliver")
    assert {e.state for e in entries} == {"pending"}

    monkeypatch.undo()
    for entry in entries:
        outbox.run(entry.pk)
    assert {r.state for r in CertificationReminder.objects.all()} == {"sent"}
    assert len(mail.outbox) == 2
