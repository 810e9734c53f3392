"""The courses as data files: what they install, the errors a malformed file gets,
and `training_import` (idempotent, updates in place, a dry run writes nothing)."""

from __future__ import annotations

import io
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from tests import factories
from tests.training.snapshot_content import program_snapshot
from training import services
from training.content.files import (
    COURSES_DIR,
    FRAMEWORK_FILE,
    ContentErrors,
    load_courses,
    load_framework,
)
from training.models import (
    Attempt,
    Certification,
    Choice,
    Course,
    CourseText,
    EnrolmentStatus,
    Module,
    Question,
    SkillArea,
)
from training.services.catalog import courses_import

SNAPSHOT = Path(__file__).parent / "data" / "content_snapshot.json"


def test_files_install_exactly_the_program_the_python_modules_did(program):
    """The snapshot was taken from `content_sync()` before the courses became files."""
    installed = json.loads(json.dumps(program_snapshot()))
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert [c["code"] for c in installed["courses"]] == [c["code"] for c in expected["courses"]]
    for got, want in zip(installed["courses"], expected["courses"], strict=True):
        assert got == want, got["code"]
    assert installed == expected


# --- Helpers -------------------------------------------------------------------------

SHIPPED = COURSES_DIR
CODE = "endless-aisle"


@pytest.fixture
def folder(tmp_path):
    """A copy of one shipped course's three files, to change."""
    for path in SHIPPED.glob(f"{CODE}.*"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def errors_of(folder: Path) -> list[str]:
    with pytest.raises(ContentErrors) as caught:
        load_courses([folder])
    return [str(e) for e in caught.value.errors]


def write_course(folder: Path, code: str, toml: str, **texts: str) -> None:
    (folder / f"{code}.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    for language, text in texts.items():
        name = f"{code}.{language.replace('_', '-')}.md"
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


SMALL_TOML = """\
    area = "operations"
    minutes = 10
    grants = { bopis_fulfilment = 1 }
    illustrations = ["pickup", ""]
    quiz = ["single", "multiple"]
"""
SMALL_EN = """\
    # Pickup in five minutes

    What a parcel on the pickup shelf
    needs from you.

    ## The shelf

    Parcels wait here,
    sorted by code.

    A second paragraph.

    ## The hand-over

    Check the code.

    ## Quiz

    ### Where do ready parcels
    wait?

    - [ ] In the stockroom.
    - [x] On the pickup shelf,
      sorted by code.

    ### What do you check? (Choose all that apply.)

    - [X] The code.
    * [x] The name.
    - [ ] The weather.
"""
SMALL_ZH = """\
    # 五分钟学会自提

    自提货架上的包裹
    需要你做什么。

    ## 货架

    包裹在这里等候，
    按取货码排列。

    ## 交付

    核对取货码。

    ## Quiz

    ### 备好的包裹放在哪里？

    - [ ] 库房。
    - [x] 自提货架。

    ### 需要核对什么？

    - [x] 取货码。
    - [x] 姓名。
    - [ ] 天气。
"""


# --- Loading -----------------------------------------------------------------------


def test_every_shipped_course_loads_in_english_and_chinese(db):
    courses = load_courses()
    assert len(courses) == 10
    assert {c.code for c in courses} >= {"welcome-omnichannel", "returns-any-store"}
    for course in courses:
        assert set(course.texts) == {"en", "zh-hans"}
        for text in course.texts.values():
            assert len(text.modules) == len(course.illustrations)
            assert len(text.questions) == len(course.quiz)


def test_a_course_file_reads_as_markdown_does(tmp_path, db):
    write_course(tmp_path, "pickup-basics", SMALL_TOML, en=SMALL_EN, zh_hans=SMALL_ZH)
    [course] = load_courses([tmp_path / "pickup-basics.en.md"])
    assert (course.code, course.area, course.minutes) == ("pickup-basics", "operations", 10)
    assert (course.pass_mark, course.max_attempts, course.valid_months) == (75, 3, 12)
    assert course.onboarding is None and course.grants == {"bopis_fulfilment": 1}
    en, zh = course.texts["en"], course.texts["zh-hans"]
    assert en.title == "Pickup in five minutes"
    assert en.summary == "What a parcel on the pickup shelf needs from you."
    assert [m.title for m in en.modules] == ["The shelf", "The hand-over"]
    assert en.modules[0].body == "Parcels wait here, sorted by code.\n\nA second paragraph."
    assert en.questions[0].prompt == "Where do ready parcels wait?"
    assert en.questions[0].answers == [
        ("In the stockroom.", False),
        ("On the pickup shelf, sorted by code.", True),
    ]
    assert en.questions[1].answers == [
        ("The code.", True),
        ("The name.", True),
        ("The weather.", False),
    ]
    # Chinese lines of one paragraph join without a space.
    assert zh.summary == "自提货架上的包裹需要你做什么。"
    assert zh.modules[0].body == "包裹在这里等候，按取货码排列。"


# --- Malformed files: every error says the file, the line or field, and what is wrong ----


def test_a_missing_field_is_named(folder, db):
    edit(folder / f"{CODE}.toml", "minutes = 15\n", "")
    assert errors_of(folder) == [f"{CODE}.toml: field “minutes”: missing."]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("minutes = 15", "minutes = 0", "field “minutes”: a whole number from 1 to 600."),
        ("minutes = 15", 'minutes = "15"', "field “minutes”: a whole number from 1 to 600."),
        ("minutes = 15", "minutes = 15\nminute = 3", "field “minute”: unknown field"),
        ("endless_aisle = 2", "endless_aisle = 5", "the level for endless_aisle is a whole number"),
        ("grants = { endless_aisle = 2 }", "grants = {}", "field “grants”: at least one skill"),
        ('["aisle"', '["shelves"', "unknown illustration “shelves”"),
        ('quiz = ["single"', 'quiz = ["one"', "field “quiz”: one kind per question"),
        ("minutes = 15", "minutes = ", "not readable: "),
    ],
)
def test_a_bad_course_field_is_named(folder, db, old, new, message):
    edit(folder / f"{CODE}.toml", old, new)
    [error] = errors_of(folder)
    assert error.startswith(f"{CODE}.toml: ")
    assert message in error


