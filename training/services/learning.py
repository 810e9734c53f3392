"""Taking courses: enrolling, assignments, onboarding, progress through modules,
quiz attempts (drawn, shuffled, marked), ratings and "close my gaps"."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence

from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from retail import access
from retail.models import Role, Store, User
from retail.services import audit_record
from training.models import (
    Attempt,
    Certification,
    Choice,
    Course,
    CourseText,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    Module,
    Onboarding,
    Question,
    QuestionKind,
)
from training.services.errors import Conflict, NotAllowed, NotFound, TrainingError
from training.services.levels import lock_person

#: A certificate may be renewed (the course taken again) this long before it expires.
RENEWAL_WINDOW = dt.timedelta(days=60)
#: How long feedback may be.
FEEDBACK_MAX = 2000
#: New staff: people who joined this recently get the onboarding path.
NEW_STAFF_WITHIN = dt.timedelta(days=30)


def courses_with_texts():
    """Courses with their texts and grants prefetched (for `course.text_for()`)."""
    return Course.objects.select_related("area").prefetch_related(
        Prefetch(
            "texts",
            queryset=CourseText.objects.annotate(module_total=Count("modules")).order_by(
                "language"
            ),
        ),
        "grants__skill",
    )


def module_count(text: CourseText | None) -> int:
    return Module.objects.filter(text=text).count() if text is not None else 0


def _check_owner(enrolment: Enrolment, user: User) -> None:
    if enrolment.user_id != user.pk:
        raise NotAllowed(_("You are not enrolled in this course."))


# --- Enrolment -----------------------------------------------------------------------


def _valid_certificate(user: User, course: Course) -> Certification | None:
    return (
        Certification.objects.valid()
        .filter(user=user, course=course)
        .order_by("-expires_at")
        .first()
    )


def _used_up(user: User, course: Course) -> bool:
    """Did the person's latest go at this course end with every attempt used?"""
    latest = (
        Enrolment.objects.filter(user=user, course=course)
        .order_by("-enrolled_at", "-pk")
        .values_list("status", flat=True)
        .first()
    )
    return latest == EnrolmentStatus.FAILED


@transaction.atomic
def course_enrol(
    *,
    user: User,
    course: Course,
    source: str = EnrolmentSource.SELF,
    by: User | None = None,
    due_date: dt.date | None = None,
) -> Enrolment:
    """Enrol a person in a course. Enrolling again while enrolled returns the
    enrolment they have (a double tap changes nothing)."""
    if not access.may_take_training(user):
        raise NotAllowed(_("Only store staff take courses."))
    lock_person(user)
    existing = Enrolment.objects.active().filter(user=user, course=course).first()
    if existing is not None:
        return existing
    if not course.is_active:
        raise Conflict(_("This course is no longer offered."))
    if source != EnrolmentSource.ASSIGNED and _used_up(user, course):
        raise Conflict(
            _("You used all your attempts at this course. Your manager can assign it to you again.")
        )
    held = _valid_certificate(user, course)
    if held is not None and held.expires_at - timezone.now() > RENEWAL_WINDOW:
        raise Conflict(
            _("You hold a valid certificate for this course until %(date)s.")
            % {"date": date_format(timezone.localtime(held.expires_at), "DATE_FORMAT")}
        )
    try:
        with transaction.atomic():
            return Enrolment.objects.create(
                user=user, course=course, source=source, assigned_by=by, due_date=due_date
            )
    except IntegrityError:
        return Enrolment.objects.active().get(user=user, course=course)


@transaction.atomic
def course_assign(
    *, manager: User, user: User, course: Course, due_date: dt.date, store: Store
) -> Enrolment:
    """A manager assigns a course with a due date to someone in their store. An
    enrolment already under way keeps its progress and takes the new due date."""
    if not access.may_assess(manager, user, store):
        raise NotAllowed(_("You can only assign courses to staff whose home store is your store."))
    if due_date < store.local_now().date():
        raise TrainingError(_("The due date is in the past. Choose today or a later day."))
    if not course.is_active:
        raise Conflict(_("This course is no longer offered."))
    enrolment = course_enrol(
        user=user, course=course, source=EnrolmentSource.ASSIGNED, by=manager, due_date=due_date
    )
    if enrolment.due_date != due_date or enrolment.assigned_by_id != manager.pk:
        enrolment.due_date = due_date
        enrolment.assigned_by = manager
        enrolment.save(update_fields=["due_date", "assigned_by"])
    audit_record(
        actor=manager,
        action="training.assign",
        target=enrolment,
        store=store,
        detail={"course": course.code, "user_id": user.pk, "due": due_date.isoformat()},
    )
    return enrolment


