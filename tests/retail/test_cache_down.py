"""The shared cache is an accelerator, never a dependency: with Redis unreachable (a
cache pointed at a closed port) the API, the tablet and the login keep working."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import pytest
import redis
import time_machine
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCacheClient
from django.urls import reverse

from retail import cache as resilient
from retail.models import Customer
from tests import factories

CLOSED_PORT = "redis://127.0.0.1:1/0"


def cache_settings(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "retail.cache.ResilientRedisCache",
            "LOCATION": location,
            "OPTIONS": {
                "socket_connect_timeout": 0.25,
                "socket_timeout": 0.25,
                "fallback": "fallback",
                "fallback_prefixes": ["allauth:rl:", "aisle:pickup-guesses:"],
            },
        },
        "fallback": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "aisle_cache_fallback",
        },
    }


def _forget_outages():
    resilient._down_until.clear()
    resilient._logged_at.clear()


@pytest.fixture
def dead_cache(settings, db):
    """Every cache call meets a refused connection, as with Redis stopped.

    Changing CACHES resets Django's per-thread cache handlers (the setting_changed
    signal), so `django.core.cache.cache` reaches the dead cache, and the handlers
    are reset again when the settings are restored."""
    _forget_outages()
    settings.CACHES = cache_settings(CLOSED_PORT)
    settings.AISLE_SHARED_CACHE = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    assert isinstance(caches["default"], resilient.ResilientRedisCache)
    yield caches["default"]
    _forget_outages()


def outage_logs(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "retail.cache"]


def test_authenticated_api_requests_answer_normally_and_throttling_fails_open(dead_cache, caplog):
    _client, key = factories.api_client("customers:read", "customers:write", rate="2/m")
    headers = {"HTTP_AUTHORIZATION": f"Token {key}", "content_type": "application/json"}
    from django.test import Client

    api = Client()
    caplog.set_level(logging.WARNING, logger="retail.cache")

    created = api.put("/api/v1/customers/WEB-1/", json.dumps({"name": "Mei"}), **headers)
    assert created.status_code == 201, created.content
    answers = [api.get("/api/v1/customers/WEB-1/", **headers) for _ in range(4)]

    # Five requests on a "2/m" key: the throttle cannot count, so it lets them through.
    assert [r.status_code for r in answers] == [200] * 4
    assert all(r["Content-Type"] == "application/json" for r in answers)
    assert answers[-1].json()["name"] == "Mei"
    assert Customer.objects.filter(customer_ref="WEB-1").exists()
    # The outage is logged once (a minute), not once per request.
    assert len(outage_logs(caplog)) == 1


def test_a_revoked_key_is_refused_at_once_from_the_database(dead_cache):
    from django.test import Client

    from retail.api_clients import api_client_deactivate

    client, key = factories.api_client("customers:read")
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/customers/NOBODY/").status_code == 404
    api_client_deactivate(client=client)
    refused = api.get("/api/v1/customers/NOBODY/")
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"


def test_signed_in_tablet_pages_render_and_the_session_lives_in_the_database(
    dead_cache, client, associate
):
    customer = factories.CustomerFactory(preferred_store=associate.staff_profile.home_store)
    client.force_login(associate)

    home = client.get("/store/")
    assert home.status_code == 200
    assert b"Sign out" in home.content
    detail = client.get(reverse("retail:customer_detail", args=[customer.pk]))
    assert detail.status_code == 200
    assert customer.name.encode() in detail.content
    # The session was read from the database (cached_db on a miss): still signed in.
    assert client.get("/store/").status_code == 200


def test_login_with_the_form_works_with_the_cache_unreachable(dead_cache, client, associate):
    response = client.post(
        reverse("account_login"), {"login": associate.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/store/").status_code == 200


def test_failed_logins_are_still_limited_through_the_database(dead_cache, client, associate):
    url = reverse("account_login")
    first = client.post(url, {"login": associate.email, "password": "wrong"})
    assert first.status_code == 200
    assert "Too many failed sign-in attempts" not in first.content.decode()
    for _ in range(4):
        client.post(url, {"login": associate.email, "password": "wrong"})
    # Even the right password is refused while the limit holds, with a clear message.
    response = client.post(url, {"login": associate.email, "password": factories.PASSWORD})
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_limits_against_guessing_are_kept_in_the_database_while_redis_is_down(dead_cache):
    dead_cache.add("aisle:pickup-guesses:1:99", 0, 60)
    dead_cache.incr("aisle:pickup-guesses:1:99")
    assert caches["fallback"].get("aisle:pickup-guesses:1:99") == 1
    assert dead_cache.get("aisle:pickup-guesses:1:99") == 1
    # Other keys are simply missed and dropped.
    dead_cache.set("aisle:apiclient:abc", "row", 10)
    assert dead_cache.get("aisle:apiclient:abc") is None
    assert caches["fallback"].get("aisle:apiclient:abc") is None


def test_the_cache_is_used_again_by_itself_when_redis_comes_back(settings, monkeypatch):
    """No restart: after a short pause the next call tries Redis again."""
    _forget_outages()
    settings.CACHES = cache_settings("redis://127.0.0.1:6399/0")
    clock = [1000.0]
    monkeypatch.setattr(resilient.time, "monotonic", lambda: clock[0])
    calls = []

    def down(self, key, default):
        calls.append(key)
        raise redis.exceptions.ConnectionError("refused")

    def back(self, key, default):
        calls.append(key)
        return "kept"

    monkeypatch.setattr(RedisCacheClient, "get", down)
    assert cache.get("k", "miss") == "miss"
    assert cache.get("k", "miss") == "miss"
    assert calls == [":1:k"]  # paused: the second call did not wait on Redis

    monkeypatch.setattr(RedisCacheClient, "get", back)
    clock[0] += resilient.PAUSE + 0.1
    assert cache.get("k", "miss") == "kept"
    assert calls == [":1:k", ":1:k"]
    _forget_outages()


def test_one_redis_client_serves_every_call_and_comes_back_after_an_outage(settings):
    """The cache keeps one `redis.Redis` per connection pool (building one per call
    cost more than the call); it still recovers when Redis is back, since its pool
    reconnects."""
    _forget_outages()
    settings.CACHES = cache_settings("redis://127.0.0.1:6379/12")
    backend = caches["default"]
    client = backend._cache.get_client(write=True)
    assert backend._cache.get_client(write=False) is client
    cache.set("aisle:test:kept", 1)
    assert cache.get("aisle:test:kept") == 1
    client.connection_pool.disconnect()  # as when Redis restarts
    assert cache.get("aisle:test:kept") == 1
    assert backend._cache.get_client() is client
    cache.delete("aisle:test:kept")
    _forget_outages()


def test_a_counter_hit_counts_and_expires_in_one_round_trip(settings):
    """The API's rate limit counts with `hit`: set-if-absent with its lifetime and
    increment, pipelined, instead of add, exists and incr."""
    _forget_outages()
    settings.CACHES = cache_settings("redis://127.0.0.1:6379/12")
    backend = caches["default"]
    key = f"aisle:test:hits:{uuid.uuid4().hex}"
    sent = []
    client = backend._cache.get_client(write=True)
    original = client.connection_pool.get_connection

    def counting(*args, **kwargs):
        sent.append(1)
        return original(*args, **kwargs)

    client.connection_pool.get_connection = counting
    try:
        assert [cache.hit(key, 5) for _ in range(3)] == [1, 2, 3]
    finally:
        client.connection_pool.get_connection = original
    assert len(sent) == 3  # one connection use (one round trip) per hit
    assert cache.get(key) == 3
    assert 0 < client.ttl(backend.make_and_validate_key(key)) <= 5
    cache.delete(key)
    _forget_outages()


def test_a_counter_hit_with_redis_unreachable_counts_one(dead_cache):
    assert dead_cache.hit("aisle:test:hits", 5) == 1


def test_the_api_rate_limit_counts_in_redis(settings, db, client):
    """With Redis as the cache the limit still refuses the request past the rate."""
    _forget_outages()
    settings.CACHES = cache_settings("redis://127.0.0.1:6379/12")
    cache.clear()
    _row, key = factories.api_client("customers:read", rate="3/m")
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    with time_machine.travel(dt.datetime(2026, 12, 4, 10, 0, 0, tzinfo=dt.UTC), tick=False):
        answers = [client.get("/api/v1/customers/NO-SUCH/", **headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert answers[-1].json()["code"] == "throttled"
    cache.clear()
    _forget_outages()
