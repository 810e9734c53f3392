"""Monthly partitions of the browsing-events table (PostgreSQL only).

Migration 0005 made `clienteling_browsingevent` a table partitioned by RANGE on
`received_at`, one partition per calendar month in UTC (`…_p2026_03` holds
[2026-03-01, 2026-04-01)), plus a DEFAULT partition. Here:

- `partitions_create_ahead` (beat, daily) creates this month's and the next
  `AHEAD` months' partitions; it is idempotent. A partition is created as a plain
  table and ATTACHed, which takes SHARE UPDATE EXCLUSIVE on the parent (ingestion
  and reads go on), never the ACCESS EXCLUSIVE that `CREATE TABLE … PARTITION OF`
  would queue behind a long read such as the recommendation rebuild.
- The DEFAULT partition is the safety net: if beat has been down long enough that
  a month has no partition, its events land there instead of failing the request.
  Creating that month's partition later moves them out (in the same transaction).
- `retention_apply` (the nightly browsing purge) drops whole partitions received
  before the retention cutoff, deletes the rows received before it in the
  partition that straddles it (and in DEFAULT), deletes the rows that *occurred*
  before it anywhere (the promise of the retention setting, for events a client
  sent late), and prunes the event keys (`EventKey`) received before it. Dropping
  a partition takes ACCESS EXCLUSIVE on the parent for a few milliseconds, so it
  runs with a lock timeout and tries again the next night rather than queue
  ingestion behind a long reader. (`DETACH … CONCURRENTLY` would avoid that lock,
  but PostgreSQL refuses it while a DEFAULT partition exists; the default was
  judged worth more: no event is refused for a missing month.)

SQLite keeps a plain table: every function here is a no-op there, and retention
deletes rows as it always did (`clienteling.services.browsing_purge`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

TABLE = "clienteling_browsingevent"
DEFAULT = f"{TABLE}_default"
KEYS = "clienteling_eventkey"
AHEAD = 2
LOCK_TIMEOUT = "5s"
CHUNK = 50_000
_NAME = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")


@dataclass(frozen=True)
class Partition:
    name: str
    start: dt.datetime
    end: dt.datetime


def partitioned() -> bool:
    """Whether the events table is partitioned (PostgreSQL after migration 0005)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def month_floor(when: dt.datetime) -> dt.datetime:
    when = when.astimezone(dt.UTC)
    return dt.datetime(when.year, when.month, 1, tzinfo=dt.UTC)


def month_add(month: dt.datetime, n: int) -> dt.datetime:
    year, index = divmod(month.month - 1 + n, 12)
    return dt.datetime(month.year + year, index + 1, 1, tzinfo=dt.UTC)


def partition_name(month: dt.datetime) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def _literal(when: dt.datetime) -> str:
    """A timestamptz literal for DDL (bounds cannot be bound parameters)."""
    return "'" + when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00") + "'"


def partitions() -> list[Partition]:
    """The monthly partitions, oldest first (DEFAULT left out)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = []
    for name in names:
        match = _NAME.match(name)
        if match:
            start = dt.datetime(int(match[1]), int(match[2]), 1, tzinfo=dt.UTC)
            found.append(Partition(name, start, month_add(start, 1)))
    return sorted(found, key=lambda p: p.start)


def partition_create(month: dt.datetime) -> bool:
    """The partition for `month` (any time in it), created unless it exists; rows of
    that month waiting in DEFAULT move into it. True when it was created."""
    start = month_floor(month)
    end = month_add(start, 1)
    name = partition_name(start)
    bounds = f"FROM ({_literal(start)}) TO ({_literal(end)})"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        # Two creators racing: the second waits here, then finds the partition.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE})")
        cursor.execute(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds CHECK "
            f"(received_at >= {_literal(start)} AND received_at < {_literal(end)})"
        )
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [DEFAULT])
        if cursor.fetchone()[0]:
            cursor.execute(
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE received_at >= %s "  # noqa: S608
                f"AND received_at < %s RETURNING *) INSERT INTO {name} SELECT * FROM moved",
                [start, end],
            )
        cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES {bounds}")
        cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds")
    return True


def partitions_ensure(first: dt.datetime, last: dt.datetime) -> list[str]:
    """Every month's partition from `first` to `last` (inclusive); the names created."""
    if not partitioned():
        return []
    created = []
    month, last = month_floor(first), month_floor(last)
    while month <= last:
        if partition_create(month):
            created.append(partition_name(month))
        month = month_add(month, 1)
    return created


