"""Browsing events partitioned by month of `received_at`, on PostgreSQL only.

On PostgreSQL, in this migration's one transaction:

1. `LOCK clienteling_browsingevent IN SHARE MODE`: ingestion (and any other write
   to the events) waits from here to the commit; reads (customer pages, the
   recommendation rebuild, exports) go on.
2. A partitioned copy is built beside it: the same columns, partitioned by RANGE on
   `received_at`, one partition per UTC month present in the data plus this month
   and the next, and a DEFAULT partition (so that an event whose month has no
   partition yet is kept, never refused; `clienteling.partitions`). The rows are
   copied, then the primary key `(id, received_at)`, the same indexes under their
   same names (less the unique index on `event_id`, which PostgreSQL cannot have on
   a table partitioned by another column) and the same foreign keys (to customers and
   variants; nothing points at browsing events) are built on the full copy.
3. `clienteling_eventkey` is filled with every stored `event_id`: from now on it is
   what keeps deduplication exact (`clienteling.ingest`).
4. The old table is dropped and the copy takes its name: this takes ACCESS EXCLUSIVE
   on the events table (reads wait too) until the commit, a few milliseconds. The
   id sequence carries on from where the old one was.

Measured with `bench/partition_migration.py --rows 1000000` (a scratch database,
1,000,000 generated events received over 14 months, 70 % of 1,000 customers; this
2-core machine, shared with other work at the time, PostgreSQL 15): the migration
took 21.8 s (about 2 s of it manage.py starting); a probe inserting one event every
20 ms waited at most 18.2 s (the SHARE lock: copy, keys, indexes, foreign keys); a
probe reading one customer's latest events waited at most 186 ms (the ACCESS
EXCLUSIVE swap at the end). 17 partitions (15 months, the next one, DEFAULT). Plan
it as a deploy step that holds ingestion for about 20 s per million events (the
online channel's batches wait or are retried; nothing is lost).

On SQLite nothing happens to the table; `clienteling_eventkey` is created on both
(unused on SQLite) so the model state is the same everywhere. Reversible: going back
rebuilds the plain table with its unique `event_id` the same way.
"""

import datetime as dt
import re

from django.db import migrations, models

TABLE = "clienteling_browsingevent"
NEW = f"{TABLE}_new"
KEYS = "clienteling_eventkey"
COLUMNS = (
    "id, event_id, occurred_at, kind, channel, anonymous_id, sku, query, url, "
    "received_at, customer_id, variant_id"
)
_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (?:ONLY )?(\S+) USING (.+)$")


def _month_add(month, n):
    year, index = divmod(month.month - 1 + n, 12)
    return dt.datetime(month.year + year, index + 1, 1, tzinfo=dt.UTC)


def _literal(when):
    return "'" + when.strftime("%Y-%m-%d %H:%M:%S+00") + "'"


def _shape(cursor):
    """The table's plain indexes (name, definition after USING), foreign keys (name,
    definition) and id sequence state, read before the old table goes."""
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN "
        "('p', 'u')",
        [TABLE],
    )
    constraint_indexes = {row[0] for row in cursor.fetchall()}
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [TABLE])
    indexes = []
    for name, definition in cursor.fetchall():
        if name in constraint_indexes:
            continue
        match = _INDEX.match(definition)
        if match is None:  # pragma: no cover - a definition pg_indexes would not print
            raise RuntimeError(f"cannot read the definition of index {name}: {definition}")
        indexes.append((name, match.group(1) or "", match.group(4)))
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT conrelid::regclass::text FROM pg_constraint "
        "WHERE confrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    pointing = [row[0] for row in cursor.fetchall()]
    if pointing:
        raise RuntimeError(
            f"tables point at {TABLE} ({', '.join(pointing)}): a foreign key cannot reference "
            "a table partitioned by another column"
        )
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    sequence = cursor.fetchone()[0]
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
    last_value, is_called = cursor.fetchone()
    return indexes, foreign_keys, (last_value, is_called)


def _temporary(name):
    return f"{name[:56]}_pmove"


