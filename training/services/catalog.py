"""Installing the program: the skill framework, requirements, operation rules and
the courses written in `training/content/`, in every language they exist in."""

from __future__ import annotations

from django.db import transaction

from retail.models import Store
from training.content import en, framework, zh_hans
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

CONTENT_LANGUAGES = (en, zh_hans)


@transaction.atomic
def content_sync() -> dict[str, int]:
    """Install what is missing of the program; what exists is left as HQ keeps it
    (a requirement or rule HQ changed in admin is not reset). Safe to run again."""
    created = dict.fromkeys(("areas", "skills", "requirements", "rules", "courses", "texts"), 0)
    areas = {}
    for position, (code, name, name_zh) in enumerate(framework.AREAS, start=1):
        areas[code], new = SkillArea.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "position": position}
        )
        created["areas"] += new
    skills = {}
    for area_code, specs in framework.SKILLS.items():
        for position, (code, name, name_zh, text, text_zh, levels) in enumerate(specs, start=1):
            skill, new = Skill.objects.get_or_create(
                code=code,
                defaults={
                    "area": areas[area_code],
                    "name": name,
                    "name_zh": name_zh,
                    "description": text,
                    "description_zh": text_zh,
                    "position": position,
                },
            )
            skills[code] = skill
            created["skills"] += new
            for level, (en_text, zh_text) in levels.items():
                LevelDescriptor.objects.get_or_create(
                    skill=skill, level=level, defaults={"text": en_text, "text_zh": zh_text}
                )
    for code, (associate, manager) in framework.REQUIREMENTS.items():
        for role, level in (("associate", associate), ("store_manager", manager)):
            _obj, new = Requirement.objects.get_or_create(
                role=role, skill=skills[code], store=None, defaults={"level": level}
            )
            created["requirements"] += new
    stores = {
        s.code: s
        for s in Store.objects.filter(code__in=[r[0] for r in framework.STORE_REQUIREMENTS])
    }
    for store_code, role, code, level in framework.STORE_REQUIREMENTS:
        if store_code in stores:
            _obj, new = Requirement.objects.get_or_create(
                role=role, skill=skills[code], store=stores[store_code], defaults={"level": level}
            )
            created["requirements"] += new
    for operation, code, level in framework.OPERATION_RULES:
        _obj, new = OperationRule.objects.get_or_create(
            operation=operation, defaults={"skill": skills[code], "level": level}
        )
        created["rules"] += new
    for spec in framework.COURSES:
        course, new = Course.objects.get_or_create(
            code=spec["code"],
            defaults={
                "area": areas[spec["area"]],
                "estimated_minutes": spec["minutes"],
                "onboarding_position": spec.get("onboarding"),
                "onboarding_due_days": spec.get("onboarding_due_days", 14),
                "pass_mark": spec.get("pass_mark", 75),
                "max_attempts": spec.get("max_attempts", 3),
                "valid_months": spec.get("valid_months", 12),
            },
        )
        created["courses"] += new
        if new:
            CourseGrant.objects.bulk_create(
                [
                    CourseGrant(course=course, skill=skills[code], level=level)
                    for code, level in spec["grants"].items()
                ]
            )
        for content in CONTENT_LANGUAGES:
            if spec["code"] in content.COURSES:
                created["texts"] += course_text_install(
                    course=course, language=content.LANGUAGE, data=content.COURSES[spec["code"]]
                )
    return created


def course_text_install(*, course: Course, language: str, data: dict) -> int:
    """Write one course's text in one language, unless it exists already."""
    if CourseText.objects.filter(course=course, language=language).exists():
        return 0
    text = CourseText.objects.create(
        course=course, language=language, title=data["title"], summary=data["summary"]
    )
    Module.objects.bulk_create(
        [
            Module(
                text=text,
                position=position,
                title=module["title"],
                body=module["body"],
                illustration=module.get("illustration", ""),
                video_url=module.get("video_url", ""),
            )
            for position, module in enumerate(data["modules"], start=1)
        ]
    )
    for position, (kind, prompt, answers) in enumerate(data["quiz"], start=1):
        validate_question_choices(kind, [correct for _text, correct in answers])
        question = Question.objects.create(text=text, position=position, prompt=prompt, kind=kind)
        Choice.objects.bulk_create(
            [
                Choice(question=question, position=n, text=answer, is_correct=correct)
                for n, (answer, correct) in enumerate(answers, start=1)
            ]
        )
    return 1
