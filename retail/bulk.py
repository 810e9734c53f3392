"""Writing many rows' fields at once.

Django's `bulk_update` writes one `CASE WHEN id = … THEN …` per field and row: for
thousands of rows PostgreSQL spends most of its time on the expression (five of the
six seconds of a 5,000-line stock batch). `bulk_set` writes the same values with one
`UPDATE … FROM (VALUES …)` per thousand rows on PostgreSQL, each value cast to its
column's type, and falls back to `bulk_update` elsewhere (SQLite has no column
aliases on VALUES).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

CHUNK = 1000


def bulk_set(objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Save `fields` of `objs` (rows that exist), as `bulk_update(objs, fields)` would."""
    if not objs or not fields:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, list(fields), batch_size=CHUNK)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    pk = meta.pk
    names = [pk.column, *(f.column for f in columns)]
    casts = [pk.cast_db_type(connection), *(f.cast_db_type(connection) for f in columns)]
    row = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    aliases = ", ".join(quote(n) for n in names)
    table = quote(meta.db_table)
    for start in range(0, len(objs), CHUNK):
        chunk = objs[start : start + CHUNK]
        params = []
        for obj in chunk:
            params.append(pk.get_db_prep_value(obj.pk, connection))
            for f in columns:
                params.append(f.get_db_prep_save(getattr(obj, f.attname), connection))
        sql = (
            f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 - names from the model
            f"FROM (VALUES {', '.join([row] * len(chunk))}) AS v({aliases}) "
            f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def analyze_tables() -> None:
    """Fresh planner statistics for Aisle's own tables after a bulk load (PostgreSQL;
    nothing elsewhere). Named tables only: a bare `ANALYZE` also samples the catalogs
    every database shares (`pg_authid`, `pg_database`, …) and keeps a lock on them
    until the transaction ends, which stalls a bare `ANALYZE` in any other database
    (another seed, a parallel test run) for as long."""
    if connection.vendor != "postgresql":
        return
    tables = connection.introspection.django_table_names(only_existing=True)
    if not tables:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(quote(name) for name in sorted(tables)))
