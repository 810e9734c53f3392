"""Training on the tablet, in a real browser at 1024×768, on the demo data.

An associate with a gap in pickup (BOPIS) opens "my path", takes the course,
fails its quiz once and passes it; their level rises, the certificate is there
and the store heatmap shows the new level to the manager. The manager then
assigns a course with a due date, and it appears on the associate's home screen.
"""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from retail.models import Store, User
from training.models import Certification, Choice, Course

pytestmark = pytest.mark.browser

ASSOCIATE = "associate.s01@demo.aisle"
MANAGER = "manager.s01@demo.aisle"
PASSWORD = "aisle-demo"
COURSE = "pickup-done-right"
ASSIGNED = "returns-any-store"


@pytest.fixture
def demo(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", force=True, stdout=StringIO())
    course = Course.objects.prefetch_related("texts").get(code=COURSE)
    assigned = Course.objects.prefetch_related("texts").get(code=ASSIGNED)
    return {
        "associate": User.objects.get(email=ASSOCIATE),
        "course": course,
        "title": course.text_for("en").title,
        "assigned_title": assigned.text_for("en").title,
        "assigned_label": f"{assigned.text_for('en').title} ({assigned.estimated_minutes} min)",
    }


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def nav_link(page: Page, name: str):
    return page.locator("nav.mainnav").get_by_role("link", name=name, exact=True)


def skill_level(page: Page, code: str):
    return page.locator(f'#my-skills li[data-skill="{code}"] .level')


def answer_quiz(page: Page, course: Course, *, correct: bool) -> None:
    """Tick answers by their text, whatever order this attempt shows them in."""
    choices = Choice.objects.filter(question__text__course=course, question__text__language="en")
    for fieldset in page.locator("form.quiz fieldset").all():
        legend = fieldset.locator("legend").inner_text()
        prompt = legend.split(". ", 1)[1]
        mine = [c for c in choices if c.question.prompt == prompt]
        assert mine, prompt
        pick = (
            [c for c in mine if c.is_correct]
            if correct
            else [next(c for c in mine if not c.is_correct)]
        )
        for choice in pick:
            fieldset.locator("label.answer").filter(has_text=choice.text).click()


def test_associate_closes_a_gap_with_a_course_and_the_manager_assigns_the_next(
    page, new_page, shot, demo
):
    course, title = demo["course"], demo["title"]

    # The associate, with a gap in pickup and store fulfilment, opens "my path".
    sign_in(page, ASSOCIATE)
    expect(page).to_have_url(re.compile(r"/store/$"))
    nav_link(page, "Training").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My path")
    expect(skill_level(page, "bopis_fulfilment")).to_contain_text("1 / needs 2")
    shot(page, "my-path-with-a-gap")

    # Takes the course that closes it, module by module.
    page.locator('#my-skills li[data-skill="bopis_fulfilment"]').get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    page.get_by_role("button", name="Enrol and start").click()
    for _n in range(2):
        expect(page.locator(".module-body")).to_be_visible()
        page.get_by_role("button", name="Done: next module").click()
    shot(page, "last-module")
    page.get_by_role("button", name="Done: on to the quiz").click()
    page.get_by_role("button", name="Take the quiz").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("attempt 1 of 3")
    shot(page, "quiz")

    # Fails once…
    answer_quiz(page, course, correct=False)
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Not passed yet")
    expect(page.locator("#quiz-result")).to_contain_text("2 attempts left")
    shot(page, "quiz-failed")

    # …then passes.
    page.get_by_role("button", name="Try the quiz again").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("attempt 2 of 3")
    answer_quiz(page, course, correct=True)
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passed")
    expect(page.locator("#quiz-result")).to_contain_text("Pickup and store fulfilment: 2")
    shot(page, "quiz-passed")

    page.get_by_role("link", name="View my certificate").click()
    cert = Certification.objects.get(user=demo["associate"], course=course)
    expect(page.locator("#certificate")).to_contain_text(cert.number)
    expect(page.locator("#certificate")).to_contain_text("level 2")
    shot(page, "certificate")

    nav_link(page, "Training").click()
    expect(skill_level(page, "bopis_fulfilment")).to_contain_text("2 / needs 2")
    shot(page, "my-path-gap-closed")

    # The manager sees the new level on the store heatmap, then assigns a course.
    manager_page = new_page()
    sign_in(manager_page, MANAGER)
    manager_page.get_by_role("button", name=re.compile(r"^S01 ")).click()
    nav_link(manager_page, "Training").click()
    manager_page.locator("nav.subnav").get_by_role("link", name="My team").click()
    row = manager_page.locator(f'#heatmap tr[data-user="{demo["associate"].pk}"]')
    expect(row).to_be_visible()
    bopis_column = _column(manager_page, "Pickup and store fulfilment")
    expect(row.locator("td").nth(bopis_column)).to_have_attribute("data-level", "2")
    expect(row.locator("td").nth(bopis_column)).to_have_class(re.compile("heat-met"))
    shot(manager_page, "manager-heatmap")

    row.get_by_role("link").click()
    due = Store.objects.get(code="S01").local_now().date() + dt.timedelta(days=10)
    assign = manager_page.locator("#assign")
    assign.get_by_label("Course").select_option(label=demo["assigned_label"])
    assign.get_by_label("Due date").fill(due.isoformat())
    assign.get_by_role("button", name="Assign").click()
    expect(manager_page.locator(".messages")).to_contain_text("Course assigned")
    shot(manager_page, "manager-assigned")

    # It appears on the associate's home screen, with its due date.
    page.goto("/store/")
    panel = page.locator("#training-panel")
    expect(panel).to_contain_text(demo["assigned_title"])
    expect(panel).to_contain_text(due.strftime("%-d %b %Y"))
    shot(page, "home-with-assigned-course")


def _column(page: Page, skill_name: str) -> int:
    headers = page.locator("#heatmap thead th").all_inner_texts()
    return headers.index(skill_name)
