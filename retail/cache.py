"""The shared cache is an accelerator, never a dependency.

`ResilientRedisCache` is Django's Redis cache that answers as if the cache were
empty when Redis cannot be reached: a read is a miss (the caller falls back to
the database or renders again), a write is dropped, `add` reports the key as
stored (so an "only once" guard fails open) and `incr` counts from the delta.
Callers need no `try` of their own: API-client lookups, throttling, sessions
(`cached_db` reads the database on a miss), the kept signed-in user, version keys
and kept fragments all take their slow path.

Two things keep an outage cheap and quiet:

- after a failure the process leaves Redis alone for `PAUSE` seconds (every call
  is a miss at once, no connect attempt), then tries again: when Redis comes
  back, the next call after the pause uses it, no restart needed;
- the failure is logged at most once a minute per process, never per request.

Limits that protect against guessing must not fail open. Keys starting with one
of `OPTIONS["fallback_prefixes"]` (allauth's login rate limits, the pickup-code
guesses) are kept in the `OPTIONS["fallback"]` cache (a database cache) while
Redis is unreachable, so they keep limiting.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from retail import counters

logger = logging.getLogger(__name__)

PAUSE = 2.0  # seconds without trying Redis after a failure
LOG_EVERY = 60.0  # seconds between two log lines about the same cache

_state_lock = threading.Lock()
_down_until: dict[str, float] = {}  # cache location -> monotonic time
_logged_at: dict[str, float] = {}


def _cache_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.RedisError, OSError)


class KeptClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client builds a new `redis.Redis` for every operation, and
    building one (its reply callbacks) costs more than a round trip to Redis. One
    client per connection pool is kept instead: a client is safe to share between
    threads, the pool gives each command its own connection."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self._fallback_alias = options.pop("fallback", None)
        self._fallback_prefixes = tuple(options.pop("fallback_prefixes", ()))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = KeptClientRedisCacheClient
        self._location = ",".join(self._servers)
        self._errors = _cache_errors()

    # --- health -----------------------------------------------------------

    def is_paused(self) -> bool:
        return _down_until.get(self._location, 0.0) > time.monotonic()

    def _failed(self, operation: str, exc: BaseException) -> None:
        now = time.monotonic()
        with _state_lock:
            _down_until[self._location] = now + PAUSE
            last = _logged_at.get(self._location)
            log = last is None or now - last >= LOG_EVERY
            if log:
                _logged_at[self._location] = now

        counters.cache_errors.inc()
        if log:
            # The exception's class only: its text may carry the server's address.
            logger.warning(
                "The shared cache is unreachable (%s on %s); answering without it. "
                "Logged at most once a minute.",
                type(exc).__name__,
                operation,
            )

    def _fallback(self, key):
        if not self._fallback_alias or not isinstance(key, str):
            return None
        return caches[self._fallback_alias] if key.startswith(self._fallback_prefixes) else None

    def _guarded(self, operation: str, key, args: tuple, miss):
        """Redis's answer; when Redis fails (or is paused), the key's fallback
        cache's answer if it has one, else `miss`."""
        if not self.is_paused():
            try:
                return getattr(super(), operation)(*args)
            except self._errors as exc:
                self._failed(operation, exc)
        fallback = self._fallback(key)
        if fallback is not None:
            return getattr(fallback, operation)(*args)
        return miss

    # --- the cache API ----------------------------------------------------

    def get(self, key, default=None, version=None):
        return self._guarded("get", key, (key, default, version), default)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("add", key, (key, value, timeout, version), True)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("set", key, (key, value, timeout, version), None)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("touch", key, (key, timeout, version), False)

    def delete(self, key, version=None):
        return self._guarded("delete", key, (key, version), False)

    def has_key(self, key, version=None):
        return self._guarded("has_key", key, (key, version), False)

    def incr(self, key, delta=1, version=None):
        return self._guarded("incr", key, (key, delta, version), delta)

    def get_many(self, keys, version=None):
        return self._guarded("get_many", None, (keys, version), {})

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("set_many", None, (data, timeout, version), [])

    def delete_many(self, keys, version=None):
        return self._guarded("delete_many", None, (keys, version), None)

    def clear(self):
        return self._guarded("clear", None, (), False)

    def hit(self, key, timeout: int) -> int:
        """Count one more under `key` (created to live `timeout` seconds) and return the
        count, in one round trip (`add` then `incr` take three). Redis unreachable: 1,
        as `add` would answer."""
        if not self.is_paused():
            try:
                full = self.make_and_validate_key(key)
                pipe = self._cache.get_client(full, write=True).pipeline(transaction=True)
                pipe.set(full, 0, ex=timeout, nx=True)
                pipe.incr(full)
                return int(pipe.execute()[1])
            except self._errors as exc:
                self._failed("hit", exc)
        return 1

    def ping(self) -> bool:
        """Is Redis answering now (ignoring the pause)? For `/readyz`."""
        try:
            return bool(self._cache.get_client(write=True).ping())
        except self._errors:
            return False
