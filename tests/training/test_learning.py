"""Taking a course: enrolment, modules in order, quiz attempts (shuffled, marked once,
limited), certificates and levels on passing, "close my gaps", onboarding, ratings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from retail.models import AuditLog
from tests import factories
from training import services
from training.models import (
    Attempt,
    Certification,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    LevelRecord,
    LevelSource,
    Onboarding,
    Track,
)
from training.services.errors import Conflict, NotAllowed, NotFound, TrainingError

pytestmark = pytest.mark.django_db


def read_all(enrolment, user, count=2):
    for position in range(1, count + 1):
        services.module_complete(enrolment=enrolment, user=user, position=position)


def state(*models):
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


def test_enrolling_twice_returns_the_same_enrolment(associate, course):
    first = services.course_enrol(user=associate, course=course)
    second = services.course_enrol(user=associate, course=course)
    assert first.pk == second.pk
    assert Enrolment.objects.count() == 1


def test_kiosks_and_hq_do_not_take_courses(kiosk_user, hq_user, course):
    for user in (kiosk_user, hq_user):
        with pytest.raises(NotAllowed):
            services.course_enrol(user=user, course=course)
    assert Enrolment.objects.count() == 0


def test_modules_are_done_in_order_and_a_resent_step_changes_nothing(associate, course):
    enrolment = services.course_enrol(user=associate, course=course)
    with pytest.raises(Conflict):
        services.module_complete(enrolment=enrolment, user=associate, position=2)
    services.module_complete(enrolment=enrolment, user=associate, position=1)
    services.module_complete(enrolment=enrolment, user=associate, position=1)
    enrolment.refresh_from_db()
    assert enrolment.modules_done == 1


def test_someone_elses_enrolment_cannot_be_advanced(associate, store, course):
    other = factories.StaffFactory(role="associate", home_store=store)
    enrolment = services.course_enrol(user=associate, course=course)
    with pytest.raises(NotAllowed):
        services.module_complete(enrolment=enrolment, user=other, position=1)
    enrolment.refresh_from_db()
    assert enrolment.modules_done == 0


def test_the_quiz_opens_only_after_every_module(associate, course):
    enrolment = services.course_enrol(user=associate, course=course)
    services.module_complete(enrolment=enrolment, user=associate, position=1)
    with pytest.raises(Conflict, match="every module"):
        services.attempt_start(enrolment=enrolment, user=associate, language="en")
    assert Attempt.objects.count() == 0


def test_an_attempt_keeps_its_shuffled_order_and_resumes_it(associate, course):
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    attempt = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    again = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    assert again.pk == attempt.pk and again.order == attempt.order
    assert len(attempt.order) == 4
    assert all(len(choices) == 3 for _q, choices in attempt.order)


def test_orders_differ_between_attempts(associate, course):
    """Shuffled per attempt: over several attempts the order is not always the same."""
    course.max_attempts = 10
    course.save()
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    orders = set()
    for _n in range(6):
        attempt = services.attempt_start(enrolment=enrolment, user=associate, language="en")
        orders.add(repr(attempt.order))
        services.attempt_submit(
            attempt_id=attempt.pk,
            user=associate,
            answers=factories.quiz_answers(attempt, right=0),
        )
    assert len(orders) > 1


def test_passing_issues_a_certificate_and_raises_the_level_keeping_history(
    associate, course, skill
):
    services.level_record(
        user=associate, skill=skill, level=1, track=Track.OFFICIAL, source="initial", by=None
    )
    attempt = factories.course_passed(associate, course)

    assert attempt.passed and attempt.score == 100
    enrolment = attempt.enrolment
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.PASSED
    cert = Certification.objects.get(user=associate, course=course)
    assert (cert.expires_at - cert.issued_at).days in (365, 366)  # twelve months
    levels = list(
        LevelRecord.objects.filter(user=associate, skill=skill).order_by("valid_from", "pk")
    )
    assert [(r.level, r.source) for r in levels] == [(1, "initial"), (2, LevelSource.COURSE)]
    assert levels[0].valid_to == levels[1].valid_from
    assert levels[1].valid_to is None and levels[1].certification == cert
    assert services.has_certification(user=associate, skill=skill, level=2)
    assert AuditLog.objects.filter(action="training.certify", target_id=str(cert.pk)).exists()


def test_failing_then_passing(associate, course):
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    first = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    failed = services.attempt_submit(
        attempt_id=first.pk, user=associate, answers=factories.quiz_answers(first, right=2)
    )
    assert (failed.passed, failed.score) == (False, 50)
    assert not Certification.objects.exists()
    second = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    assert second.number == 2
    passed = services.attempt_submit(
        attempt_id=second.pk, user=associate, answers=factories.quiz_answers(second, right=3)
    )
    assert (passed.passed, passed.score) == (True, 75)
    assert Certification.objects.filter(user=associate).count() == 1


def test_a_replayed_submission_is_refused_and_changes_nothing(associate, course):
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    attempt = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    answers = factories.quiz_answers(attempt, right=1)
    services.attempt_submit(attempt_id=attempt.pk, user=associate, answers=answers)
    before = state(Attempt, Enrolment, Certification, LevelRecord)

    with pytest.raises(Conflict, match="already submitted"):
        services.attempt_submit(
            attempt_id=attempt.pk, user=associate, answers=factories.quiz_answers(attempt)
        )
    assert state(Attempt, Enrolment, Certification, LevelRecord) == before


@pytest.mark.parametrize(
    "tamper",
    ["unknown question", "answer of another question", "unknown answer", "not a number"],
)
def test_tampered_ids_are_refused_and_change_nothing(associate, course, tamper):
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    attempt = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    answers = factories.quiz_answers(attempt)
    (q1, c1), (_q2, c2) = attempt.order[0], attempt.order[1]
    if tamper == "unknown question":
        answers["999999"] = [str(c1[0])]
    elif tamper == "answer of another question":
        answers[str(q1)] = [str(c2[0])]
    elif tamper == "unknown answer":
        answers[str(q1)] = ["999999"]
    else:
        answers[str(q1)] = ["x"]
    before = state(Attempt, Enrolment, Certification)

    with pytest.raises(TrainingError, match="do not belong to this quiz") as raised:
        services.attempt_submit(attempt_id=attempt.pk, user=associate, answers=answers)
    assert raised.value.status == 400
    assert state(Attempt, Enrolment, Certification) == before


def test_unanswered_questions_are_refused_and_the_attempt_stays_open(associate, course):
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    attempt = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    answers = factories.quiz_answers(attempt)
    answers.pop(str(attempt.order[0][0]))
    with pytest.raises(TrainingError, match="1 is still open"):
        services.attempt_submit(attempt_id=attempt.pk, user=associate, answers=answers)
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_two_answers_to_a_one_answer_question_are_refused(associate, course):
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    attempt = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    answers = factories.quiz_answers(attempt)
    single = next(q for q, c in attempt.order if len(answers[str(q)]) == 1)
    choices = dict(attempt.order)[single]
    answers[str(single)] = [str(c) for c in choices[:2]]
    with pytest.raises(TrainingError, match="one answer"):
        services.attempt_submit(attempt_id=attempt.pk, user=associate, answers=answers)


def test_someone_not_enrolled_cannot_submit_anothers_attempt(associate, store, course):
    other = factories.StaffFactory(role="associate", home_store=store)
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    attempt = services.attempt_start(enrolment=enrolment, user=associate, language="en")
    with pytest.raises(NotAllowed, match="not enrolled"):
        services.attempt_submit(
            attempt_id=attempt.pk, user=other, answers=factories.quiz_answers(attempt)
        )
    attempt.refresh_from_db()
    assert attempt.submitted_at is None
    with pytest.raises(NotFound):
        services.attempt_submit(attempt_id=987654, user=associate, answers={})


def test_attempts_are_limited(associate, course):
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    for _n in range(course.max_attempts):
        attempt = services.attempt_start(enrolment=enrolment, user=associate, language="en")
        services.attempt_submit(
            attempt_id=attempt.pk, user=associate, answers=factories.quiz_answers(attempt, right=0)
        )
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.FAILED
    with pytest.raises(Conflict, match="used all your attempts"):
        services.attempt_start(enrolment=enrolment, user=associate, language="en")
    assert Attempt.objects.count() == course.max_attempts
    # Enrolling again on one's own is refused; the manager may assign it again.
    with pytest.raises(Conflict, match="manager can assign"):
        services.course_enrol(user=associate, course=course)


def test_manager_assigns_a_course_with_a_due_date_and_it_is_audited(
    manager, associate, store, course
):
    due = store.local_now().date() + dt.timedelta(days=10)
    enrolment = services.course_assign(
        manager=manager, user=associate, course=course, due_date=due, store=store
    )
    assert (enrolment.source, enrolment.due_date, enrolment.assigned_by) == (
        EnrolmentSource.ASSIGNED,
        due,
        manager,
    )
    assert AuditLog.objects.filter(action="training.assign", actor=manager).count() == 1


def test_assigning_in_the_past_or_outside_the_store_is_refused(
    manager, associate, store, other_store, course
):
    with pytest.raises(TrainingError, match="in the past"):
        services.course_assign(
            manager=manager,
            user=associate,
            course=course,
            due_date=store.local_now().date() - dt.timedelta(days=1),
            store=store,
        )
    elsewhere = factories.StaffFactory(role="associate", home_store=other_store)
    with pytest.raises(NotAllowed):
        services.course_assign(
            manager=manager,
            user=elsewhere,
            course=course,
            due_date=store.local_now().date(),
            store=store,
        )
    assert Enrolment.objects.count() == 0


def test_a_valid_certificate_is_renewed_only_in_its_last_two_months(associate, course):
    factories.course_passed(associate, course)
    with pytest.raises(Conflict, match="valid certificate"):
        services.course_enrol(user=associate, course=course)
    cert = Certification.objects.get()
    Certification.objects.filter(pk=cert.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=20)
    )
    renewal = services.course_enrol(user=associate, course=course)
    assert renewal.status == EnrolmentStatus.ACTIVE


def test_close_my_gaps_enrols_in_the_smallest_set_of_courses(associate, store):
    a, b, c = (factories.SkillFactory() for _n in range(3))
    for s in (a, b, c):
        factories.RequirementFactory(role="associate", skill=s, level=2)
    one_each = [
        factories.CourseFactory(grants={a: 2}, estimated_minutes=5),
        factories.CourseFactory(grants={b: 2}, estimated_minutes=5),
    ]
    both = factories.CourseFactory(grants={a: 2, b: 2}, estimated_minutes=30)
    third = factories.CourseFactory(grants={c: 3}, estimated_minutes=20)
    factories.CourseFactory(grants={c: 1}, estimated_minutes=1)  # too low a level

    plan = services.gap_plan(user=associate)
    assert {p.course.pk for p in plan.courses} == {both.pk, third.pk}
    assert "no smaller set" in plan.reason
    services.close_my_gaps(user=associate)
    enrolled = set(Enrolment.objects.filter(user=associate).values_list("course_id", flat=True))
    assert enrolled == {both.pk, third.pk}
    assert not enrolled & {c.pk for c in one_each}
    again = services.gap_plan(user=associate)
    assert again.courses == [] and {p.course.pk for p in again.already} == enrolled


def test_a_gap_no_course_closes_is_explained(associate):
    s = factories.SkillFactory()
    factories.RequirementFactory(role="associate", skill=s, level=4)
    plan = services.gap_plan(user=associate)
    assert [g.skill for g in plan.uncovered] == [s]
    assert plan.courses == []


def test_new_staff_get_the_onboarding_path_once(store):
    factories.CourseFactory(code="welcome", onboarding_position=1, onboarding_due_days=7)
    factories.CourseFactory(code="tools", onboarding_position=2, onboarding_due_days=14)
    factories.CourseFactory(code="extra")
    newcomer = factories.StaffFactory(role="associate", home_store=store)

    assert services.onboard_new_staff() == 1
    assert services.onboard_new_staff() == 0
    enrolments = Enrolment.objects.filter(user=newcomer).order_by("due_date")
    assert [e.course.code for e in enrolments] == ["welcome", "tools"]
    assert {e.source for e in enrolments} == {EnrolmentSource.ONBOARDING}
    today = timezone.localdate()
    assert [e.due_date for e in enrolments] == [
        today + dt.timedelta(days=7),
        today + dt.timedelta(days=14),
    ]
    assert Onboarding.objects.filter(user=newcomer).exists()


def test_rating_needs_a_finished_course_and_a_rating_from_1_to_5(associate, course):
    enrolment = services.course_enrol(user=associate, course=course)
    with pytest.raises(Conflict):
        services.course_rate(enrolment=enrolment, user=associate, rating=5)
    enrolment = factories.course_passed(associate, course).enrolment
    for bad in (0, 6, "x"):
        with pytest.raises(TrainingError, match="1 to 5"):
            services.course_rate(enrolment=enrolment, user=associate, rating=bad)
    services.course_rate(enrolment=enrolment, user=associate, rating=4, feedback=" Useful ")
    enrolment.refresh_from_db()
    assert (enrolment.rating, enrolment.feedback) == (4, "Useful")


def test_the_learner_gets_the_course_in_their_language(associate, skill):
    course = factories.CourseFactory(grants={skill: 2}, languages=("en", "zh-hans"))
    enrolment = services.course_enrol(user=associate, course=course)
    read_all(enrolment, associate)
    attempt = services.attempt_start(enrolment=enrolment, user=associate, language="zh-hans")
    assert attempt.language == "zh-hans"
    prompts = [q["prompt"] for q in services.attempt_questions(attempt)]
    assert all("(zh-hans)" in p for p in prompts)