def test_a_missing_file_is_named(folder, db):
    (folder / f"{CODE}.en.md").unlink()
    assert errors_of(folder) == [
        f"{CODE}.en.md: missing: every course is written in English at least."
    ]
    (folder / f"{CODE}.toml").unlink()
    for named in (folder, folder / f"{CODE}.zh-hans.md"):
        assert errors_of(named) == [f"{CODE}.toml: missing: every course needs its {CODE}.toml."]


def test_a_file_not_in_utf8_is_named(folder, db):
    (folder / EN).write_bytes("# Café\n".encode("latin-1"))
    assert errors_of(folder) == [f"{EN}: not UTF-8 text: save the file as UTF-8."]


def test_a_file_in_an_unknown_language_is_refused(folder, db):
    shutil.copy(folder / f"{CODE}.en.md", folder / f"{CODE}.fr.md")
    assert errors_of(folder) == [
        f"{CODE}.fr.md: unknown language fr (the languages are: en, zh-hans)."
    ]


def test_a_course_in_english_only_loads(folder, db):
    (folder / f"{CODE}.zh-hans.md").unlink()
    [course] = load_courses([folder])
    assert set(course.texts) == {"en"}


EN = f"{CODE}.en.md"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "# Selling the endless aisle\n",
            "Selling it\n",
            1,
            "the file starts with the course title",
        ),
        ("## Placing the order", "# Placing the order", 11, "a second title"),
        ("## The whole network is your shelf", "##", 5, "a heading without text."),
        ("## Placing the order", "#### Placing the order", 11, "only “#”, “##” and “###”"),
        (
            "## Placing the order\n\nOffer the choice",
            "## Placing the order\n\n## Offer the choice",
            11,
            "module “Placing the order” has no text.",
        ),
        ("## Quiz\n", "## Quiz\n\n## Afterwards\n\nMore.\n", 25, "a module after the quiz"),
        ("## Quiz\n", "## Quiz\n\n## quiz\n", 25, "a second “## Quiz”."),
        ("# Selling the endless aisle", "# " + "x" * 201, 1, "a title is 200 characters at most."),
        (
            "- [ ] Only from your own stockroom.",
            "- [ ] " + "x" * 301,
            28,
            "300 characters at most.",
        ),
        (
            "## Placing the order",
            "### Placing the order",
            11,
            "a question (### …) outside the quiz",
        ),
        ("## Quiz\n\n###", "## Quiz\n\n- [x] Early.\n\n###", 25, "an answer before any question"),
        ("## Quiz\n\n###", "## Quiz\n\nWhat?\n\n###", 25, "under “## Quiz” each question starts"),
        ("- [x] Other stores", "- [ ] Other stores", 25, "this question has no right answer"),
        (
            "\n- [ ] Only from your own stockroom.",
            "\nAnd what else?",
            28,
            "an answer starts with “- [x] ”",
        ),
        ("- [ ] Only from your own stockroom.", "- [ ]", 28, "an answer without text."),
    ],
)
def test_a_malformed_text_is_named_with_its_line(folder, db, old, new, line, message):
    edit(folder / EN, old, new)
    errors = [e for e in errors_of(folder) if e.startswith(EN)]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{EN}:{line}: "), errors[0]
    assert message in errors[0]


