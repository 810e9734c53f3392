"""Version keys in the shared cache: what a process keeps in memory (the network,
the catalog index, rendered pages) is valid while its key holds the same value.
Changing the data calls `bump(key)`; the next reader sees a new value and reloads."""

from __future__ import annotations

import uuid

from django.core.cache import cache


def current(key: str) -> str:
    """The key's value, set to a new one when the cache has none."""
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key) or ""
    return version


def bump(key: str) -> None:
    cache.set(key, uuid.uuid4().hex, None)
