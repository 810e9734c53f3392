"""`/healthz` and `/readyz`, for load balancers and orchestrators (anonymous callers
may reach both; they reveal no version, host or secret).

- `/healthz`: the process answers requests. No database, no cache: 200 always.
- `/readyz`: each part Aisle uses, `"up"` or `"down"` (the broker `"none"` when
  Celery runs eagerly without one). 200 while the database is up, 503 when it is
  down: without the cache Aisle is slower but correct, and without the broker
  side effects wait in the outbox, so neither takes the instance out of service.

Each probe runs in a small pool of its own threads and is given `PROBE_SECONDS`:
a part that hangs is reported down without holding the request any longer.
"""

from __future__ import annotations

import concurrent.futures
import threading

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

PROBE_SECONDS = 0.5
UP, DOWN, NONE = "up", "down", "none"

_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # Bounded: probes stuck on a hanging part cannot pile up threads.
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=6, thread_name_prefix="aisle-readyz"
            )
        return _pool


def database_up() -> bool:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    finally:
        connection.close()  # the probe thread's own connection


def cache_up() -> bool:
    cache = caches["default"]
    if hasattr(cache, "ping"):  # retail.cache.ResilientRedisCache
        return cache.ping()
    cache.set("aisle:readyz", 1, 5)
    return cache.get("aisle:readyz") == 1


def broker_up() -> bool | None:
    url = settings.CELERY_BROKER_URL
    if not url:
        return None
    from kombu import Connection

    with Connection(
        url,
        connect_timeout=PROBE_SECONDS,
        transport_options={"socket_timeout": PROBE_SECONDS, "max_retries": 0},
    ) as conn:
        conn.ensure_connection(max_retries=0, timeout=PROBE_SECONDS)
        return True


PROBES = {"database": database_up, "cache": cache_up, "broker": broker_up}


def _safe(probe):
    try:
        return probe()
    except Exception:  # any failure of the part counts as down
        return False


def parts() -> dict[str, str]:
    """Every part's state, all probed at once within `PROBE_SECONDS` in total."""
    futures = {name: _executor().submit(_safe, probe) for name, probe in PROBES.items()}
    concurrent.futures.wait(futures.values(), timeout=PROBE_SECONDS)
    states = {}
    for name, future in futures.items():
        ok = future.result() if future.done() else False
        states[name] = NONE if ok is None else (UP if ok else DOWN)
    return states


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    states = parts()
    ready = states["database"] == UP
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", **states}, status=200 if ready else 503
    )
