"""`/healthz` (the process answers) and `/readyz` (database, cache, broker: each up or
down), for load balancers; anonymous, revealing no versions or secrets."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

from retail import health
from tests.retail.test_cache_down import CLOSED_PORT, cache_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def locmem_and_no_broker(settings):
    """Known parts whatever the environment: a per-process cache, Celery eager."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CELERY_BROKER_URL = ""


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_reports_every_part_up(client, locmem_and_no_broker):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "up",
        "cache": "up",
        "broker": "none",  # Celery eager: no broker to reach
    }


def test_readyz_reveals_no_versions_or_secrets(client, locmem_and_no_broker, settings):
    settings.CELERY_BROKER_URL = "redis://:broker-password@127.0.0.1:1/0"
    text = client.get("/readyz").content.decode()
    for secret in ("broker-password", "127.0.0.1", "6379", "postgres", "Django", "5.2"):
        assert secret not in text


def test_readyz_reports_the_database_down_with_503(client, locmem_and_no_broker, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(CursorWrapper, "execute", refuse)
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "down",
        "cache": "up",
        "broker": "none",
    }


def test_readyz_reports_the_cache_down_and_stays_ready(client, settings):
    settings.CACHES = cache_settings(CLOSED_PORT)
    settings.CELERY_BROKER_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200  # slower without the cache, but correct
    assert response.json()["cache"] == "down"
    assert response.json()["database"] == "up"


def test_readyz_reports_the_broker_down_and_stays_ready(client, locmem_and_no_broker, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT
    response = client.get("/readyz")
    assert response.status_code == 200  # side effects wait in the outbox meanwhile
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "up"


def test_a_part_that_hangs_is_reported_down_without_waiting_for_it(
    client, locmem_and_no_broker, monkeypatch
):
    release = threading.Event()

    def hangs():
        release.wait(10)
        return True

    monkeypatch.setitem(health.PROBES, "cache", hangs)
    try:
        response = client.get("/readyz")
    finally:
        release.set()
    assert response.json()["cache"] == "down"
    assert response.json()["database"] == "up"


def test_the_probes_answer_plain_http_without_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/store/").status_code == 301
