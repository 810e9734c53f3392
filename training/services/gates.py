"""Certificates that gate operations.

Other apps ask before they let someone act:

    training.services.operation_allowed(user=request.user, operation="outreach_send")

and, when the person does it, `operation_authorise(...)`, which also uses up a
manager's one-time override. HQ keeps the rules (operation → skill and
certified level) in admin; an operation without an active rule is allowed.
When refused, `gate_explanation(...)` says why and which course unlocks it
(rendered by `templates/training/_gate_refusal.html`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retail import access
from retail.models import Store, User
from retail.services import audit_record
from training.models import (
    CertifiedSkill,
    Course,
    Enrolment,
    GateOverride,
    Level,
    OperationRule,
    Skill,
)
from training.services.errors import Conflict, NotAllowed, TrainingError
from training.services.levels import lock_person

#: The operations Aisle's screens ask about, with what they are in plain words.
OPERATIONS = {
    "outreach_send": gettext_lazy("Send an outreach message to a customer"),
    "aisle_delivery_order": gettext_lazy("Place an endless-aisle delivery order"),
    "handover_without_code": gettext_lazy(
        "Hand over a pickup without its code, after checking the customer's ID"
    ),
    "return_approve": gettext_lazy("Approve a return that needs a manager"),
}
#: A manager's override is for the moment at hand: it must be used within a shift.
OVERRIDE_VALID_FOR = dt.timedelta(hours=8)
REASON_MIN = 10
REASON_MAX = 1000


class OperationRefused(NotAllowed):
    """The person is not certified for the operation (and has no override)."""

    def __init__(self, explanation: GateExplanation) -> None:
        super().__init__(explanation.message)
        self.explanation = explanation


def operation_label(operation: str, rule: OperationRule | None = None) -> str:
    if operation in OPERATIONS:
        return str(OPERATIONS[operation])
    if rule is not None and rule.description:
        return rule.description
    return operation.replace("_", " ")


def _skill(skill: Skill | str) -> Skill | None:
    if isinstance(skill, Skill):
        return skill
    return Skill.objects.filter(code=skill).first()


def certified_level(*, user: User, skill: Skill | str, at: dt.datetime | None = None) -> int:
    """The highest level of `skill` a valid certificate of this person vouches for."""
    skill = _skill(skill)
    if skill is None or user is None or not getattr(user, "is_authenticated", False):
        return 0
    levels = CertifiedSkill.objects.filter(
        certification__user_id=user.pk,
        certification__status="active",
        certification__expires_at__gt=at or timezone.now(),
        skill=skill,
    ).values_list("level", flat=True)
    return max(levels, default=0)


def has_certification(
    *, user: User, skill: Skill | str, level: int, at: dt.datetime | None = None
) -> bool:
    """Does this person hold a valid certificate for `skill` at `level` or above?"""
    return certified_level(user=user, skill=skill, at=at) >= int(level)


def operation_rule(operation: str) -> OperationRule | None:
    return (
        OperationRule.objects.select_related("skill")
        .filter(operation=operation, is_active=True)
        .first()
    )


def _usable_override(user: User, operation: str, *, lock: bool = False) -> GateOverride | None:
    rows = GateOverride.objects.filter(
        user_id=user.pk, operation=operation, used_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("created_at", "pk")
    if lock:
        rows = rows.select_for_update()
    return rows.first()


def operation_allowed(*, user: User, operation: str) -> bool:
    """May this person do `operation` now? Yes when no active rule gates it, when
    they hold the certificate it needs, or when a manager's override awaits them."""
    rule = operation_rule(operation)
    if rule is None:
        return True
    if has_certification(user=user, skill=rule.skill, level=rule.level):
        return True
    return _usable_override(user, operation) is not None


@dataclass
class CourseOption:
    course: Course
    title: str
    minutes: int
    level: int
    url: str
    enrolled: bool


