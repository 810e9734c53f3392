"""Real threads on PostgreSQL: a double-tapped quiz submission is marked once, a
burst of enrolments makes one enrolment, and a manager's override is used once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from retail.models import AuditLog
from tests import factories
from training import services
from training.models import Attempt, Certification, Enrolment, GateOverride

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def run_threads(target, count=THREADS):
    errors, results = [], []
    barrier = threading.Barrier(count)

    def worker(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


@pytest.fixture
def people():
    assert connection.vendor == "postgresql"
    store = factories.StoreFactory(code="S01")
    skill = factories.SkillFactory(code="bopis_fulfilment")
    return {
        "store": store,
        "skill": skill,
        "course": factories.CourseFactory(grants={skill: 2}),
        "associate": factories.StaffFactory(role="associate", home_store=store),
        "manager": factories.StaffFactory(role="store_manager", home_store=store),
    }


def test_twenty_submissions_of_one_attempt_are_marked_once(people):
    associate, course = people["associate"], people["course"]
    enrolment = services.course_enrol(user=associate, course=course)
    for position in (1, 2):
        services.module_complete(enrolment=enrolment, user=associate, position=position)
    attempt = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    answers = factories.quiz_answers(attempt)

    def submit(_i):
        try:
            services.attempt_submit(attempt_id=attempt.pk, user=associate, answers=answers)
            return "marked"
        except services.Conflict:
            return "refused"

    results, errors = run_threads(submit)
    assert errors == []
    assert results.count("marked") == 1 and results.count("refused") == THREADS - 1
    assert Certification.objects.count() == 1
    assert AuditLog.objects.filter(action="training.certify").count() == 1
    assert Attempt.objects.get().passed is True


def test_twenty_enrolments_at_once_make_one(people):
    associate, course = people["associate"], people["course"]
    results, errors = run_threads(
        lambda _i: services.course_enrol(user=associate, course=course).pk
    )
    assert errors == []
    assert len(set(results)) == 1 and Enrolment.objects.count() == 1


def test_an_override_is_used_once_by_twenty_taps(people):
    rule = factories.OperationRuleFactory(operation="handover_without_code", skill=people["skill"])
    services.override_grant(
        manager=people["manager"],
        user=people["associate"],
        operation=rule.operation,
        reason="Passport checked at the counter",
        store=people["store"],
    )

    def use(_i):
        try:
            return services.operation_authorise(user=people["associate"], operation=rule.operation)
        except services.OperationRefused:
            return "refused"

    results, errors = run_threads(use)
    assert errors == []
    assert results.count("override") == 1 and results.count("refused") == THREADS - 1
    assert GateOverride.objects.get().used_at is not None
    assert AuditLog.objects.filter(action="training.override_use").count() == 1