@transaction.atomic
def onboarding_start(*, user: User, today: dt.date | None = None) -> list[Enrolment]:
    """Put a new starter on the onboarding path (once): the onboarding courses, in
    order, each due a number of days from today."""
    if not access.may_take_training(user):
        return []
    lock_person(user)
    if Onboarding.objects.filter(user=user).exists():
        return []
    today = today or timezone.localdate()
    enrolments = []
    for course in Course.objects.filter(is_active=True, onboarding_position__isnull=False).order_by(
        "onboarding_position", "code"
    ):
        if _valid_certificate(user, course) is not None:
            continue
        enrolment = course_enrol(
            user=user,
            course=course,
            source=EnrolmentSource.ONBOARDING,
            due_date=today + dt.timedelta(days=course.onboarding_due_days),
        )
        enrolments.append(enrolment)
    Onboarding.objects.create(user=user)
    return enrolments


def onboard_new_staff(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Beat: every store staff member who joined lately and has no onboarding yet
    gets the onboarding path. Safe to run again: onboarding happens once."""
    now = now or timezone.now()
    newcomers = User.objects.filter(
        is_active=True,
        date_joined__gte=now - NEW_STAFF_WITHIN,
        staff_profile__role__in=(Role.ASSOCIATE, Role.STORE_MANAGER),
        training_onboarding__isnull=True,
    ).order_by("pk")[:limit]
    started = 0
    for user in newcomers:
        onboarding_start(user=user)
        started += 1
    return started


# --- Modules --------------------------------------------------------------------------


@transaction.atomic
def module_complete(*, enrolment: Enrolment, user: User, position: int) -> Enrolment:
    """Save progress after a module. Modules are done in order; marking a module
    that is already done changes nothing (a resent request)."""
    enrolment = Enrolment.objects.select_for_update().filter(pk=enrolment.pk).first()
    if enrolment is None:
        raise NotFound(_("You are not enrolled in this course."))
    _check_owner(enrolment, user)
    if enrolment.status != EnrolmentStatus.ACTIVE:
        return enrolment
    if position <= enrolment.modules_done:
        return enrolment
    if position > enrolment.modules_done + 1:
        raise Conflict(_("Finish the modules in order: this one comes later."))
    enrolment.modules_done = position
    enrolment.last_activity_at = timezone.now()
    enrolment.save(update_fields=["modules_done", "last_activity_at"])
    return enrolment


# --- Quiz attempts ----------------------------------------------------------------------


def _refuse_finished(enrolment: Enrolment) -> None:
    if enrolment.status == EnrolmentStatus.PASSED:
        raise Conflict(_("You already passed this course."))
    if enrolment.status == EnrolmentStatus.FAILED:
        raise Conflict(
            _(
                "You have used all your attempts at this quiz. Ask your manager to assign the "
                "course again."
            )
        )
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise Conflict(_("This enrolment is closed."))


@transaction.atomic
def attempt_start(*, enrolment: Enrolment, user: User, language: str | None = None) -> Attempt:
    """Start a quiz attempt (or return the one still open): questions and their
    answers are shuffled for this attempt and the order kept with it."""
    enrolment = (
        Enrolment.objects.select_for_update()
        .select_related("course")
        .filter(pk=enrolment.pk)
        .first()
    )
    if enrolment is None:
        raise NotFound(_("You are not enrolled in this course."))
    _check_owner(enrolment, user)
    _refuse_finished(enrolment)
    open_attempt = enrolment.attempts.filter(submitted_at__isnull=True).first()
    if open_attempt is not None:
        return open_attempt
    course = enrolment.course
    used = enrolment.attempts.count()
    if used >= course.max_attempts:
        raise Conflict(_("You have used all your attempts at this quiz."))
    text = Course.objects.prefetch_related("texts").get(pk=course.pk).text_for(language)
    if enrolment.modules_done < module_count(text):
        raise Conflict(_("Read every module before you take the quiz."))
    questions = list(
        Question.objects.filter(text=text).prefetch_related(
            Prefetch("choices", queryset=Choice.objects.only("pk", "question_id"))
        )
    )
    if not questions:
        raise Conflict(_("This course has no quiz yet."))
    shuffle = random.SystemRandom()
    shuffle.shuffle(questions)
    order = []
    for question in questions:
        choice_ids = [c.pk for c in question.choices.all()]
        shuffle.shuffle(choice_ids)
        order.append([question.pk, choice_ids])
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                enrolment=enrolment, number=used + 1, language=text.language, order=order
            )
    except IntegrityError:
        raise Conflict(
            _("A quiz attempt was started at the same moment. Reload the page.")
        ) from None
    enrolment.last_activity_at = timezone.now()
    enrolment.save(update_fields=["last_activity_at"])
    return attempt


def _parse_answers(attempt: Attempt, answers: Mapping[str, Sequence[str]]) -> dict[int, set[int]]:
    """The submitted answers as {question id: {choice ids}}, checked against what this
    attempt showed. Anything else (an unknown question or answer) is refused."""
    shown = {int(q): {int(c) for c in choices} for q, choices in attempt.order}
    parsed: dict[int, set[int]] = {}
    for key, values in answers.items():
        try:
            question_id = int(key)
            choice_ids = {int(v) for v in values}
        except (TypeError, ValueError):
            raise TrainingError(
                _("These answers do not belong to this quiz. Reload the page.")
            ) from None
        if question_id not in shown or not choice_ids <= shown[question_id]:
            raise TrainingError(_("These answers do not belong to this quiz. Reload the page."))
        if choice_ids:
            parsed[question_id] = choice_ids
    missing = [q for q in shown if q not in parsed]
    if missing:
        raise TrainingError(
            ngettext(
                "Answer every question: %(n)s is still open.",
                "Answer every question: %(n)s are still open.",
                len(missing),
            )
            % {"n": len(missing)}
        )
    return parsed


@transaction.atomic
def attempt_submit(*, attempt_id: int, user: User, answers: Mapping[str, Sequence[str]]) -> Attempt:
    """Mark an attempt once. A second submission (a replayed POST, a double tap) is
    refused and changes nothing; so are answers that this attempt did not show."""
    from training.services.certificates import certification_issue

    attempt = (
        Attempt.objects.select_for_update()
        .select_related("enrolment__course")
        .filter(pk=attempt_id)
        .first()
    )
    if attempt is None:
        raise NotFound(_("There is no such quiz attempt."))
    enrolment = attempt.enrolment
    _check_owner(enrolment, user)
    if attempt.submitted_at is not None:
        raise Conflict(_("You already submitted this attempt; its result stands."))
    _refuse_finished(enrolment)
    parsed = _parse_answers(attempt, answers)
    kinds = dict(Question.objects.filter(pk__in=parsed).values_list("pk", "kind"))
    for question_id, choice_ids in parsed.items():
        if kinds.get(question_id) == QuestionKind.SINGLE and len(choice_ids) > 1:
            raise TrainingError(_("Choose one answer for each one-answer question."))
    correct: dict[int, set[int]] = {q: set() for q in parsed}
    for question_id, choice_id in Choice.objects.filter(
        question_id__in=parsed, is_correct=True
    ).values_list("question_id", "pk"):
        correct[question_id].add(choice_id)
    right = sum(1 for q, chosen in parsed.items() if chosen == correct[q])
    course = enrolment.course
    now = timezone.now()
    attempt.answers = {str(q): sorted(c) for q, c in parsed.items()}
    attempt.score = round(100 * right / len(parsed))
    attempt.passed = attempt.score >= course.pass_mark
    attempt.submitted_at = now
    attempt.save(update_fields=["answers", "score", "passed", "submitted_at"])
    enrolment.last_activity_at = now
    if attempt.passed:
        enrolment.status = EnrolmentStatus.PASSED
        enrolment.completed_at = now
    elif attempt.number >= course.max_attempts:
        enrolment.status = EnrolmentStatus.FAILED
        enrolment.completed_at = now
    enrolment.save(update_fields=["status", "completed_at", "last_activity_at"])
    if attempt.passed:
        certification_issue(enrolment=enrolment, language=attempt.language, at=now)
    return attempt


def attempt_review(attempt: Attempt) -> list[dict]:
    """After submission: each question as shown, with what was chosen and whether it
    was right. Which answers were correct is shown only once the course is over for
    this enrolment (passed, or every attempt used): a retry must not be a copy."""
    if attempt.submitted_at is None:
        raise Conflict(_("Submit the attempt before reviewing it."))
    finished = attempt.passed or attempt.enrolment.status != EnrolmentStatus.ACTIVE
    review = _questions_in_order(attempt, reveal=True)
    if not finished:
        for question in review:
            for choice in question["choices"]:
                choice["correct"] = None
    return review


def attempt_questions(attempt: Attempt) -> list[dict]:
    """The questions and answers of an open attempt in its order, without anything
    that says which answers are correct."""
    return _questions_in_order(attempt, reveal=False)


def _questions_in_order(attempt: Attempt, *, reveal: bool) -> list[dict]:
    question_ids = [int(q) for q, _choices in attempt.order]
    fields = ["pk", "question_id", "text"] + (["is_correct"] if reveal else [])
    questions = {
        q.pk: q for q in Question.objects.filter(pk__in=question_ids).only("pk", "prompt", "kind")
    }
    choices = {c.pk: c for c in Choice.objects.filter(question_id__in=question_ids).only(*fields)}
    chosen = {int(q): set(c) for q, c in (attempt.answers or {}).items()}
    shown = []
    for number, (question_id, choice_ids) in enumerate(attempt.order, start=1):
        question = questions.get(int(question_id))
        if question is None:
            continue
        items = []
        for choice_id in choice_ids:
            choice = choices.get(int(choice_id))
            if choice is None:
                continue
            item = {"id": choice.pk, "text": choice.text}
            if reveal:
                item["chosen"] = choice.pk in chosen.get(question.pk, set())
                item["correct"] = choice.is_correct
            items.append(item)
        entry = {
            "number": number,
            "id": question.pk,
            "prompt": question.prompt,
            "multiple": question.kind == QuestionKind.MULTIPLE,
            "choices": items,
        }
        if reveal:
            entry["right"] = all(i["chosen"] == i["correct"] for i in items)
        shown.append(entry)
    return shown


# --- Ratings ---------------------------------------------------------------------------------


@transaction.atomic
def course_rate(*, enrolment: Enrolment, user: User, rating, feedback: str = "") -> Enrolment:
    """A learner rates a course they finished (1 to 5) and may leave feedback for HQ."""
    enrolment = Enrolment.objects.select_for_update().filter(pk=enrolment.pk).first()
    if enrolment is None:
        raise NotFound(_("You are not enrolled in this course."))
    _check_owner(enrolment, user)
    if enrolment.status not in (EnrolmentStatus.PASSED, EnrolmentStatus.FAILED):
        raise Conflict(_("Rate a course once you have finished it."))
    try:
        value = int(rating)
    except (TypeError, ValueError):
        raise TrainingError(_("Choose a rating from 1 to 5 stars.")) from None
    if not 1 <= value <= 5:
        raise TrainingError(_("Choose a rating from 1 to 5 stars."))
    feedback = (feedback or "").strip()
    if len(feedback) > FEEDBACK_MAX:
        raise TrainingError(_("Keep feedback under %(n)s characters.") % {"n": FEEDBACK_MAX})
    enrolment.rating = value
    enrolment.feedback = feedback
    enrolment.rated_at = timezone.now()
    enrolment.save(update_fields=["rating", "feedback", "rated_at"])
    return enrolment


def attempts_used(enrolment_ids) -> dict[int, int]:
    return dict(
        Attempt.objects.filter(enrolment_id__in=list(enrolment_ids))
        .values("enrolment_id")
        .annotate(n=Count("pk"))
        .values_list("enrolment_id", "n")
    )
