"""HQ's training admin: every list and record page opens; levels outside 0 to 4
and badly marked questions are refused with a message; people's records are
read-only."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse

from tests import factories
from training import services
from training.models import Course, LevelRecord, Question, Requirement

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(program, associate, manager, store):
    factories.course_passed(associate, Course.objects.get(code="endless-aisle"))
    services.override_grant(
        manager=manager,
        user=associate,
        operation="outreach_send",
        reason="Approved for the event",
        store=store,
    )
    services.onboarding_start(user=associate)
    cert = associate.certifications.get()
    with time_machine.travel(cert.expires_at - dt.timedelta(days=3)):
        services.reminders_queue()
    services.snapshot_take(quarter=services.gaps.quarter_end(store.local_now().date()))


def test_every_training_admin_page_opens(records, hq_client):
    models = [m for m in admin.site._registry if m._meta.app_label == "training"]
    assert len(models) >= 14
    for model in models:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert hq_client.get(changelist).status_code == 200, changelist
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, opts.label
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert hq_client.get(change).status_code == 200, change
    feedback = reverse("admin:training_enrolment_changelist") + "?feedback=yes"
    assert hq_client.get(feedback).status_code == 200


def test_a_requirement_level_outside_0_to_4_is_refused(program, hq_client):
    requirement = Requirement.objects.filter(store=None).first()
    url = reverse("admin:training_requirement_change", args=[requirement.pk])
    before = requirement.level
    response = hq_client.post(
        url, {"role": requirement.role, "skill": requirement.skill_id, "store": "", "level": "7"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    requirement.refresh_from_db()
    assert requirement.level == before


def test_a_one_answer_question_needs_exactly_one_correct_answer(program, hq_client):
    question = Question.objects.filter(kind="single").first()
    choices = list(question.choices.all())
    data = {
        "text": question.text_id,
        "position": question.position,
        "prompt": question.prompt,
        "kind": "single",
        "choices-TOTAL_FORMS": str(len(choices)),
        "choices-INITIAL_FORMS": str(len(choices)),
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
    }
    for n, choice in enumerate(choices):
        data.update(
            {
                f"choices-{n}-id": choice.pk,
                f"choices-{n}-question": question.pk,
                f"choices-{n}-position": choice.position,
                f"choices-{n}-text": choice.text,
                f"choices-{n}-is_correct": "on",
            }
        )
    response = hq_client.post(reverse("admin:training_question_change", args=[question.pk]), data)
    assert response.status_code == 200
    assert "exactly one correct answer" in response.content.decode()
    assert question.choices.filter(is_correct=True).count() == 1


def test_level_history_is_read_only_in_admin(records, hq_client):
    record = LevelRecord.objects.first()
    url = reverse("admin:training_levelrecord_change", args=[record.pk])
    response = hq_client.post(url, {"level": "0"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.level != 0 or record.source == "initial"
    assert hq_client.get(reverse("admin:training_levelrecord_add")).status_code == 403
