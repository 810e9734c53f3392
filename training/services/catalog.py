"""Installing the program: the skill framework, requirements and operation rules
(`training/content/framework.toml`) and the courses written as files in
`training/content/courses/` (both read by `training.content.files`), in every
language they exist in."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from retail.models import Store
from training.content.files import (
    ContentError,
    ContentErrors,
    CourseSpec,
    CourseTextSpec,
    QuestionText,
    load_courses,
    load_framework,
)
from training.models import (
    Choice,
    Course,
    CourseGrant,
    CourseText,
    LevelDescriptor,
    Module,
    OperationRule,
    Question,
    Requirement,
    Skill,
    SkillArea,
    validate_question_choices,
)


@transaction.atomic
def content_sync() -> dict[str, int]:
    """Install what is missing of the program; what exists is left as HQ keeps it
    (a requirement or rule HQ changed in admin is not reset). Safe to run again."""
    created = framework_sync() | {"courses": 0, "texts": 0}
    for outcome in courses_import(courses=load_courses(), update=False):
        created["courses"] += outcome.created
        created["texts"] += outcome.texts_created
    return created


@transaction.atomic
def framework_sync() -> dict[str, int]:
    """Install what is missing of the skill framework (`framework.toml`): areas,
    skills and their level descriptions, requirements, operation rules."""
    created = dict.fromkeys(("areas", "skills", "requirements", "rules"), 0)
    framework = load_framework()
    areas, skills = {}, {}
    for position, area in enumerate(framework["areas"], start=1):
        areas[area["code"]], new = SkillArea.objects.get_or_create(
            code=area["code"],
            defaults={"name": area["name"], "name_zh": area["name_zh"], "position": position},
        )
        created["areas"] += new
        for skill_position, spec in enumerate(area["skills"], start=1):
            skill, new = Skill.objects.get_or_create(
                code=spec["code"],
                defaults={
                    "area": areas[area["code"]],
                    "name": spec["name"],
                    "name_zh": spec["name_zh"],
                    "description": spec["description"],
                    "description_zh": spec["description_zh"],
                    "position": skill_position,
                },
            )
            skills[spec["code"]] = skill
            created["skills"] += new
            for level in spec["levels"]:
                LevelDescriptor.objects.get_or_create(
                    skill=skill,
                    level=level["level"],
                    defaults={"text": level["en"], "text_zh": level["zh"]},
                )
    for area in framework["areas"]:
        for spec in area["skills"]:
            for role, level in spec["requirements"].items():
                _obj, new = Requirement.objects.get_or_create(
                    role=role, skill=skills[spec["code"]], store=None, defaults={"level": level}
                )
                created["requirements"] += new
    store_rows = framework["store_requirements"]
    stores = {s.code: s for s in Store.objects.filter(code__in=[r["store"] for r in store_rows])}
    for row in store_rows:
        if row["store"] in stores:
            _obj, new = Requirement.objects.get_or_create(
                role=row["role"],
                skill=skills[row["skill"]],
                store=stores[row["store"]],
                defaults={"level": row["level"]},
            )
            created["requirements"] += new
    for rule in framework["operation_rules"]:
        _obj, new = OperationRule.objects.get_or_create(
            operation=rule["operation"],
            defaults={"skill": skills[rule["skill"]], "level": rule["level"]},
        )
        created["rules"] += new
    return created


@dataclass
class ImportOutcome:
    """What importing one course did: created it, or the list of what changed."""

    code: str
    created: bool = False
    texts_created: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.changes)


@transaction.atomic
def courses_import(*, courses: list[CourseSpec], update: bool = True) -> list[ImportOutcome]:
    """Create the courses the files describe and the texts they lack. With `update`,
    bring existing courses in line with their files *in place*: the same course, text,
    module, question and answer rows are changed, so enrolments, quiz attempts and
    certificates keep pointing at what they did. What already matches is not written,
    so importing twice changes nothing. Raises `ContentErrors` (writing nothing) for a
    skill area or skill the program does not have."""
    areas = {a.code: a for a in SkillArea.objects.all()}
    skills = {s.code: s for s in Skill.objects.all()}
    errors = []
    none_yet = _("none yet: install the skill framework first")
    for spec in courses:
        if spec.area not in areas:
            errors.append(
                ContentError(
                    spec.path,
                    _("field “area”: no skill area “%(code)s” (the areas are: %(known)s).")
                    % {"code": spec.area, "known": ", ".join(sorted(areas)) or none_yet},
                )
            )
        for code in spec.grants:
            if code not in skills:
                errors.append(
                    ContentError(
                        spec.path,
                        _("field “grants”: no skill “%(code)s” (the skills are: %(known)s).")
                        % {"code": code, "known": ", ".join(sorted(skills)) or none_yet},
                    )
                )
    if errors:
        raise ContentErrors(errors)
    existing = {
        c.code: c
        for c in Course.objects.filter(code__in=[s.code for s in courses]).prefetch_related(
            "grants__skill", "texts"
        )
    }
    return [
        _course_import(spec, existing.get(spec.code), areas, skills, update) for spec in courses
    ]


def _course_import(
    spec: CourseSpec, course: Course | None, areas: dict, skills: dict, update: bool
) -> ImportOutcome:
    outcome = ImportOutcome(spec.code)
    values = {
        "area": areas[spec.area],
        "estimated_minutes": spec.minutes,
        "onboarding_position": spec.onboarding,
        "onboarding_due_days": spec.onboarding_due_days,
        "pass_mark": spec.pass_mark,
        "max_attempts": spec.max_attempts,
        "valid_months": spec.valid_months,
    }
    texts = {}
    if course is None:
        course = Course.objects.create(code=spec.code, **values)
        CourseGrant.objects.bulk_create(
            [
                CourseGrant(course=course, skill=skills[code], level=level)
                for code, level in spec.grants.items()
            ]
        )
        outcome.created = True
    else:
        texts = {t.language: t for t in course.texts.all()}
        if update:
            outcome.changes += _course_update(course, values, spec.grants, skills)
    for language, text_spec in spec.texts.items():
        text = texts.get(language)
        if text is None:
            _text_create(course, spec, text_spec)
            outcome.texts_created += 1
            if not outcome.created:
                outcome.changes.append(_("%(language)s: new text") % {"language": language})
        elif update:
            outcome.changes += [
                f"{language}: {change}" for change in _text_update(text, spec, text_spec)
            ]
    return outcome


def _course_update(course: Course, values: dict, grants: dict[str, int], skills: dict) -> list:
    changed = [name for name, value in values.items() if getattr(course, name) != value]
    for name in changed:
        setattr(course, name, values[name])
    if changed:
        course.save(update_fields=[*changed, "updated_at"])
    changes = [str(Course._meta.get_field(name).verbose_name) for name in changed]
    current = {g.skill.code: g for g in course.grants.all()}
    grants_changed = False
    for code, level in grants.items():
        grant = current.pop(code, None)
        if grant is None:
            CourseGrant.objects.create(course=course, skill=skills[code], level=level)
            grants_changed = True
        elif grant.level != level:
            grant.level = level
            grant.save(update_fields=["level"])
            grants_changed = True
    if current:
        CourseGrant.objects.filter(pk__in=[g.pk for g in current.values()]).delete()
        grants_changed = True
    if grants_changed:
        changes.append(_("skills it grants"))
    return changes


def _text_create(course: Course, spec: CourseSpec, data: CourseTextSpec) -> None:
    text = CourseText.objects.create(
        course=course, language=data.language, title=data.title, summary=data.summary
    )
    Module.objects.bulk_create(
        [
            Module(
                text=text,
                position=position,
                title=module.title,
                body=module.body,
                illustration=illustration,
            )
            for position, (module, illustration) in enumerate(
                zip(data.modules, spec.illustrations, strict=True), start=1
            )
        ]
    )
    for position, (question, kind) in enumerate(
        zip(data.questions, spec.quiz, strict=True), start=1
    ):
        _question_create(text, position, kind, question)


def _question_create(text: CourseText, position: int, kind: str, data: QuestionText) -> None:
    validate_question_choices(kind, [right for _answer, right in data.answers])
    question = Question.objects.create(text=text, position=position, prompt=data.prompt, kind=kind)
    Choice.objects.bulk_create(
        [
            Choice(question=question, position=n, text=answer, is_correct=right)
            for n, (answer, right) in enumerate(data.answers, start=1)
        ]
    )


def _text_update(text: CourseText, spec: CourseSpec, data: CourseTextSpec) -> list[str]:
    """Change one language's text in place, position by position; returns what changed."""
    changes = []
    changed = _assign(text, {"title": data.title, "summary": data.summary})
    if changed:
        text.save(update_fields=changed)
        changes += [str(CourseText._meta.get_field(name).verbose_name) for name in changed]
    modules = {m.position: m for m in text.modules.all()}
    for position, (module_spec, illustration) in enumerate(
        zip(data.modules, spec.illustrations, strict=True), start=1
    ):
        values = {"title": module_spec.title, "body": module_spec.body}
        values["illustration"] = illustration
        module = modules.pop(position, None)
        if module is None:
            Module.objects.create(text=text, position=position, **values)
        elif changed := _assign(module, values):
            module.save(update_fields=changed)
        else:
            continue
        changes.append(_("module %(n)s") % {"n": position})
    if modules:
        Module.objects.filter(pk__in=[m.pk for m in modules.values()]).delete()
        changes += [_("module %(n)s removed") % {"n": n} for n in sorted(modules)]
    questions = {q.position: q for q in text.questions.prefetch_related("choices")}
    for position, (question_spec, kind) in enumerate(
        zip(data.questions, spec.quiz, strict=True), start=1
    ):
        question = questions.pop(position, None)
        if question is None:
            _question_create(text, position, kind, question_spec)
            changes.append(_("question %(n)s") % {"n": position})
        elif _question_update(question, kind, question_spec):
            changes.append(_("question %(n)s") % {"n": position})
    if questions:
        Question.objects.filter(pk__in=[q.pk for q in questions.values()]).delete()
        changes += [_("question %(n)s removed") % {"n": n} for n in sorted(questions)]
    return changes


def _question_update(question: Question, kind: str, data: QuestionText) -> bool:
    validate_question_choices(kind, [right for _answer, right in data.answers])
    changed = _assign(question, {"prompt": data.prompt, "kind": kind})
    if changed:
        question.save(update_fields=changed)
    choices = {c.position: c for c in question.choices.all()}
    for n, (answer, right) in enumerate(data.answers, start=1):
        choice = choices.pop(n, None)
        if choice is None:
            Choice.objects.create(question=question, position=n, text=answer, is_correct=right)
            changed = True
        elif fields := _assign(choice, {"text": answer, "is_correct": right}):
            choice.save(update_fields=fields)
            changed = True
    if choices:
        Choice.objects.filter(pk__in=[c.pk for c in choices.values()]).delete()
        changed = True
    return bool(changed)


def _assign(obj, values: dict) -> list[str]:
    """Set the fields that differ; returns their names."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed
