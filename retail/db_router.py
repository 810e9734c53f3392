"""Reads that may come from the read replica (DATABASE_REPLICA_URL, docs/scaling.md).

Nothing goes to the replica by default. A code path opts in explicitly, for the reads
it makes inside `reading_replica()` (or a view under `@replica_reads`): HQ's
dashboards, CSV exports and `/hq/` listings, which may show figures a second or two
old. Every other read and every write stays on `default`, so replica lag never
reaches an order, stock or a return; and a read inside a transaction on `default`
stays there too (it must see that transaction's own writes, and a row lock needs the
primary). Without a replica (`AISLE_READ_REPLICA` empty) the context changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

_replica_reads: ContextVar[bool] = ContextVar("aisle_replica_reads", default=False)


@contextmanager
def reading_replica():
    """Reads made inside go to the read replica, when there is one."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_alias() -> str | None:
    """The alias a read should use now, or None for the router's default."""
    alias = settings.AISLE_READ_REPLICA
    if not alias or not _replica_reads.get():
        return None
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return None
    return alias


def _chunks_on_replica(chunks: Iterable) -> Iterator:
    """A streamed answer's chunks, each produced inside `reading_replica()` (the
    context is never held across a yield, when the server writes the chunk)."""
    iterator = iter(chunks)
    while True:
        with reading_replica():
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk


def replica_reads(view):
    """A read-only view (a dashboard, a listing, a CSV export) whose reads go to the
    read replica, a streamed answer's rows included."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with reading_replica():
            response = view(request, *args, **kwargs)
        if getattr(response, "streaming", False):
            response.streaming_content = _chunks_on_replica(response.streaming_content)
        return response

    return wrapped


class ReplicaRouter:
    """Sends reads to the replica only inside `reading_replica()`; writes, relations
    and migrations are `default`'s (the replica is a copy PostgreSQL keeps)."""

    def db_for_read(self, model, **hints):
        return replica_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
