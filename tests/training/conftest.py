"""Fixtures for training's tests: one skill with a requirement and a course that
closes it, or the whole program as the demo installs it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from tests import factories


@pytest.fixture(autouse=True)
def _english():
    """Each test starts in English: a request in Chinese leaves its language active in
    the thread (as LocaleMiddleware does), which must not leak into the next test."""
    with translation.override("en"):
        yield


@pytest.fixture
def skill(db):
    return factories.SkillFactory(code="bopis_fulfilment", name="Pickup and store fulfilment")


@pytest.fixture
def requirement(skill):
    return factories.RequirementFactory(role="associate", skill=skill, level=2)


@pytest.fixture
def course(skill):
    return factories.CourseFactory(code="pickup-done-right", grants={skill: 2})


@pytest.fixture
def program(store):
    """The real program: framework, requirements, rules and every course in en and zh."""
    from training import services

    services.content_sync()
    return store


@pytest.fixture
def associate_client(associate):
    """A client of its own, so a test can hold several people's sessions at once."""
    client = Client()
    client.force_login(associate)
    return client


@pytest.fixture
def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client
