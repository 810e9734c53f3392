"""Reading the course files in `training/content/courses/` (the format is in the README,
"Writing a course").

Each course is three files with the course code as their name:

- `<code>.toml`: what is the same in every language (area, minutes, the skills it
  grants, one illustration per module, the kind of each quiz question);
- `<code>.en.md`, `<code>.zh-hans.md`: the course written in one language (title,
  summary, modules, quiz with its right answers marked), in plain Markdown.

The skill framework (areas, skills, what each level means, requirements, operation
rules) is `framework.toml`, read by `load_framework()`.

Nothing here touches the database: `load_courses()` returns `CourseSpec`s or raises
`ContentErrors` naming the file, the line or field, and what is wrong, in words.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from training.models import ILLUSTRATIONS, QuestionKind

COURSES_DIR = Path(__file__).resolve().parent / "courses"
FRAMEWORK_FILE = Path(__file__).resolve().parent / "framework.toml"
LANGUAGES = [code for code, _name in settings.LANGUAGES]
FALLBACK_LANGUAGE = "en"
QUIZ_HEADING = "quiz"
TITLE_MAX, ANSWER_MAX = 200, 300

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HEADING = re.compile(r"^(#+)(?:\s+(.*))?$")
_ANSWER = re.compile(r"^[-*]\s+\[( |x|X)\]\s*(.*)$")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


class ContentError(Exception):
    """One problem in one file: `path:line: message` (the line when there is one)."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path, self.line, self.message = path, line, message
        where = f"{path.name}:{line}" if line else path.name
        super().__init__(f"{where}: {message}")