def _finish(cursor, indexes, foreign_keys, primary_key):
    """Build the keys and indexes on NEW under temporary names, swap, rename them back."""
    cursor.execute(
        f"ALTER TABLE {NEW} ADD CONSTRAINT {_temporary(TABLE + '_pkey')} "
        f"PRIMARY KEY ({primary_key})"
    )
    for name, unique, rest in indexes:
        cursor.execute(f"CREATE {unique}INDEX {_temporary(name)} ON {NEW} USING {rest}")
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {NEW} ADD CONSTRAINT {_temporary(name)} {definition}")
    cursor.execute(f"DROP TABLE {TABLE}")
    cursor.execute(f"ALTER TABLE {NEW} RENAME TO {TABLE}")
    cursor.execute(
        f"ALTER TABLE {TABLE} RENAME CONSTRAINT {_temporary(TABLE + '_pkey')} TO {TABLE}_pkey"
    )
    for name, _unique, _rest in indexes:
        cursor.execute(f"ALTER INDEX {_temporary(name)} RENAME TO {name}")
    for name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {_temporary(name)} TO {name}")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN SHARE MODE")
        indexes, foreign_keys, (last_value, is_called) = _shape(cursor)
        cursor.execute(f"CREATE TABLE {NEW} (LIKE {TABLE}) PARTITION BY RANGE (received_at)")
        cursor.execute(
            "SELECT DISTINCT date_trunc('month', received_at AT TIME ZONE 'UTC') "  # noqa: S608
            f"FROM {TABLE}"
        )
        months = {row[0].replace(tzinfo=dt.UTC) for row in cursor.fetchall()}
        now = dt.datetime.now(dt.UTC)
        this_month = dt.datetime(now.year, now.month, 1, tzinfo=dt.UTC)
        months |= {this_month, _month_add(this_month, 1)}
        for month in sorted(months):
            cursor.execute(
                f"CREATE TABLE {TABLE}_p{month:%Y_%m} PARTITION OF {NEW} FOR VALUES "
                f"FROM ({_literal(month)}) TO ({_literal(_month_add(month, 1))})"
            )
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {NEW} DEFAULT")
        cursor.execute(
            f"INSERT INTO {NEW} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}"  # noqa: S608
        )
        cursor.execute(
            f"INSERT INTO {KEYS} (event_id, received_at) "  # noqa: S608
            f"SELECT event_id, received_at FROM {TABLE}"
        )
        _finish(cursor, indexes, foreign_keys, "id, received_at")
        cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        cursor.execute(
            "SELECT setval(%s, %s, %s)", [f"{TABLE}_id_seq", last_value, is_called]
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')"
        )
        # Keys are written in received order: a BRIN index finds old ones for pruning
        # at almost no cost to each insert.
        cursor.execute(f"CREATE INDEX {KEYS}_received_brin ON {KEYS} USING brin (received_at)")


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN SHARE MODE")
        indexes, foreign_keys, (last_value, is_called) = _shape(cursor)
        cursor.execute(f"CREATE TABLE {NEW} (LIKE {TABLE})")
        cursor.execute(
            f"INSERT INTO {NEW} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}"  # noqa: S608
        )
        cursor.execute(
            f"ALTER TABLE {NEW} ADD CONSTRAINT {_temporary(TABLE + '_event_id_key')} "
            "UNIQUE (event_id)"
        )
        _finish(cursor, indexes, foreign_keys, "id")
        cursor.execute(
            f"ALTER TABLE {TABLE} RENAME CONSTRAINT {_temporary(TABLE + '_event_id_key')} "
            f"TO {TABLE}_event_id_key"
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY"
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
            [TABLE, last_value, is_called],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("clienteling", "0004_note_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventKey",
            fields=[
                (
                    "event_id",
                    models.UUIDField(primary_key=True, serialize=False, verbose_name="event id"),
                ),
                ("received_at", models.DateTimeField(verbose_name="received")),
            ],
            options={
                "verbose_name": "event key",
                "verbose_name_plural": "event keys",
            },
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
