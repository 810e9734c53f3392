"""Version keys in the shared cache: what a process keeps in memory (the network,
the catalog index, rendered pages) is valid while its key holds the same value.
Changing the data calls `bump(key)`; the next reader sees a new value and reloads.

A change made inside a transaction calls `bump_on_commit`: the key is bumped at once
and again once the transaction commits. The bump after the commit is the one that
counts: a reader elsewhere may take the first new value before the commit, read the
data as it was (the change not visible to it yet) and keep that under the value; the
second bump makes it read again. The first lets reads on the same connection before
the commit (the rest of the request, a test's transaction) see the change at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction


def current(key: str) -> str:
    """The key's value, set to a new one when the cache has none."""
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key) or ""
    return version


def bump(key: str) -> None:
    cache.set(key, uuid.uuid4().hex, None)


def known(keys: Iterable[str]) -> dict[str, str] | None:
    """The keys' values in one round trip, or None when the cache holds any of them
    not (emptied, evicted, unreachable). The missing ones are set for the next reader;
    the caller must treat this read as "version unknown", never as a fresh value
    (it may have been read before a change that bumps it)."""
    keys = list(keys)
    found = cache.get_many(keys)
    missing = [key for key in keys if found.get(key) is None]
    for key in missing:
        cache.add(key, uuid.uuid4().hex, None)
    return None if missing else found


def bump_on_commit(keys: Iterable[str]) -> None:
    """Bump the keys now and again when the current transaction commits (see above);
    outside a transaction, once."""
    keys = sorted({key for key in keys if key})
    if not keys:
        return

    def bump_all() -> None:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, None)

    if transaction.get_connection().in_atomic_block:
        bump_all()
    transaction.on_commit(bump_all)