def whole_file(text: str) -> str:
    return ""


def before_first_module(text: str) -> str:
    return "# Selling the endless aisle\n\n" + text[text.index("## The whole") :]


def without_modules(text: str) -> str:
    return text[: text.index("## The whole")] + text[text.index("## Quiz") :]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (whole_file, "empty: a course file starts with “# Title”."),
        (before_first_module, "no summary: write it under the title, before the first module."),
        (without_modules, "no modules: each module starts with “## Module title”."),
    ],
)
def test_a_text_missing_a_part_is_named(folder, db, change, message):
    (folder / EN).write_text(change((folder / EN).read_text(encoding="utf-8")), encoding="utf-8")
    assert errors_of(folder)[0] == f"{EN}: {message}"


def test_a_bad_course_code_or_path_is_named(folder, db):
    for path in folder.glob(f"{CODE}.*"):
        path.rename(folder / path.name.replace(CODE, "Endless_Aisle"))
    [error] = errors_of(folder)
    assert error.startswith("Endless_Aisle.toml: a course code is lower-case letters")
    assert errors_of(folder / "nowhere") == ["nowhere: no such file or folder."]


def test_a_question_needs_two_answers(folder, db):
    text = (folder / EN).read_text(encoding="utf-8")
    question = text.index("### ", text.index("## Quiz"))
    first = text.index("- [x]", question)
    end = text.index("\n\n###", first)
    (folder / EN).write_text(text[: text.index("\n", first) + 1] + text[end:], encoding="utf-8")
    assert errors_of(folder)[0] == (
        f"{EN}:25: this question needs at least two answers (- [x] right, - [ ] wrong)."
    )


def test_a_one_answer_question_with_two_right_is_refused(folder, db):
    edit(folder / EN, "- [ ] Only from your own stockroom.", "- [x] Only from your own stockroom.")
    errors = errors_of(folder)
    assert errors[0] == (
        f"{EN}:25: question 1 is a one-answer question (“single” in {CODE}.toml) "
        "but marks 2 answers right."
    )


def test_a_language_whose_modules_differ_from_the_course_is_refused(folder, db):
    zh = folder / f"{CODE}.zh-hans.md"
    text = zh.read_text(encoding="utf-8")
    start = text.index("## 下单")
    zh.write_text(text[:start] + text[text.index("## ", start + 3) :], encoding="utf-8")
    assert errors_of(folder) == [
        f"{CODE}.zh-hans.md: 2 modules, but {CODE}.toml gives illustrations for 3: "
        "every language has the same modules."
    ]


