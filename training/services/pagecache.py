"""Rendered pieces of the skills-gap pages, kept until the data behind them changes.

A manager opens the team heatmap many times a day while levels change a few
times a week: the rendered heatmap and overdue list are cached under a key that
holds the store, the page, the language, the store's date and the *training data
version*. Any save or delete of a record the pages show (levels, requirements,
skills, enrolments, course titles, staff profiles, users, stores) drops the
version, at once and again when its transaction commits (so a page rendered from
data read before the commit cannot outlive it), and every cached piece with it.
Bulk writes that bypass signals call `data_changed()` themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from retail import versions

VERSION_KEY = "aisle:training:data-version"
PIECE_SECONDS = 300  # a safety net: a piece lives five minutes at most


def data_version() -> str:
    return versions.current(VERSION_KEY)


def data_changed(**signal) -> None:
    if signal.get("update_fields") == frozenset({"last_login"}):
        return  # a sign-in changes nothing the pages show
    cache.delete(VERSION_KEY)
    transaction.on_commit(lambda: cache.delete(VERSION_KEY))


def cached_pieces(parts: tuple, render: Callable[[], dict[str, str]]) -> dict[str, str]:
    """The pieces for `parts` (what the page depends on besides the data), rendered
    by `render()` when the cache lacks them for the current data version."""
    key = "aisle:training:piece:" + ":".join(str(p) for p in (data_version(), *parts))
    pieces = cache.get(key)
    if pieces is None:
        pieces = render()
        cache.set(key, pieces, PIECE_SECONDS)
    return pieces


def connect() -> None:
    """Watch every model the cached pieces show (called from TrainingConfig.ready)."""
    from retail.models import StaffProfile, Store, User
    from training import models as training

    watched = (
        training.LevelRecord,
        training.Requirement,
        training.Skill,
        training.SkillArea,
        training.Enrolment,
        training.Course,
        training.CourseText,
        StaffProfile,
        User,
        Store,
    )
    for model in watched:
        uid = f"aisle-training-pages-{model._meta.label_lower}"
        post_save.connect(data_changed, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(data_changed, sender=model, dispatch_uid=uid + "-delete")
