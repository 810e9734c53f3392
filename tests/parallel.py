"""Loaded with `-p tests.parallel` before Django's settings: each pytest-xdist worker
gets Redis databases of its own, so one worker's `cache.clear()` (every test starts
with one) or its broker traffic never reaches another's. The first worker keeps the
databases the environment names; worker n > 0 moves CACHE_URL's and
CELERY_BROKER_URL's database down by 6·n (15 → 9, 14 → 8), clear of the fixed
databases a few tests use themselves (12, 13). Test databases are per worker
already (pytest-django suffixes their names)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16
STEP = 6


def worker_url(url: str, worker: int) -> str:
    """`url` moved to worker `worker`'s own Redis database; other URLs unchanged."""
    parts = urlsplit(url)
    if worker == 0 or parts.scheme not in ("redis", "rediss"):
        return url
    database = int(parts.path.strip("/") or 0)
    moved = (database - STEP * worker) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{moved}"))


def _apply() -> None:
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not name.startswith("gw"):
        return
    worker = int(name[2:])
    for variable in ("CACHE_URL", "CELERY_BROKER_URL"):
        if os.environ.get(variable):
            os.environ[variable] = worker_url(os.environ[variable], worker)


_apply()