def test_a_language_whose_questions_differ_from_the_course_is_refused(folder, db):
    zh = folder / f"{CODE}.zh-hans.md"
    zh.write_text(zh.read_text(encoding="utf-8").rsplit("\n### ", 1)[0] + "\n", encoding="utf-8")
    assert errors_of(folder) == [
        f"{CODE}.zh-hans.md: 3 quiz questions, but {CODE}.toml lists 4: "
        "every language has the same questions."
    ]


def test_a_language_marking_another_answer_right_is_refused(folder, db):
    zh = folder / f"{CODE}.zh-hans.md"
    edit(zh, "- [x] 其他门店、配送中心或直发供应商。", "- [ ] 其他门店、配送中心或直发供应商。")
    edit(zh, "- [ ] 只能从你自己的库房。", "- [x] 只能从你自己的库房。")
    line = zh.read_text(encoding="utf-8").splitlines().index("## Quiz") + 3
    [error] = errors_of(folder)
    assert error.startswith(f"{CODE}.zh-hans.md:{line}: question 1 does not match {CODE}.en.md")


def test_every_problem_in_every_course_is_listed_at_once(folder, db):
    write_course(folder, "pickup-basics", SMALL_TOML.replace("minutes = 10\n", ""), en=SMALL_EN)
    edit(folder / EN, "- [x] Other stores", "- [ ] Other stores")
    errors = errors_of(folder)
    assert len(errors) == 2
    assert errors[0].startswith(f"{EN}:25: this question has no right answer")
    assert errors[1] == "pickup-basics.toml: field “minutes”: missing."


def test_an_unknown_area_or_skill_is_refused_before_anything_is_written(tmp_path, program):
    toml = SMALL_TOML.replace('"operations"', '"logistics"').replace(
        "bopis_fulfilment", "bopis_fulfillment"
    )
    write_course(tmp_path, "pickup-basics", toml, en=SMALL_EN)
    with pytest.raises(ContentErrors) as caught:
        courses_import(courses=load_courses([tmp_path]))
    messages = [str(e) for e in caught.value.errors]
    assert messages[0].startswith("pickup-basics.toml: field “area”: no skill area “logistics”")
    assert messages[1].startswith(
        "pickup-basics.toml: field “grants”: no skill “bopis_fulfillment”"
    )
    assert not Course.objects.filter(code="pickup-basics").exists()


# --- Importing ------------------------------------------------------------------------


