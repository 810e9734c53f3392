"""The tablet's training pages and HQ's: every page answers (with an empty state
when there is nothing to show), bad input gets a clear 4xx message and writes
nothing, and the home screen's panel shows what is due."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from retail.models import AuditLog
from tests import factories
from training import services
from training.models import Certification, Course, Enrolment, LevelRecord, Skill

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_path_shows_bars_gaps_and_the_next_course(program, associate_client, associate):
    course = Course.objects.get(code="pickup-done-right")
    services.course_enrol(user=associate, course=course)
    html = associate_client.get(reverse("training:path")).content.decode()
    assert "My skills against my role" in html
    assert 'data-skill="bopis_fulfilment"' in html and "0 / needs 2" in html
    assert "Close my gaps" in html
    assert course.text_for("en").title in html  # the next course


def test_my_path_in_chinese_uses_the_chinese_course_and_skill_names(
    program, associate_client, associate
):
    services.course_enrol(user=associate, course=Course.objects.get(code="pickup-done-right"))
    html = associate_client.get(
        reverse("training:path"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "做好门店自提" in html and "自提与门店履约" in html


def test_empty_states(associate_client, store):
    for name in ("training:path", "training:catalog", "training:certificates"):
        response = associate_client.get(reverse(name))
        assert response.status_code == 200, name
    assert (
        "No course is offered here yet."
        in associate_client.get(reverse("training:catalog")).content.decode()
    )
    assert (
        "No certificate yet"
        in associate_client.get(reverse("training:certificates")).content.decode()
    )
    assert "Nothing is due" in associate_client.get(reverse("training:panel")).content.decode()


def test_a_whole_course_through_the_pages(program, associate_client, associate):
    course = Course.objects.get(code="endless-aisle")
    detail = associate_client.get(reverse("training:course", args=[course.code]))
    assert "Enrol and start" in detail.content.decode()
    response = associate_client.post(reverse("training:enrol", args=[course.code]))
    assert response["Location"] == reverse("training:module", args=[course.code, 1])
    page = associate_client.get(response["Location"]).content.decode()
    assert "The whole network is your shelf" in page and "training/img/aisle.svg" in page
    for position in (1, 2, 3):
        response = associate_client.post(reverse("training:module", args=[course.code, position]))
    assert response["Location"] == reverse("training:course", args=[course.code])
    assert "Take the quiz" in associate_client.get(response["Location"]).content.decode()
    enrolment = Enrolment.objects.get(user=associate)
    assert enrolment.modules_done == 3


def test_a_module_beyond_the_next_one_sends_the_learner_back(program, associate_client):
    course = Course.objects.get(code="endless-aisle")
    associate_client.post(reverse("training:enrol", args=[course.code]))
    response = associate_client.get(reverse("training:module", args=[course.code, 3]))
    assert response["Location"] == reverse("training:module", args=[course.code, 1])
    assert (
        associate_client.get(reverse("training:module", args=[course.code, 9])).status_code == 404
    )
    assert associate_client.get(reverse("training:course", args=["no-such"])).status_code == 404


def test_certificate_page_is_printable_and_private(program, associate_client, associate, store):
    factories.course_passed(associate, Course.objects.get(code="endless-aisle"))
    cert = Certification.objects.get()
    html = associate_client.get(reverse("training:certificate", args=[cert.pk])).content.decode()
    assert cert.number in html and "data-print" in html and "@media print" not in html
    assert cert.number in associate_client.get(reverse("training:certificates")).content.decode()
    colleague = login(factories.StaffFactory(role="associate", home_store=store))
    assert colleague.get(reverse("training:certificate", args=[cert.pk])).status_code == 404


def test_close_my_gaps_page_explains_then_enrols(program, associate_client, associate):
    html = associate_client.get(reverse("training:gaps")).content.decode()
    assert "no smaller set of courses" in html
    response = associate_client.post(reverse("training:gaps"))
    assert response.status_code == 302
    assert Enrolment.objects.filter(user=associate, source="gaps").exists()
    again = associate_client.get(reverse("training:gaps")).content.decode()
    assert "Already under way" in again


def test_self_assessment_page(program, associate_client, associate):
    skill = Skill.objects.get(code="endless_aisle")
    page = associate_client.get(reverse("training:assess")).content.decode()
    assert "What the levels mean" in page
    assert skill.descriptors.get(level=2).text in page
    response = associate_client.post(reverse("training:assess"), {"skill-endless_aisle": "7"})
    assert response.status_code == 400
    assert not LevelRecord.objects.exists()
    data = {f"skill-{s.code}": "1" for s in Skill.objects.all()}
    data["skill-endless_aisle"] = "3"
    assert associate_client.post(reverse("training:assess"), data).status_code == 302
    own = LevelRecord.objects.current().get(user=associate, skill=skill, track="self")
    assert own.level == 3


def test_rating_a_finished_course(program, associate_client, associate):
    course = Course.objects.get(code="endless-aisle")
    url = reverse("training:rate", args=[course.code])
    assert associate_client.post(url, {"rating": "5"}).status_code == 403  # not enrolled
    factories.course_passed(associate, course)
    assert associate_client.post(url, {"rating": "9"}).status_code == 400
    response = associate_client.post(url, {"rating": "4", "feedback": "Clear and short"})
    assert response.status_code == 302
    assert Enrolment.objects.get(user=associate).rating == 4


def test_the_home_panel_shows_an_assigned_course_with_its_due_date(
    program, associate_client, associate, manager, store
):
    course = Course.objects.get(code="returns-any-store")
    due = store.local_now().date() + dt.timedelta(days=9)
    services.course_assign(
        manager=manager, user=associate, course=course, due_date=due, store=store
    )
    home = associate_client.get(reverse("retail:store_home")).content.decode()
    assert reverse("training:panel") in home and 'hx-trigger="load"' in home
    panel = associate_client.get(reverse("training:panel"), HTTP_HX_REQUEST="true")
    html = panel.content.decode()
    assert course.text_for("en").title in html
    assert due.strftime("%-d %b %Y") in html and str(manager) in html


def test_team_pages_are_for_the_stores_managers(
    program, associate_client, manager_client, associate
):
    assert associate_client.get(reverse("training:team")).status_code == 403
    assert associate_client.get(reverse("training:member", args=[associate.pk])).status_code == 403
    html = manager_client.get(reverse("training:member", args=[associate.pk])).content.decode()
    assert "Assign a course" in html and "Allow once without the certificate" in html


def test_a_manager_cannot_open_or_assess_someone_from_another_store(
    program, manager_client, other_store
):
    elsewhere = factories.StaffFactory(role="associate", home_store=other_store)
    response = manager_client.get(reverse("training:member", args=[elsewhere.pk]))
    assert response.status_code == 403
    assert "home store is your store" in response.content.decode()
    response = manager_client.post(
        reverse("training:member_assess", args=[elsewhere.pk]),
        {f"skill-{s.code}": "2" for s in Skill.objects.all()},
    )
    assert response.status_code == 403
    assert not LevelRecord.objects.exists() and not AuditLog.objects.exists()
    assert manager_client.get(reverse("training:member", args=[999999])).status_code == 404


def test_a_manager_assesses_and_assigns_from_the_member_page(
    program, manager_client, manager, associate, store
):
    data = {f"skill-{s.code}": "0" for s in Skill.objects.all()}
    data["skill-returns_fraud"] = "3"
    unexplained = manager_client.post(reverse("training:member_assess", args=[associate.pk]), data)
    assert unexplained.status_code == 400
    assert "Say why the levels change" in unexplained.content.decode()
    assert not LevelRecord.objects.exists()
    data["note"] = "Spotted two forged receipts this week"
    response = manager_client.post(reverse("training:member_assess", args=[associate.pk]), data)
    assert response.status_code == 302
    record = LevelRecord.objects.current().get(user=associate, skill__code="returns_fraud")
    assert (record.level, record.assessed_by, record.track) == (3, manager, "official")
    assert record.note == "Spotted two forged receipts this week"

    bad = dict(data, **{"skill-returns_fraud": "8"})
    response = manager_client.post(reverse("training:member_assess", args=[associate.pk]), bad)
    assert response.status_code == 400

    url = reverse("training:member_assign", args=[associate.pk])
    course = Course.objects.get(code="one-brand")
    yesterday = store.local_now().date() - dt.timedelta(days=1)
    response = manager_client.post(url, {"course": course.pk, "due_date": yesterday.isoformat()})
    assert response.status_code == 400 and "in the past" in response.content.decode()
    assert (
        manager_client.post(url, {"course": "99999", "due_date": "2030-01-01"}).status_code == 400
    )
    assert not Enrolment.objects.exists()
    due = store.local_now().date() + dt.timedelta(days=5)
    response = manager_client.post(url, {"course": course.pk, "due_date": due.isoformat()})
    assert response.status_code == 302
    assert Enrolment.objects.get(user=associate).due_date == due


def test_hq_pages(program, hq_client, associate, store):
    factories.course_passed(associate, Course.objects.get(code="endless-aisle"))
    enrolment = Enrolment.objects.get()
    services.course_rate(enrolment=enrolment, user=associate, rating=5, feedback="Loved it")
    html = hq_client.get(reverse("training_hq:network")).content.decode()
    assert "Skills across the network" in html and "S01" in html
    html = hq_client.get(reverse("training_hq:courses")).content.decode()
    assert "Loved it" in html and "5.0" in html
    html = hq_client.get(reverse("training_hq:store", args=["S01"])).content.decode()
    assert associate.email in html or associate.get_full_name() in html
    assert hq_client.get(reverse("training_hq:store", args=["NOPE"])).status_code == 404


def test_the_gate_page_says_when_nothing_is_missing(program, associate_client):
    html = associate_client.get(reverse("training:gate", args=["not_gated"])).content.decode()
    assert "You may do this" in html
    fragment = associate_client.get(
        reverse("training:gate", args=["outreach_send"]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.lstrip().startswith("<section") and "Clienteling with consent" in fragment


def test_the_team_page_lists_who_is_overdue_with_the_course_title(
    program, manager_client, manager, associate, store
):
    course = Course.objects.get(code="returns-any-store")
    due = store.local_now().date() + dt.timedelta(days=2)
    services.course_assign(
        manager=manager, user=associate, course=course, due_date=due, store=store
    )
    assert "Nobody is overdue." in manager_client.get(reverse("training:team")).content.decode()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=5)):
        manager_client.force_login(manager)  # sessions last a shift
        html = manager_client.get(reverse("training:team")).content.decode()
        zh = manager_client.get(
            reverse("training:team"), HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()
    assert course.text_for("en").title in html and due.strftime("%-d %b %Y") in html
    assert "受理任何渠道的退货" in zh


HUGE = "9" * 20


@pytest.mark.parametrize(
    "url",
    [
        f"/store/training/attempts/{HUGE}/",
        f"/store/training/certificates/{HUGE}/",
        f"/store/training/courses/endless-aisle/modules/{HUGE}/",
        "/store/training/courses/no-such-course/",
        "/store/training/gates/no_such_operation/",
        "/store/training/courses/?page=999&area=nope",
        "/store/training/certificates/?page=x",
    ],
)
def test_odd_addresses_answer_4xx_or_an_empty_page_never_500(program, associate_client, url):
    assert associate_client.get(url).status_code in (200, 403, 404)


def test_odd_member_addresses_never_500(program, manager_client):
    assert manager_client.get(f"/store/training/team/{HUGE}/").status_code == 404
    assert manager_client.get("/store/training/team/?page=-1").status_code == 200
    response = manager_client.post(f"/store/training/team/{HUGE}/assign/", {})
    assert response.status_code == 404


def test_a_managers_assessment_of_one_skill_records_only_that_skill(
    program, manager_client, manager, associate
):
    """Finding 6: assessing one skill wrote all nine skills' levels."""
    url = reverse("training:member_assess", args=[associate.pk])
    form = manager_client.get(reverse("training:member", args=[associate.pk])).context[
        "assess_form"
    ]
    data = {name: field.initial for name, field in form.fields.items() if name.startswith("skill-")}
    data.update({"skill-endless_aisle": "2", "note": "Placed three aisle orders alone"})
    assert manager_client.post(url, data).status_code == 302
    [record] = LevelRecord.objects.all()
    assert (record.skill.code, record.level, record.assessed_by) == ("endless_aisle", 2, manager)
    assert record.note == "Placed three aisle orders alone"

    data.update({"skill-endless_aisle": "2", "note": "Same again"})  # nothing changed
    response = manager_client.post(url, data)
    assert response.status_code == 400
    assert "Nothing changed" in response.content.decode()
    assert LevelRecord.objects.count() == 1

    data.update({"skill-endless_aisle": "3", "skill-returns_fraud": "1", "note": "Coached"})
    assert manager_client.post(url, data).status_code == 302
    changed = LevelRecord.objects.filter(valid_to__isnull=True).values_list("skill__code", "level")
    assert sorted(changed) == [("endless_aisle", 3), ("returns_fraud", 1)]
    assert LevelRecord.objects.count() == 3  # the first one closed, kept in the history
