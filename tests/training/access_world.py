"""Real arguments for training's URL patterns in the access matrix
(tests/retail/test_access_matrix.py): a course the world's associate passed, its
attempt and certificate, and the associate as the team member."""

from __future__ import annotations

from tests import factories


def _objects(world):
    if not hasattr(world, "training"):
        associate = world.users["associate"]
        course = factories.CourseFactory(code="matrix-course", grants={factories.SkillFactory(): 2})
        attempt = factories.course_passed(associate, course)
        world.training = {
            "course": course,
            "attempt": attempt,
            "certificate": attempt.enrolment.certification,
        }
    return world.training


def url_kwargs(world, name: str) -> dict:
    objects = _objects(world)
    code = {"code": objects["course"].code}
    member = {"user_id": world.users["associate"].pk}
    return {
        "training:course": code,
        "training:enrol": code,
        "training:module": {**code, "position": 1},
        "training:quiz_start": code,
        "training:rate": code,
        "training:attempt": {"pk": objects["attempt"].pk},
        "training:certificate": {"pk": objects["certificate"].pk},
        "training:gate": {"operation": "handover_without_code"},
        "training:member": member,
        "training:member_assess": member,
        "training:member_assign": member,
        "training:member_override": member,
        "training:member_csv": member,
        "training_hq:store": {"code": world.store.code},
        "training_hq:store_csv": {"code": world.store.code},
    }[name]
