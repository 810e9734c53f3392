"""The quiz on the tablet: the page never says which answers are correct; submitting
twice, tampering, or answering someone else's quiz is refused with a message and
changes nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests import factories
from training import services
from training.models import Attempt, Certification, Choice, Enrolment

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')


def ready_for_quiz(client, course, positions=(1, 2)):
    client.post(reverse("training:enrol", args=[course.code]))
    for position in positions:
        client.post(reverse("training:module", args=[course.code, position]))
    response = client.post(reverse("training:quiz_start", args=[course.code]))
    assert response.status_code == 302, response.content
    return Attempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_the_quiz_page_never_shows_which_answers_are_correct(associate_client, course):
    attempt = ready_for_quiz(associate_client, course)
    url = reverse("training:attempt", args=[attempt.pk])
    first = associate_client.get(url).content.decode()
    assert "Question 1 (en)?" in first and "Answer 1.3 (en)" in first

    # Turn every answer's correctness around: the page must not change at all.
    for choice in Choice.objects.filter(question__text__course=course):
        choice.is_correct = not choice.is_correct
        choice.save()
    flipped = associate_client.get(url).content.decode()
    assert CSRF.sub("", first) == CSRF.sub("", flipped)
    assert "correct" not in first.lower()
    assert "is_correct" not in first


def test_answers_are_shown_in_the_attempts_shuffled_order(associate_client, course):
    attempt = ready_for_quiz(associate_client, course)
    html = associate_client.get(reverse("training:attempt", args=[attempt.pk])).content.decode()
    shown = [int(v) for v in re.findall(r'name="q-\d+" value="(\d+)"', html)]
    assert shown == [c for _q, choices in attempt.order for c in choices]


def test_fail_then_pass_through_the_pages(associate_client, associate, course):
    attempt = ready_for_quiz(associate_client, course)
    url = reverse("training:attempt", args=[attempt.pk])
    answers = {f"q-{q}": v for q, v in factories.quiz_answers(attempt, right=1).items()}
    response = associate_client.post(url, answers)
    assert response.status_code == 302
    result = associate_client.get(url).content.decode()
    assert "Not passed yet" in result and "25%" in result
    assert "2 attempts left" in result
    assert "(right answer)" not in result  # a retry must not be a copy
    assert "✗" in result  # but it says which questions were wrong

    second = ready_for_quiz(associate_client, course, positions=())
    answers = {f"q-{q}": v for q, v in factories.quiz_answers(second).items()}
    associate_client.post(reverse("training:attempt", args=[second.pk]), answers)
    page = associate_client.get(reverse("training:attempt", args=[second.pk])).content.decode()
    assert "Passed" in page and "View my certificate" in page
    assert "(right answer)" in page  # once passed, the answers may be shown
    assert Certification.objects.filter(user=associate).count() == 1


def test_a_replayed_post_is_refused_with_a_message_and_changes_nothing(associate_client, course):
    attempt = ready_for_quiz(associate_client, course)
    url = reverse("training:attempt", args=[attempt.pk])
    answers = {f"q-{q}": v for q, v in factories.quiz_answers(attempt, right=0).items()}
    assert associate_client.post(url, answers).status_code == 302
    attempt.refresh_from_db()
    before = (attempt.score, attempt.answers, attempt.submitted_at)

    correct = {f"q-{q}": v for q, v in factories.quiz_answers(attempt).items()}
    response = associate_client.post(url, correct)
    assert response.status_code == 409
    assert "already submitted this attempt" in response.content.decode()
    attempt.refresh_from_db()
    assert (attempt.score, attempt.answers, attempt.submitted_at) == before
    assert not Certification.objects.exists()


def test_a_tampered_answer_id_is_refused_with_a_message(associate_client, course):
    attempt = ready_for_quiz(associate_client, course)
    url = reverse("training:attempt", args=[attempt.pk])
    answers = {f"q-{q}": v for q, v in factories.quiz_answers(attempt).items()}
    first_question = f"q-{attempt.order[0][0]}"
    answers[first_question] = ["424242"]
    response = associate_client.post(url, answers)
    assert response.status_code == 400
    assert "do not belong to this quiz" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.submitted_at is None

    answers = {f"q-{q}": v for q, v in factories.quiz_answers(attempt).items()}
    answers["q-999999"] = ["1"]
    assert associate_client.post(url, answers).status_code == 400


def test_a_missing_answer_keeps_the_others_chosen(associate_client, course):
    attempt = ready_for_quiz(associate_client, course)
    url = reverse("training:attempt", args=[attempt.pk])
    answers = {f"q-{q}": v for q, v in factories.quiz_answers(attempt).items()}
    answers.pop(f"q-{attempt.order[0][0]}")
    response = associate_client.post(url, answers)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Answer every question" in html
    assert html.count("checked") >= 3


def test_someone_else_cannot_open_or_answer_my_attempt(associate_client, store, course, client):
    attempt = ready_for_quiz(associate_client, course)
    other = factories.StaffFactory(role="associate", home_store=store)
    client.force_login(other)
    url = reverse("training:attempt", args=[attempt.pk])
    assert client.get(url).status_code == 403
    answers = {f"q-{q}": v for q, v in factories.quiz_answers(attempt).items()}
    response = client.post(url, answers)
    assert response.status_code == 403
    assert "not enrolled in this course" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.submitted_at is None
    assert client.get(reverse("training:attempt", args=[987654])).status_code == 404


def test_a_quiz_for_a_course_i_am_not_enrolled_in_is_refused(associate_client, course):
    response = associate_client.post(reverse("training:quiz_start", args=[course.code]))
    assert response.status_code == 403
    assert "not enrolled in this course" in response.content.decode()
    assert not Attempt.objects.exists() and not Enrolment.objects.exists()
    response = associate_client.get(reverse("training:module", args=[course.code, 1]))
    assert response.status_code == 403


def test_answering_after_the_attempts_are_used_up_is_refused(associate_client, associate, course):
    for _n in range(course.max_attempts):
        attempt = ready_for_quiz(associate_client, course, positions=(1, 2))
        services.attempt_submit(
            attempt_id=attempt.pk, user=associate, answers=factories.quiz_answers(attempt, right=0)
        )
    response = associate_client.post(reverse("training:quiz_start", args=[course.code]))
    assert response.status_code == 409
    assert "used all your attempts" in response.content.decode()
    assert Attempt.objects.count() == course.max_attempts
