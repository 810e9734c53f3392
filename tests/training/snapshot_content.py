"""The program as the database holds it after `content_sync()`, as plain data: what
the course files must keep producing (compared with `data/content_snapshot.json`)."""

from __future__ import annotations

from django.db.models import F

from training.models import (
    Course,
    LevelDescriptor,
    OperationRule,
    Requirement,
    Skill,
    SkillArea,
)


def program_snapshot() -> dict:
    courses = []
    for course in Course.objects.order_by("code").prefetch_related(
        "grants__skill", "texts__modules", "texts__questions__choices"
    ):
        texts = {}
        for text in sorted(course.texts.all(), key=lambda t: t.language):
            texts[text.language] = {
                "title": text.title,
                "summary": text.summary,
                "modules": [
                    [m.position, m.title, m.body, m.illustration, m.video_url]
                    for m in sorted(text.modules.all(), key=lambda m: m.position)
                ],
                "questions": [
                    [
                        q.position,
                        q.kind,
                        q.prompt,
                        [
                            [c.position, c.text, c.is_correct]
                            for c in sorted(q.choices.all(), key=lambda c: c.position)
                        ],
                    ]
                    for q in sorted(text.questions.all(), key=lambda q: q.position)
                ],
            }
        courses.append(
            {
                "code": course.code,
                "area": course.area.code,
                "minutes": course.estimated_minutes,
                "pass_mark": course.pass_mark,
                "max_attempts": course.max_attempts,
                "valid_months": course.valid_months,
                "onboarding": course.onboarding_position,
                "onboarding_due_days": course.onboarding_due_days,
                "is_active": course.is_active,
                "grants": sorted([g.skill.code, g.level] for g in course.grants.all()),
                "texts": texts,
            }
        )
    return {
        "areas": list(
            SkillArea.objects.order_by("code").values_list("code", "name", "name_zh", "position")
        ),
        "skills": list(
            Skill.objects.order_by("code").values_list(
                "code", "area__code", "name", "name_zh", "description", "description_zh", "position"
            )
        ),
        "descriptors": list(
            LevelDescriptor.objects.order_by("skill__code", "level").values_list(
                "skill__code", "level", "text", "text_zh"
            )
        ),
        "requirements": list(
            # NULL stores last on every database (PostgreSQL's order, the snapshot's).
            Requirement.objects.order_by(
                "skill__code", "role", F("store__code").asc(nulls_last=True)
            ).values_list("skill__code", "role", "store__code", "level")
        ),
        "rules": list(
            OperationRule.objects.order_by("operation").values_list(
                "operation", "skill__code", "level"
            )
        ),
        "courses": courses,
    }
