"""Requirements and levels: what a role needs, where a person stands, and the
only code that records a level (closing the open record, never overwriting it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from retail import access
from retail.models import Role, StaffProfile, Store, User
from retail.services import audit_record
from training.models import (
    LEVEL_MAX,
    LEVEL_MIN,
    LevelRecord,
    LevelSource,
    Requirement,
    Skill,
    Track,
)
from training.services.errors import Conflict, NotAllowed, TrainingError


@dataclass
class RequirementTable:
    """Required levels for roles, network-wide and per store, loaded in one query."""

    network: dict[tuple[str, int], int] = field(default_factory=dict)
    by_store: dict[tuple[int, str, int], int] = field(default_factory=dict)

    def required(self, role: str | None, store_id: int | None, skill_id: int) -> int:
        if role is None:
            return 0
        if store_id is not None:
            level = self.by_store.get((store_id, role, skill_id))
            if level is not None:
                return level
        return self.network.get((role, skill_id), 0)


def requirement_table(*, store_ids: Iterable[int] | None = None) -> RequirementTable:
    """The requirements for the given stores (None: every store)."""
    rows = Requirement.objects.all()
    if store_ids is not None:
        rows = rows.filter(Q(store__isnull=True) | Q(store_id__in=list(store_ids)))
    table = RequirementTable()
    for role, skill_id, store_id, level in rows.values_list(
        "role", "skill_id", "store_id", "level"
    ):
        if store_id is None:
            table.network[(role, skill_id)] = level
        else:
            table.by_store[(store_id, role, skill_id)] = level
    return table


def active_skills(*, with_descriptions: bool = False) -> list[Skill]:
    skills = Skill.objects.filter(active=True).select_related("area")
    if with_descriptions:
        skills = skills.prefetch_related("descriptors")
    return list(skills)


def current_levels(
    *, user_ids: Iterable[int], track: str = Track.OFFICIAL
) -> dict[tuple[int, int], int]:
    """(user id, skill id) → current level, for the given people, in one query."""
    rows = LevelRecord.objects.current().filter(track=track, user_id__in=list(user_ids))
    return {(u, s): level for u, s, level in rows.values_list("user_id", "skill_id", "level")}


def validate_level(level) -> int:
    try:
        value = int(level)
    except (TypeError, ValueError):
        raise TrainingError(_("A level is a whole number from 0 to 4.")) from None
    if not LEVEL_MIN <= value <= LEVEL_MAX or str(value) != str(level).strip():
        raise TrainingError(_("A level is a whole number from 0 to 4."))
    return value


def lock_person(user: User) -> None:
    """Serialise every change to one person's training records (levels, enrolments)."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


@transaction.atomic
def level_record(
    *,
    user: User,
    skill: Skill,
    level: int,
    track: str,
    source: str,
    by: User | None,
    note: str = "",
    certification=None,
    previous_level: int | None = None,
    at: dt.datetime | None = None,
) -> LevelRecord:
    """Record a person's level in a skill: the open record is closed (kept, with its
    end date) and a new one opened. The only code that writes `LevelRecord`."""
    level = validate_level(level)
    lock_person(user)
    now = at or timezone.now()
    current = (
        LevelRecord.objects.select_for_update()
        .filter(user=user, skill=skill, track=track, valid_to__isnull=True)
        .first()
    )
    if current is not None:
        now = max(now, current.valid_from)
        current.valid_to = now
        current.save(update_fields=["valid_to"])
    try:
        with transaction.atomic():
            return LevelRecord.objects.create(
                user=user,
                skill=skill,
                track=track,
                level=level,
                source=source,
                assessed_by=by,
                certification=certification,
                previous_level=previous_level,
                note=note[:300],
                valid_from=now,
            )
    except IntegrityError:
        raise Conflict(
            _("Someone else changed this level at the same moment. Reload and try again.")
        ) from None


@transaction.atomic
def assessment_record(
    *,
    user: User,
    by: User,
    levels: Mapping[Skill, int],
    store: Store | None = None,
    note: str = "",
) -> list[LevelRecord]:
    """A self-assessment (`by` is the person) or a manager's assessment of someone in
    their store. Only the skills whose level changes get a new record; the audit log
    keeps the assessment itself."""
    self_assessment = by.pk == user.pk
    if self_assessment:
        if not access.may_take_training(user):
            raise NotAllowed(_("Only store staff assess their own skills."))
        track, source = Track.SELF, LevelSource.SELF
    else:
        if not access.may_assess(by, user, store):
            raise NotAllowed(_("You can only assess staff whose home store is your store."))
        track, source = Track.OFFICIAL, LevelSource.MANAGER
    cleaned = {skill: validate_level(level) for skill, level in levels.items()}
    if not cleaned:
        raise TrainingError(_("Choose a level for at least one skill."))
    lock_person(user)
    before = current_levels(user_ids=[user.pk], track=track)
    written = []
    for skill, level in cleaned.items():
        if before.get((user.pk, skill.pk)) == level:
            continue
        written.append(
            level_record(
                user=user, skill=skill, level=level, track=track, source=source, by=by, note=note
            )
        )
    audit_record(
        actor=by,
        action="training.self_assess" if self_assessment else "training.assess",
        target=user,
        store=store,
        detail={"levels": {s.code: lvl for s, lvl in cleaned.items()}, "changed": len(written)},
    )
    return written


def profile_of(user: User) -> StaffProfile | None:
    return StaffProfile.objects.select_related("home_store").filter(user_id=user.pk).first()


def required_levels(*, user: User, skills: Iterable[Skill]) -> dict[int, int]:
    """skill id → the level this person's role needs at their home store."""
    profile = profile_of(user)
    role = (
        profile.role if profile and profile.role in (Role.ASSOCIATE, Role.STORE_MANAGER) else None
    )
    store_id = profile.home_store_id if profile else None
    table = requirement_table(store_ids=[store_id] if store_id else [])
    return {s.pk: table.required(role, store_id, s.pk) for s in skills}