class ContentErrors(Exception):
    """Every problem found in the files read, so an author can fix them in one go."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class QuestionText:
    line: int
    prompt: str
    answers: list[tuple[str, bool]]


@dataclass(frozen=True)
class ModuleText:
    line: int
    title: str
    body: str


@dataclass(frozen=True)
class CourseTextSpec:
    """One course in one language, as its Markdown file says."""

    path: Path
    language: str
    title: str
    summary: str
    modules: list[ModuleText]
    questions: list[QuestionText]


@dataclass(frozen=True)
class CourseSpec:
    """One course: the language-neutral part and its texts, checked against each other."""

    code: str
    path: Path
    area: str
    minutes: int
    grants: dict[str, int]
    illustrations: list[str]
    quiz: list[str]
    onboarding: int | None = None
    onboarding_due_days: int = 14
    pass_mark: int = 75
    max_attempts: int = 3
    valid_months: int = 12
    texts: dict[str, CourseTextSpec] = field(default_factory=dict)


# --- Finding the files ------------------------------------------------------------


def course_codes(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """(folder, code) of every course the paths name: a folder means each course in
    it; a file means its course (whichever of the course's files is named)."""
    found: dict[tuple[Path, str], None] = {}
    for path in paths:
        path = Path(path)
        if path.is_dir():  # a text without its .toml is found too, and reported
            for file in sorted([*path.glob("*.toml"), *path.glob("*.md")]):
                found[(path, file.name.split(".", 1)[0])] = None
            continue
        if not path.exists():
            raise ContentErrors([ContentError(path, _("no such file or folder."))])
        found[(path.parent, path.name.split(".", 1)[0])] = None
    return list(found)


def load_courses(paths: Iterable[Path] = (COURSES_DIR,)) -> list[CourseSpec]:
    """Every course the paths name, checked; `ContentErrors` lists every problem."""
    courses, errors = [], []
    for folder, code in course_codes(paths):
        try:
            courses.append(load_course(folder, code))
        except ContentErrors as problems:
            errors += problems.errors
    if errors:
        raise ContentErrors(errors)
    return courses


def load_course(folder: Path, code: str) -> CourseSpec:
    path = folder / f"{code}.toml"
    if not _CODE.match(code):
        raise ContentErrors(
            [
                ContentError(
                    path,
                    _(
                        "a course code is lower-case letters, digits and hyphens "
                        "(like pickup-done-right)."
                    ),
                )
            ]
        )
    if not path.exists():
        raise ContentErrors(
            [
                ContentError(
                    path, _("missing: every course needs its %(file)s.") % {"file": path.name}
                )
            ]
        )
    errors: list[ContentError] = []
    course = None
    try:
        course = parse_course(path)
    except ContentError as error:
        errors.append(error)
    texts = {}
    for language in LANGUAGES:
        md = folder / f"{code}.{language}.md"
        if not md.exists():
            if language == FALLBACK_LANGUAGE:
                errors.append(
                    ContentError(
                        md,
                        _("missing: every course is written in English at least."),
                    )
                )
            continue
        try:
            texts[language] = parse_text(md, language)
        except ContentError as error:
            errors.append(error)
    for stray in sorted(folder.glob(f"{code}.*.md")):
        language = stray.name[len(code) + 1 : -len(".md")]
        if language not in LANGUAGES:
            errors.append(
                ContentError(
                    stray,
                    _("unknown language %(language)s (the languages are: %(known)s).")
                    % {"language": language, "known": ", ".join(LANGUAGES)},
                )
            )
    if course is not None:
        for text in texts.values():
            errors += _structure_errors(course, text, texts.get(FALLBACK_LANGUAGE))
    if errors:
        raise ContentErrors(errors)
    course.texts.update(texts)
    return course


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentError(path, _("not UTF-8 text: save the file as UTF-8.")) from None


# --- The language-neutral file -------------------------------------------------------

_FIELDS = {
    # field: (required, smallest, largest)
    "area": (True, None, None),
    "minutes": (True, 1, 600),
    "grants": (True, None, None),
    "illustrations": (True, None, None),
    "quiz": (True, None, None),
    "onboarding": (False, 1, 100),
    "onboarding_due_days": (False, 1, 365),
    "pass_mark": (False, 1, 100),
    "max_attempts": (False, 1, 10),
    "valid_months": (False, 1, 60),
}


def parse_course(path: Path) -> CourseSpec:
    try:
        data = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as error:
        raise ContentError(path, _("not readable: %(error)s.") % {"error": error}) from None

    def fail(name: str, message: str) -> ContentError:
        return ContentError(
            path, _("field “%(field)s”: %(message)s") % {"field": name, "message": message}
        )

    for name in data:
        if name not in _FIELDS:
            raise fail(
                name,
                _("unknown field (the fields are: %(known)s).") % {"known": ", ".join(_FIELDS)},
            )
    for name, (required, low, high) in _FIELDS.items():
        if name not in data:
            if required:
                raise fail(name, _("missing."))
            continue
        if low is not None:
            value = data[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise fail(
                    name, _("a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
                )
    if not isinstance(data["area"], str) or not data["area"]:
        raise fail("area", _("the code of a skill area, in quotes."))
    grants = data["grants"]
    if not isinstance(grants, dict) or not grants:
        raise fail(
            "grants",
            _("at least one skill with the level passing gives, like {bopis_fulfilment = 2}."),
        )
    for skill, level in grants.items():
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 4:
            raise fail(
                "grants",
                _("the level for %(skill)s is a whole number from 1 to 4.") % {"skill": skill},
            )
    illustrations = data["illustrations"]
    known = [code for code, _label in ILLUSTRATIONS]
    if not isinstance(illustrations, list) or not illustrations:
        raise fail("illustrations", _('one illustration per module, like ["journey", "tablet"].'))
    for name in illustrations:
        if name != "" and name not in known:
            raise fail(
                "illustrations",
                _(
                    "unknown illustration “%(name)s” (the illustrations are: %(known)s; "
                    '"" for none).'
                )
                % {"name": name, "known": ", ".join(known)},
            )
    quiz = data["quiz"]
    if not isinstance(quiz, list) or any(kind not in QuestionKind.values for kind in quiz):
        raise fail(
            "quiz",
            _('one kind per question: "single" (one right answer) or "multiple" (one or more).'),
        )
    options = {name: data[name] for name in _FIELDS if name in data}
    return CourseSpec(code=path.stem, path=path, **options)


# --- A course in one language ---------------------------------------------------


def parse_text(path: Path, language: str) -> CourseTextSpec:
    """Read `# Title`, the summary under it, `## Module` sections, then `## Quiz` with
    `### Question` sections whose answers are `- [x] right` / `- [ ] wrong`."""
    lines = _read(path).splitlines()
    title = None
    summary: list[str] = []
    modules: list[tuple[int, str, list[str]]] = []
    questions: list[tuple[int, list[str], list[list]]] = []
    in_quiz = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        stripped = line.strip()
        heading = _HEADING.match(line)
        level = len(heading.group(1)) if heading else 0
        if level > 3:
            raise ContentError(
                path,
                _("only “#”, “##” and “###” headings: the title, modules, questions."),
                number,
            )
        if heading and not heading.group(2):
            raise ContentError(path, _("a heading without text."), number)
        if level == 1:
            if title is not None:
                raise ContentError(
                    path,
                    _("a second title: a course file has one “# title” line, at the top."),
                    number,
                )
            title = _heading(path, heading, number)
        elif title is None:
            if stripped:
                raise ContentError(
                    path, _("the file starts with the course title: “# Title”."), number
                )
        elif level == 2:
            text = _heading(path, heading, number)
            if text.casefold() == QUIZ_HEADING:
                if in_quiz:
                    raise ContentError(path, _("a second “## Quiz”."), number)
                in_quiz = True
            elif in_quiz:
                raise ContentError(
                    path,
                    _("a module after the quiz: modules come first, “## Quiz” last."),
                    number,
                )
            else:
                modules.append((number, text, []))
        elif level == 3:
            if not in_quiz:
                raise ContentError(
                    path,
                    _("a question (### …) outside the quiz: put it under “## Quiz”."),
                    number,
                )
            questions.append((number, [_heading(path, heading, number)], []))
        elif in_quiz:
            _quiz_line(path, line, number, questions)
        elif modules:
            modules[-1][2].append(stripped)
        else:
            summary.append(stripped)
    if title is None:
        raise ContentError(path, _("empty: a course file starts with “# Title”."))
    summary_text = _paragraphs(summary)
    if not summary_text:
        raise ContentError(
            path, _("no summary: write it under the title, before the first module.")
        )
    if not modules:
        raise ContentError(path, _("no modules: each module starts with “## Module title”."))
    module_texts = []
    for number, heading, body in modules:
        text = _paragraphs(body)
        if not text:
            raise ContentError(
                path, _("module “%(title)s” has no text.") % {"title": heading}, number
            )
        module_texts.append(ModuleText(number, heading, text))
    question_texts = []
    for number, prompt, answers in questions:
        if len(answers) < 2:
            raise ContentError(
                path,
                _("this question needs at least two answers (- [x] right, - [ ] wrong)."),
                number,
            )
        if not any(right for _line, _text, right in answers):
            raise ContentError(
                path, _("this question has no right answer: mark it “- [x]”."), number
            )
        for line, text, _right in answers:
            if not text:
                raise ContentError(path, _("an answer without text."), line)
            if len(text) > ANSWER_MAX:
                raise ContentError(
                    path, _("an answer is %(max)s characters at most.") % {"max": ANSWER_MAX}, line
                )
        question_texts.append(
            QuestionText(
                number,
                _join(prompt),
                [(_join([text]), right) for _line, text, right in answers],
            )
        )
    return CourseTextSpec(path, language, title, summary_text, module_texts, question_texts)


def _heading(path: Path, heading: re.Match, number: int) -> str:
    text = heading.group(2).strip()
    if len(text) > TITLE_MAX:
        raise ContentError(
            path, _("a title is %(max)s characters at most.") % {"max": TITLE_MAX}, number
        )
    return text


def _quiz_line(path: Path, line: str, number: int, questions: list) -> None:
    stripped = line.strip()
    answer = _ANSWER.match(stripped)
    if answer:
        if not questions:
            raise ContentError(
                path, _("an answer before any question: a question starts with “### ”."), number
            )
        questions[-1][2].append([number, answer.group(2).strip(), answer.group(1) != " "])
    elif not stripped:
        return
    elif not questions:
        raise ContentError(path, _("under “## Quiz” each question starts with “### ”."), number)
    elif questions[-1][2] and line[:1].isspace():
        questions[-1][2][-1][1] = _join([questions[-1][2][-1][1], stripped])
    elif not questions[-1][2]:
        questions[-1][1].append(stripped)
    else:
        raise ContentError(
            path,
            _("an answer starts with “- [x] ” (right) or “- [ ] ” (wrong)."),
            number,
        )


def _join(lines: list[str]) -> str:
    """Lines of one paragraph, joined as Markdown does: with a space, except between
    Chinese characters (which have none)."""
    text = ""
    for line in lines:
        if text and not (_CJK.match(text[-1]) or _CJK.match(line[:1])):
            text += " "
        text += line
    return text


def _paragraphs(lines: list[str]) -> str:
    """An empty line starts a paragraph; a paragraph's lines are one line of text."""
    paragraphs, current = [], []
    for line in [*lines, ""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(_join(current))
            current = []
    return "\n\n".join(paragraphs)


# --- The languages against the course -----------------------------------------------


def _structure_errors(
    course: CourseSpec, text: CourseTextSpec, reference: CourseTextSpec | None
) -> list[ContentError]:
    """The modules and questions a language file has must be the ones the course
    declares, with the same answers right as in English."""
    path = text.path
    errors = []
    if len(text.modules) != len(course.illustrations):
        errors.append(
            ContentError(
                path,
                _(
                    "%(found)s modules, but %(course)s gives illustrations for %(expected)s: "
                    "every language has the same modules."
                )
                % {
                    "found": len(text.modules),
                    "course": course.path.name,
                    "expected": len(course.illustrations),
                },
            )
        )
    if len(text.questions) != len(course.quiz):
        errors.append(
            ContentError(
                path,
                _(
                    "%(found)s quiz questions, but %(course)s lists %(expected)s: every "
                    "language has the same questions."
                )
                % {
                    "found": len(text.questions),
                    "course": course.path.name,
                    "expected": len(course.quiz),
                },
            )
        )
        return errors
    for position, (question, kind) in enumerate(
        zip(text.questions, course.quiz, strict=True), start=1
    ):
        right = sum(1 for _answer, ok in question.answers if ok)
        if kind == QuestionKind.SINGLE and right != 1:
            errors.append(
                ContentError(
                    path,
                    _(
                        "question %(n)s is a one-answer question (“single” in %(course)s) "
                        "but marks %(right)s answers right."
                    )
                    % {"n": position, "course": course.path.name, "right": right},
                    question.line,
                )
            )
        if reference is None or reference is text or len(reference.questions) != len(course.quiz):
            continue
        expected = [ok for _answer, ok in reference.questions[position - 1].answers]
        if [ok for _answer, ok in question.answers] != expected:
            errors.append(
                ContentError(
                    path,
                    _(
                        "question %(n)s does not match %(reference)s: it has the same number "
                        "of answers, in the same order, with the same ones right."
                    )
                    % {"n": position, "reference": reference.path.name},
                    question.line,
                )
            )
    return errors


# --- The skill framework ---------------------------------------------------------------

_FRAMEWORK_FIELDS = {
    "areas": {"code": str, "name": str, "name_zh": str, "skills": list},
    "skills": {
        "code": str,
        "name": str,
        "name_zh": str,
        "description": str,
        "description_zh": str,
        "requirements": dict,
        "levels": list,
    },
    "levels": {"level": int, "en": str, "zh": str},
    "requirements": {"associate": int, "store_manager": int},
    "store_requirements": {"store": str, "role": str, "skill": str, "level": int},
    "operation_rules": {"operation": str, "skill": str, "level": int},
}


def load_framework(path: Path = FRAMEWORK_FILE) -> dict:
    """The framework file, checked: every table has its fields with the right kind of
    value, and every skill a requirement or rule names is in the framework."""
    try:
        return _framework(path)
    except ContentError as error:
        raise ContentErrors([error]) from None


def _framework(path: Path) -> dict:
    try:
        data = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as error:
        raise ContentError(path, _("not readable: %(error)s.") % {"error": error}) from None

    def check(table: dict, kind: str, where: str) -> None:
        for name, expected in _FRAMEWORK_FIELDS[kind].items():
            value = table.get(name)
            if not isinstance(value, expected) or isinstance(value, bool) or value in ("", []):
                raise ContentError(
                    path,
                    _("%(where)s: field “%(field)s” is missing or not filled in.")
                    % {"where": where, "field": name},
                )

    skills = set()
    for a, area in enumerate(data.get("areas") or [], start=1):
        check(area, "areas", f"areas[{a}]")
        for s, skill in enumerate(area["skills"], start=1):
            where = f"{area['code']}.skills[{s}]"
            check(skill, "skills", where)
            check(skill["requirements"], "requirements", f"{where}.requirements")
            skills.add(skill["code"])
            for n, level in enumerate(skill["levels"], start=1):
                check(level, "levels", f"{skill['code']}.levels[{n}]")
    if not skills:
        raise ContentError(path, _("no areas with skills (“[[areas]]”, “[[areas.skills]]”)."))
    for kind in ("store_requirements", "operation_rules"):
        for n, row in enumerate(data.get(kind) or [], start=1):
            check(row, kind, f"{kind}[{n}]")
            if row["skill"] not in skills:
                raise ContentError(
                    path,
                    _("%(where)s: no skill “%(skill)s” in the framework.")
                    % {"where": f"{kind}[{n}]", "skill": row["skill"]},
                )
    data.setdefault("store_requirements", [])
    data.setdefault("operation_rules", [])
    return data
