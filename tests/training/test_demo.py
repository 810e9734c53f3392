"""training's part of `seed_demo`: every view has content, and the large scale has
50 stores and at least 1,000 store staff."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from retail.demo import staff_specs, store_specs
from retail.models import Role, StaffProfile, User
from training import services
from training.demo import SHOWCASE, STARTERS
from training.models import (
    Certification,
    Course,
    CourseText,
    Enrolment,
    LevelRecord,
    SkillSnapshot,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_demo_gives_every_view_content():
    call_command("seed_demo", force=True, stdout=io.StringIO())

    assert Course.objects.count() >= 6
    assert set(CourseText.objects.values_list("language", flat=True)) == {"en", "zh-hans"}
    assert CourseText.objects.filter(language="en").count() == Course.objects.count()
    staff = StaffProfile.objects.filter(role__in=(Role.ASSOCIATE, Role.STORE_MANAGER))
    with_levels = set(LevelRecord.objects.values_list("user_id", flat=True))
    starters = set(User.objects.filter(email__startswith="starter.").values_list("pk", flat=True))
    assert set(staff.values_list("user_id", flat=True)) - with_levels == starters
    assert Enrolment.objects.filter(user__in=starters, source="onboarding").count() >= 5
    # History: some levels changed over time, assessed by managers.
    assert LevelRecord.objects.filter(valid_to__isnull=False).exists()
    assert LevelRecord.objects.filter(source="manager", assessed_by__isnull=False).exists()
    now = timezone.now()
    assert Certification.objects.valid(now).filter(expires_at__lte=now + dt.timedelta(days=30))
    assert Enrolment.objects.overdue(timezone.localdate()).exists()
    assert Enrolment.objects.exclude(feedback="").exists()
    assert SkillSnapshot.objects.values("quarter_end").distinct().count() == 4

    showcase = User.objects.get(email=SHOWCASE)
    rows = {r.skill.code: r for r in services.person_gaps(user=showcase)}
    assert rows["bopis_fulfilment"].gap >= 1
    assert not services.operation_allowed(user=showcase, operation="handover_without_code")
    assert not Enrolment.objects.filter(
        user=showcase, course__code__in=("pickup-done-right", "returns-any-store")
    ).exists()
    assert not services.operation_allowed(user=showcase, operation="return_approve")
    # Every demo store manager may approve a return that needs a manager.
    managers = User.objects.filter(staff_profile__role=Role.STORE_MANAGER)
    assert managers.exists()
    for manager in managers:
        assert services.operation_allowed(user=manager, operation="return_approve"), manager


def test_the_large_scale_has_at_least_1000_store_staff():
    stores = store_specs("large")
    store_staff = [s for s in staff_specs("large", stores) if s.role != Role.KIOSK]
    assert len(stores) == 50
    assert len(store_staff) + STARTERS["large"] * len(stores) >= 1000
