"""Certificates gate operations: each gated operation is refused without the
certificate and allowed with it; the refusal names the course that unlocks it; a
manager may allow it once, with a reason, audit-logged."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from retail.models import AuditLog
from tests import factories
from training import services
from training.models import Course, GateOverride, OperationRule
from training.services.errors import Conflict, NotAllowed, TrainingError

pytestmark = pytest.mark.django_db

# operation -> (skill, level, the course that unlocks it)
GATES = {
    "outreach_send": ("clienteling_privacy", 2, "clienteling-with-consent"),
    "aisle_delivery_order": ("endless_aisle", 1, "endless-aisle"),
    "handover_without_code": ("bopis_fulfilment", 2, "pickup-done-right"),
    "return_approve": ("returns_fraud", 2, "returns-any-store"),
}


@pytest.mark.parametrize("operation", list(GATES))
def test_each_gated_operation_is_refused_without_and_allowed_with_the_certificate(
    program, associate, operation
):
    skill, level, course_code = GATES[operation]
    rule = OperationRule.objects.get(operation=operation)
    assert (rule.skill.code, rule.level) == (skill, level)

    assert services.operation_allowed(user=associate, operation=operation) is False
    with pytest.raises(services.OperationRefused) as refused:
        services.operation_authorise(user=associate, operation=operation, target="dummy:1")
    explanation = refused.value.explanation
    course = Course.objects.get(code=course_code)
    title = course.text_for("en").title
    assert course_code in [o.course.code for o in explanation.courses]
    assert title in [o.title for o in explanation.courses]
    assert title in refused.value.message or explanation.best.title in refused.value.message
    assert explanation.skill.code == skill and explanation.level == level

    factories.course_passed(associate, course)

    assert services.has_certification(user=associate, skill=skill, level=level)
    assert services.operation_allowed(user=associate, operation=operation) is True
    assert services.operation_authorise(user=associate, operation=operation) == "certified"
    assert services.gate_explanation(user=associate, operation=operation) is None


def test_the_refusal_names_the_quickest_course_and_links_to_it(program, associate):
    explanation = services.gate_explanation(user=associate, operation="handover_without_code")
    html = render_to_string("training/_gate_refusal.html", {"explanation": explanation})
    course = Course.objects.get(code="pickup-done-right")
    assert explanation.best.course == course
    assert course.text_for("en").title in html
    assert reverse("training:course", args=["pickup-done-right"]) in html
    assert "level 2" in html


def test_the_gate_page_explains_in_the_learners_language(program, associate_client):
    response = associate_client.get(
        reverse("training:gate", args=["handover_without_code"]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    assert "做好门店自提" in response.content.decode()


def test_an_operation_without_a_rule_is_allowed(associate):
    assert services.operation_allowed(user=associate, operation="something_unruled")
    assert services.operation_authorise(user=associate, operation="something_unruled") == "open"


def test_an_inactive_rule_does_not_gate(program, associate):
    OperationRule.objects.filter(operation="outreach_send").update(is_active=False)
    assert services.operation_allowed(user=associate, operation="outreach_send")


def test_a_lapsed_certificate_no_longer_opens_the_gate(program, associate):
    factories.course_passed(associate, Course.objects.get(code="endless-aisle"))
    assert services.operation_allowed(user=associate, operation="aisle_delivery_order")
    cert = associate.certifications.get()
    with time_machine.travel(cert.expires_at + dt.timedelta(seconds=1)):
        assert not services.operation_allowed(user=associate, operation="aisle_delivery_order")


def test_a_manager_override_allows_once_and_both_steps_are_audited(
    program, manager, associate, store
):
    operation = "handover_without_code"
    override = services.override_grant(
        manager=manager,
        user=associate,
        operation=operation,
        reason="Customer showed passport; code lost with phone",
        store=store,
    )
    grant_log = AuditLog.objects.get(action="training.override_grant")
    assert (grant_log.actor, grant_log.store, grant_log.target_id) == (
        manager,
        store,
        str(override.pk),
    )
    assert grant_log.detail == {"operation": operation, "user_id": associate.pk}

    assert services.operation_allowed(user=associate, operation=operation)
    assert (
        services.operation_authorise(user=associate, operation=operation, target="fulfillment:7")
        == "override"
    )
    use_log = AuditLog.objects.get(action="training.override_use")
    assert use_log.actor == associate and use_log.detail["used_on"] == "fulfillment:7"
    override.refresh_from_db()
    assert override.used_at is not None

    # Once only.
    assert not services.operation_allowed(user=associate, operation=operation)
    with pytest.raises(services.OperationRefused):
        services.operation_authorise(user=associate, operation=operation)


def test_an_unused_override_expires_with_the_shift(program, manager, associate, store):
    services.override_grant(
        manager=manager,
        user=associate,
        operation="outreach_send",
        reason="Pilot of the new outreach",
        store=store,
    )
    GateOverride.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert not services.operation_allowed(user=associate, operation="outreach_send")


@pytest.mark.parametrize(
    ("reason", "error"),
    [("", "at least 10"), ("too short", "at least 10"), ("x" * 1001, "under 1000")],
)
def test_an_override_needs_a_reason(program, manager, associate, store, reason, error):
    with pytest.raises(TrainingError, match=error):
        services.override_grant(
            manager=manager, user=associate, operation="outreach_send", reason=reason, store=store
        )
    assert not GateOverride.objects.exists() and not AuditLog.objects.exists()


def test_overrides_are_refused_outside_the_managers_store_and_for_non_managers(
    program, manager, associate, store, other_store
):
    elsewhere = factories.StaffFactory(role="associate", home_store=other_store)
    peer = factories.StaffFactory(role="associate", home_store=store)
    reason = "A good reason for it"
    for by, who in ((manager, elsewhere), (peer, associate), (manager, manager)):
        with pytest.raises(NotAllowed):
            services.override_grant(
                manager=by, user=who, operation="outreach_send", reason=reason, store=store
            )
    with pytest.raises(Conflict, match="nothing to override"):
        services.override_grant(
            manager=manager, user=associate, operation="no_rule_here", reason=reason, store=store
        )
    services.override_grant(
        manager=manager, user=associate, operation="outreach_send", reason=reason, store=store
    )
    with pytest.raises(Conflict, match="already waiting"):
        services.override_grant(
            manager=manager, user=associate, operation="outreach_send", reason=reason, store=store
        )
    assert GateOverride.objects.count() == 1


def test_the_override_page_grants_with_a_reason(program, manager_client, manager, associate):
    url = reverse("training:member_override", args=[associate.pk])
    response = manager_client.post(url, {"operation": "outreach_send", "reason": "short"})
    assert response.status_code == 400
    assert "at least 10 characters" in response.content.decode()
    assert not GateOverride.objects.exists()
    response = manager_client.post(
        url, {"operation": "outreach_send", "reason": "VIP event invitation approved"}
    )
    assert response.status_code == 302
    assert GateOverride.objects.get().granted_by == manager