def partitions_create_ahead(*, months: int = AHEAD, now: dt.datetime | None = None) -> list[str]:
    """This month's partition and the next `months` ones (beat, daily; idempotent)."""
    this_month = month_floor(now or timezone.now())
    return partitions_ensure(this_month, month_add(this_month, months))


def _delete_chunked(where: str, params: list) -> int:
    """Delete events matching `where` in chunks (each its own transaction), naming rows
    by (id, received_at) so that every partition uses its primary key."""
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE (id, received_at) IN ("  # noqa: S608
                f"SELECT id, received_at FROM {TABLE} WHERE {where} LIMIT {CHUNK})",
                params,
            )
            count = cursor.rowcount
        deleted += count
        if count < CHUNK:
            return deleted


def keys_prune(cutoff: dt.datetime) -> int:
    """Forget the event ids received before the cutoff (their events are gone)."""
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {KEYS} WHERE event_id IN ("  # noqa: S608
                f"SELECT event_id FROM {KEYS} WHERE received_at < %s LIMIT {CHUNK})",
                [cutoff],
            )
            count = cursor.rowcount
        deleted += count
        if count < CHUNK:
            return deleted


def partitions_drop_before(cutoff: dt.datetime) -> tuple[list[str], int]:
    """Drop every partition wholly received before the cutoff: (names, rows dropped)."""
    dropped, rows = [], 0
    for partition in partitions():
        if partition.end > cutoff:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(f"SELECT count(*) FROM {partition.name}")  # noqa: S608
            count = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE {partition.name}")
        dropped.append(partition.name)
        rows += count
    return dropped, rows


def retention_apply(cutoff: dt.datetime) -> dict:
    """Retention on the partitioned table: whole partitions, then the boundary's rows,
    then late-sent events that occurred before the cutoff, then the keys."""
    dropped, dropped_rows = partitions_drop_before(cutoff)
    boundary = _delete_chunked("received_at < %s", [cutoff])
    occurred = _delete_chunked("occurred_at < %s", [cutoff])
    keys = keys_prune(cutoff)
    return {
        "partitions": dropped,
        "rows": dropped_rows + boundary + occurred,
        "boundary_rows": boundary,
        "occurred_rows": occurred,
        "keys": keys,
    }


def history_bulk_create(events: Iterable, *, batch_size: int = 5000) -> int:
    """Store `BrowsingEvent` objects built elsewhere (demo history) with their own
    `received_at`: on PostgreSQL the months' partitions are made first and an event
    whose `event_id` is known is skipped, exactly as ingestion would. Returns how
    many were stored."""
    from clienteling.models import BrowsingEvent

    events = list(events)
    if not events:
        return 0
    for event in events:
        if event.received_at is None:
            event.received_at = timezone.now()
    if not partitioned():
        return len(BrowsingEvent.objects.bulk_create(events, batch_size, ignore_conflicts=True))
    times = [e.received_at for e in events]
    partitions_ensure(min(times), max(times))
    stored = 0
    for offset in range(0, len(events), batch_size):
        chunk = {e.event_id: e for e in events[offset : offset + batch_size]}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {KEYS} (event_id, received_at) "  # noqa: S608
                "SELECT * FROM unnest(%s::uuid[], %s::timestamptz[]) ORDER BY 1 "
                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                [list(chunk), [e.received_at for e in chunk.values()]],
            )
            fresh = [chunk[uuid.UUID(str(row[0]))] for row in cursor.fetchall()]
            BrowsingEvent.objects.bulk_create(fresh, batch_size)
        stored += len(fresh)
    return stored
