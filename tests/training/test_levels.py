"""Levels with history: assessments by oneself and by the store's manager, never
overwritten; requirements per role, overridden per store."""

from __future__ import annotations

import pytest

from retail.models import AuditLog
from tests import factories
from training import services
from training.models import LevelRecord, LevelSource, Track
from training.services.errors import NotAllowed, TrainingError
from training.services.levels import requirement_table

pytestmark = pytest.mark.django_db


def test_a_new_level_closes_the_old_record_and_keeps_it(associate, skill):
    first = services.level_record(
        user=associate, skill=skill, level=1, track=Track.OFFICIAL, source="initial", by=None
    )
    second = services.level_record(
        user=associate, skill=skill, level=3, track=Track.OFFICIAL, source="manager", by=None
    )
    first.refresh_from_db()
    assert first.level == 1 and first.valid_to == second.valid_from
    assert LevelRecord.objects.current().get(user=associate, skill=skill).level == 3


def test_self_and_manager_assessments_are_separate_records(associate, manager, store, skill):
    services.assessment_record(user=associate, by=associate, levels={skill: 3})
    services.assessment_record(user=associate, by=manager, levels={skill: 1}, store=store)
    current = {
        r.track: (r.level, r.source, r.assessed_by)
        for r in LevelRecord.objects.current().filter(user=associate, skill=skill)
    }
    assert current == {
        Track.SELF: (3, LevelSource.SELF, associate),
        Track.OFFICIAL: (1, LevelSource.MANAGER, manager),
    }
    assert list(AuditLog.objects.order_by("pk").values_list("action", flat=True)) == [
        "training.self_assess",
        "training.assess",
    ]


def test_an_unchanged_level_writes_no_new_record(associate, manager, store, skill):
    services.assessment_record(user=associate, by=manager, levels={skill: 2}, store=store)
    services.assessment_record(user=associate, by=manager, levels={skill: 2}, store=store)
    assert LevelRecord.objects.filter(user=associate).count() == 1


def test_a_manager_cannot_assess_someone_outside_their_store(manager, store, other_store, skill):
    elsewhere = factories.StaffFactory(role="associate", home_store=other_store)
    with pytest.raises(NotAllowed, match="home store is your store"):
        services.assessment_record(user=elsewhere, by=manager, levels={skill: 2}, store=store)
    with pytest.raises(NotAllowed):
        services.assessment_record(user=elsewhere, by=manager, levels={skill: 2})
    assert not LevelRecord.objects.exists() and not AuditLog.objects.exists()


def test_an_associate_cannot_assess_a_colleague(associate, store, skill):
    colleague = factories.StaffFactory(role="associate", home_store=store)
    with pytest.raises(NotAllowed):
        services.assessment_record(user=colleague, by=associate, levels={skill: 2}, store=store)


@pytest.mark.parametrize("level", [-1, 5, 7, "2.5", "two", None])
def test_a_level_outside_0_to_4_is_refused(associate, skill, level):
    with pytest.raises(TrainingError, match="0 to 4"):
        services.assessment_record(user=associate, by=associate, levels={skill: level})
    assert not LevelRecord.objects.exists()


def test_a_store_requirement_overrides_the_network_one(store, other_store, skill):
    factories.RequirementFactory(role="associate", skill=skill, level=2)
    factories.RequirementFactory(role="associate", skill=skill, level=3, store=store)
    factories.RequirementFactory(role="store_manager", skill=skill, level=4)
    table = requirement_table()
    assert table.required("associate", store.pk, skill.pk) == 3
    assert table.required("associate", other_store.pk, skill.pk) == 2
    assert table.required("store_manager", store.pk, skill.pk) == 4
    assert table.required(None, store.pk, skill.pk) == 0


def test_person_gaps_name_the_courses_that_close_each_gap(associate, requirement, course, skill):
    rows = {r.skill.code: r for r in services.person_gaps(user=associate)}
    row = rows[skill.code]
    assert (row.required, row.current, row.gap) == (2, 0, 2)
    assert row.courses == [course]