def run_import(*args: str) -> str:
    out = io.StringIO()
    call_command("training_import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def course_rows(code: str) -> dict:
    """Every row of one course with its id and what it says."""
    course = Course.objects.get(code=code)
    return {
        "course": (course.pk, course.updated_at, course.estimated_minutes),
        "grants": sorted(course.grants.values_list("pk", "skill__code", "level")),
        "texts": sorted(
            CourseText.objects.filter(course=course).values_list(
                "pk", "language", "title", "summary"
            )
        ),
        "modules": sorted(
            Module.objects.filter(text__course=course).values_list(
                "pk", "text__language", "position", "title", "body", "illustration"
            )
        ),
        "questions": sorted(
            Question.objects.filter(text__course=course).values_list(
                "pk", "text__language", "position", "prompt", "kind"
            )
        ),
        "choices": sorted(
            Choice.objects.filter(question__text__course=course).values_list(
                "pk", "question_id", "position", "text", "is_correct"
            )
        ),
    }


def test_importing_the_shipped_courses_again_changes_nothing(program):
    before = {code: course_rows(code) for code in Course.objects.values_list("code", flat=True)}
    out = run_import()
    assert "10 courses read." in out
    assert "welcome-omnichannel: unchanged" in out
    assert "0 created, 0 updated, 10 unchanged." in out
    assert {code: course_rows(code) for code in before} == before


def test_a_new_course_is_created_then_left_alone(tmp_path, program):
    write_course(tmp_path, "pickup-basics", SMALL_TOML, en=SMALL_EN, zh_hans=SMALL_ZH)
    out = run_import(str(tmp_path))
    assert "pickup-basics: created" in out and "1 created, 0 updated, 0 unchanged." in out
    rows = course_rows("pickup-basics")
    assert rows["grants"][0][1:] == ("bopis_fulfilment", 1)
    assert [t[1:3] for t in rows["texts"]] == [
        ("en", "Pickup in five minutes"),
        ("zh-hans", "五分钟学会自提"),
    ]
    assert [m[2:4] + m[5:] for m in rows["modules"] if m[1] == "en"] == [
        (1, "The shelf", "pickup"),
        (2, "The hand-over", ""),
    ]
    assert [(q[2], q[4]) for q in rows["questions"] if q[1] == "en"] == [
        (1, "single"),
        (2, "multiple"),
    ]
    assert len(rows["choices"]) == 10
    assert "pickup-basics: unchanged" in run_import(str(tmp_path))
    assert course_rows("pickup-basics") == rows


@pytest.fixture
def passed(program, associate):
    """An associate who passed the endless-aisle course: enrolment, attempt, certificate."""
    course = Course.objects.get(code=CODE)
    attempt = factories.course_passed(associate, course)
    assert attempt.passed
    return attempt


def test_a_changed_text_updates_the_course_in_place_keeping_what_people_did(folder, passed):
    attempt = passed
    enrolment = attempt.enrolment
    certificate = Certification.objects.get(enrolment=enrolment)
    before = course_rows(CODE)
    edit(folder / EN, "# Selling the endless aisle", "# Selling beyond the shelf")
    edit(folder / EN, "Take payment as for any sale.", "Take payment as for any other sale.")
    edit(folder / EN, "What do you promise?", "What date do you promise?")
    edit(folder / EN, "- [ ] No date at all.", "- [ ] No date, to be safe.")
    edit(folder / f"{CODE}.toml", "minutes = 15", "minutes = 20")

    out = run_import(str(folder))

    assert (
        f"{CODE}: updated (estimated time (minutes), en: title, en: module 2, en: question 2)"
        in out
    )
    after = course_rows(CODE)
    # The same rows, changed where the file changed.
    for part in ("grants", "texts", "modules", "questions", "choices"):
        assert [r[0] for r in after[part]] == [r[0] for r in before[part]], part
    assert after["course"][2] == 20
    texts = {t[1]: t[2] for t in after["texts"]}
    assert texts == {"en": "Selling beyond the shelf", "zh-hans": "无限货架销售"}
    module = Module.objects.get(text__course__code=CODE, text__language="en", position=2)
    assert "Take payment as for any other sale." in module.body
    question = Question.objects.get(text__course__code=CODE, text__language="en", position=2)
    assert question.prompt.endswith("What date do you promise?")
    assert list(question.choices.values_list("text", flat=True))[2] == "No date, to be safe."
    assert len(set(after["choices"]) - set(before["choices"])) == 1  # only that answer
    # Nothing anyone did is lost: the enrolment, the attempt and its review, the certificate.
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.PASSED
    assert Attempt.objects.get(pk=attempt.pk).order == attempt.order
    review = services.attempt_review(Attempt.objects.get(pk=attempt.pk))
    assert len(review) == 4
    assert Certification.objects.get(pk=certificate.pk).number == certificate.number
    # And importing the same files again changes nothing.
    assert f"{CODE}: unchanged" in run_import(str(folder))
    assert course_rows(CODE) == after


def test_a_question_added_in_every_language_is_added_to_each_text(folder, passed):
    before = course_rows(CODE)
    edit(folder / f"{CODE}.toml", '"multiple", "single"]', '"multiple", "single", "single"]')
    with (folder / EN).open("a", encoding="utf-8") as f:
        f.write(
            "\n### Who pays the delivery?\n\n- [x] As the tablet says.\n- [ ] Always the store.\n"
        )
    with (folder / f"{CODE}.zh-hans.md").open("a", encoding="utf-8") as f:
        f.write("\n### 运费由谁支付？\n\n- [x] 以平板显示为准。\n- [ ] 总是门店。\n")

    out = run_import(str(folder))

    assert f"{CODE}: updated (en: question 5, zh-hans: question 5)" in out
    after = course_rows(CODE)
    assert set(before["questions"]) < set(after["questions"])
    assert len(after["questions"]) == len(before["questions"]) + 2
    assert set(before["choices"]) < set(after["choices"])


def test_the_dry_run_says_what_would_change_and_writes_nothing(folder, passed):
    before = course_rows(CODE)
    edit(folder / EN, "# Selling the endless aisle", "# Selling beyond the shelf")
    edit(folder / f"{CODE}.toml", "endless_aisle = 2", "endless_aisle = 3")

    out = run_import("--dry-run", str(folder / EN))

    assert f"{CODE}: updated (skills it grants, en: title)" in out
    assert "0 created, 1 updated, 0 unchanged. Dry run: nothing was written." in out
    assert course_rows(CODE) == before


def test_a_malformed_file_stops_the_whole_import(folder, program):
    write_course(folder, "pickup-basics", SMALL_TOML, en=SMALL_EN, zh_hans=SMALL_ZH)
    edit(folder / EN, "# Selling the endless aisle", "# Selling beyond the shelf")
    edit(folder / f"{CODE}.zh-hans.md", "- [x] 其他门店", "- [ ] 其他门店")
    err = io.StringIO()

    with pytest.raises(
        CommandError, match=r"^1 problem in the course files; nothing was imported\.$"
    ):
        call_command("training_import", str(folder), stdout=io.StringIO(), stderr=err)

    assert f"{CODE}.zh-hans.md:" in err.getvalue()
    assert "this question has no right answer" in err.getvalue()
    assert not Course.objects.filter(code="pickup-basics").exists()
    assert (
        CourseText.objects.get(course__code=CODE, language="en").title
        == "Selling the endless aisle"
    )


def test_the_errors_read_in_chinese_for_a_chinese_author(folder, db):
    edit(folder / f"{CODE}.toml", "minutes = 15\n", "")
    edit(folder / EN, "- [x] Other stores", "- [ ] Other stores")
    with translation.override("zh-hans"):
        errors = errors_of(folder)
    assert errors == [
        f"{CODE}.toml: 字段“minutes”：缺少此项。",
        f"{EN}:25: 这道题没有正确答案：请用“- [x]”标出。",
    ]


# --- The skill framework file --------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'name_zh = "解读跨渠道购物旅程"\n',
            "",
            "customer.skills[1]: field “name_zh” is missing or not filled in.",
        ),
        (
            "requirements = { associate = 2, store_manager = 3 }",
            "requirements = { associate = 2 }",
            "customer.skills[1].requirements: field “store_manager” is missing",
        ),
        ("level = 4\n", 'level = "4"\n', "cross_channel_behaviour.levels[4]: field “level”"),
        (
            'operation = "outreach_send"\nskill = "clienteling_privacy"',
            'operation = "outreach_send"\nskill = "clienteling"',
            "operation_rules[1]: no skill “clienteling” in the framework.",
        ),
        ('code = "customer"\n', 'code = "customer\n', "not readable: "),
    ],
)
def test_a_malformed_framework_is_named(tmp_path, db, old, new, message):
    path = tmp_path / "framework.toml"
    shutil.copy(FRAMEWORK_FILE, path)
    edit(path, old, new)
    with pytest.raises(ContentErrors) as caught:
        load_framework(path)
    [error] = caught.value.errors
    assert str(error).startswith(f"framework.toml: {message}")


def test_the_command_on_an_empty_database_installs_the_whole_program(store):
    dry = run_import("--dry-run")
    assert "The skill framework was missing; installed: areas 6, skills 9" in dry
    assert "10 created, 0 updated, 0 unchanged. Dry run: nothing was written." in dry
    assert not SkillArea.objects.exists() and not Course.objects.exists()

    out = run_import()

    assert "10 created, 0 updated, 0 unchanged." in out
    installed = json.loads(json.dumps(program_snapshot()))
    assert installed == json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert "framework" not in run_import()