@dataclass
class GateExplanation:
    operation: str
    label: str
    skill: Skill
    level: int
    held: int
    courses: list[CourseOption] = field(default_factory=list)

    @property
    def level_name(self) -> str:
        return str(Level(self.level).label)

    @property
    def best(self) -> CourseOption | None:
        return self.courses[0] if self.courses else None

    @property
    def message(self) -> str:
        text = _(
            "“%(operation)s” needs a valid certificate in %(skill)s at level %(level)s "
            "(%(level_name)s)."
        ) % {
            "operation": self.label,
            "skill": self.skill.label,
            "level": self.level,
            "level_name": self.level_name,
        }
        if self.best is not None:
            text += " " + _("The course “%(course)s” unlocks it.") % {"course": self.best.title}
        return text


def gate_explanation(*, user: User, operation: str) -> GateExplanation | None:
    """Why this person may not do `operation`, and the courses that unlock it (the
    shortest first); None when they may."""
    rule = operation_rule(operation)
    if rule is None or operation_allowed(user=user, operation=operation):
        return None
    from training.services.learning import courses_with_texts

    courses = list(
        courses_with_texts()
        .filter(is_active=True, grants__skill=rule.skill, grants__level__gte=rule.level)
        .distinct()
        .order_by("estimated_minutes", "code")
    )
    enrolled = set(
        Enrolment.objects.active()
        .filter(user_id=user.pk, course__in=courses)
        .values_list("course_id", flat=True)
    )
    options = []
    for course in courses:
        text = course.text_for()
        level = max(
            (g.level for g in course.grants.all() if g.skill_id == rule.skill_id), default=0
        )
        options.append(
            CourseOption(
                course=course,
                title=text.title if text else course.code,
                minutes=course.estimated_minutes,
                level=level,
                url=reverse("training:course", kwargs={"code": course.code}),
                enrolled=course.pk in enrolled,
            )
        )
    return GateExplanation(
        operation=operation,
        label=operation_label(operation, rule),
        skill=rule.skill,
        level=rule.level,
        held=certified_level(user=user, skill=rule.skill),
        courses=options,
    )


@transaction.atomic
def operation_authorise(*, user: User, operation: str, target: str = "") -> str:
    """Call when the person does the operation. Returns how it was allowed: "open"
    (no rule), "certified", or "override" (a manager's override, now used up and
    audit-logged). Raises `OperationRefused` with the explanation otherwise."""
    rule = operation_rule(operation)
    if rule is None:
        return "open"
    if has_certification(user=user, skill=rule.skill, level=rule.level):
        return "certified"
    override = _usable_override(user, operation, lock=True)
    if override is not None:
        override.used_at = timezone.now()
        override.used_on = target[:140]
        override.save(update_fields=["used_at", "used_on"])
        audit_record(
            actor=user,
            action="training.override_use",
            target=override,
            store=override.store,
            detail={"operation": operation, "used_on": target[:140]},
        )
        return "override"
    explanation = gate_explanation(user=user, operation=operation)
    raise OperationRefused(explanation)


@transaction.atomic
def override_grant(
    *, manager: User, user: User, operation: str, reason: str, store: Store
) -> GateOverride:
    """A manager lets someone in their store do a gated operation once, now, with a
    reason. The grant and its use are both audit-logged."""
    if not access.may_assess(manager, user, store):
        raise NotAllowed(_("You can only override for staff whose home store is your store."))
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        raise TrainingError(
            _("Give a reason of at least %(n)s characters: it is kept in the audit log.")
            % {"n": REASON_MIN}
        )
    if len(reason) > REASON_MAX:
        raise TrainingError(_("Keep the reason under %(n)s characters.") % {"n": REASON_MAX})
    rule = operation_rule(operation)
    if rule is None:
        raise Conflict(_("This operation needs no certificate, so there is nothing to override."))
    if has_certification(user=user, skill=rule.skill, level=rule.level):
        raise Conflict(_("%(name)s is already certified for this.") % {"name": user})
    lock_person(user)
    if _usable_override(user, operation) is not None:
        raise Conflict(
            _("An override for this is already waiting to be used by %(name)s.") % {"name": user}
        )
    now = timezone.now()
    override = GateOverride.objects.create(
        operation=operation,
        user=user,
        granted_by=manager,
        store=store,
        reason=reason,
        created_at=now,
        expires_at=now + OVERRIDE_VALID_FOR,
    )
    audit_record(
        actor=manager,
        action="training.override_grant",
        target=override,
        store=store,
        detail={"operation": operation, "user_id": user.pk},
    )
    return override
