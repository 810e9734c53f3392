"""Planner statistics after a bulk load, without locking what other databases share."""

from __future__ import annotations

import pytest
from django.db import connection

from retail.bulk import analyze_tables
from tests import factories


@pytest.mark.postgres
@pytest.mark.django_db
def test_analyze_tables_counts_aisles_rows_and_leaves_the_shared_catalogs_unlocked():
    factories.StoreFactory.create_batch(3)
    analyze_tables()
    with connection.cursor() as cursor:
        # Inside the test's transaction: whatever ANALYZE locked is still held.
        cursor.execute(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = pg_backend_pid() AND c.relisshared"
        )
        shared = [name for (name,) in cursor.fetchall()]
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", ["retail_store"])
        (estimate,) = cursor.fetchone()
    assert shared == []
    assert estimate == 3
