"""What migration 0005 (browsing events partitioned by month) locks, and for how long.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/partition_migration.py --rows 1000000

Recreates the database `aisle_bench_partitions`, migrates it to just before the
partitioning (clienteling 0004), creates a thousand customers, and generates
`--rows` browsing events received over the last 14 months (70 % of a customer, the
rest anonymous). Then it runs `manage.py migrate clienteling 0005` while two probes,
each on its own connection, try every 20 ms:

- a write: one event inserted (as ingestion would);
- a read: one customer's latest events (as the customer page would).

Prints the migration's wall time and, for each probe, the longest it waited (the
time that kind of statement was locked out), then the partitions made.

With `--copy-of aisle_bench_large` it measures on the large demo's own events
instead: the database is copied (`CREATE DATABASE … TEMPLATE`), the copy migrated back
to clienteling 0004, and the probes read the customer with the most events.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

GENERATE = """
INSERT INTO clienteling_browsingevent (event_id, occurred_at, kind, channel, anonymous_id,
    customer_id, sku, variant_id, query, url, received_at)
SELECT gen_random_uuid(), r - interval '1 minute', 'product_view', 'web',
    CASE WHEN c IS NULL THEN 'anon-' || (n %% 50000) ELSE '' END, c,
    'SKU-' || (n %% 3000), NULL, '', 'https://shop.aisle.example/p/' || (n %% 3000), r
FROM (
    SELECT n, now() - (random() * interval '425 days') AS r,
        CASE WHEN random() < 0.7 THEN ids[1 + (n %% array_length(ids, 1))] END AS c
    FROM generate_series(1, %(rows)s) n,
        (SELECT array_agg(id) AS ids FROM retail_customer) i
) g
"""

CUSTOMERS = """
INSERT INTO retail_customer (customer_ref, name, email, phone, language, sizes, preferences,
    tracking_consent, marketing_consent, created_at, updated_at)
SELECT 'BENCH-' || n, 'Customer ' || n, 'c' || n || '@example.com', '', 'en', '{}', '', true,
    false, now(), now()
FROM generate_series(1, 1000) n
"""


def probe(url: str, sql: str, stop: threading.Event, worst: list[float]) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            started = time.monotonic()
            conn.execute(sql)
            worst[0] = max(worst[0], time.monotonic() - started)
            time.sleep(0.02)


def copy_database(server_url: str, template: str, name: str) -> str:
    """(Re)create `name` as a copy of the database `template`; returns its URL."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(server_url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> int:
    import psycopg

    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_partitions")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--copy-of",
        help="measure on a copy of this seeded database (e.g. aisle_bench_large: the large "
        "demo's events) instead of generated rows; the copy is migrated back first",
    )
    args = parser.parse_args()

    server = harness.require_postgres("bench/partition_migration.py")
    if args.copy_of:
        db = copy_database(server, args.copy_of, args.database)
        env = harness.environment(db)
        started = time.monotonic()
        harness.manage(env, "migrate", "clienteling", "0004", "--no-input")
        print(f"{args.copy_of} copied and migrated back in {time.monotonic() - started:.1f} s")
    else:
        db = harness.fresh_database(server, args.database)
        env = harness.environment(db)
        harness.manage(env, "migrate", "--no-input")
        harness.manage(env, "migrate", "clienteling", "0004", "--no-input")
    with psycopg.connect(db, autocommit=True) as conn:
        if not args.copy_of:
            conn.execute(CUSTOMERS)
            started = time.monotonic()
            conn.execute(GENERATE, {"rows": args.rows})
            print(f"{args.rows:,} events generated in {time.monotonic() - started:.1f} s")
        conn.execute("VACUUM ANALYZE clienteling_browsingevent")
        args.rows = conn.execute("SELECT count(*) FROM clienteling_browsingevent").fetchone()[0]
        customer = conn.execute(
            "SELECT customer_id FROM clienteling_browsingevent WHERE customer_id IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]

    stop = threading.Event()
    write_worst, read_worst = [0.0], [0.0]
    write = (
        "INSERT INTO clienteling_browsingevent (event_id, occurred_at, kind, channel, "
        "anonymous_id, sku, query, url, received_at) VALUES (gen_random_uuid(), now(), "
        "'search', 'web', 'probe', '', 'probe', '', now())"
    )
    read = (
        "SELECT id FROM clienteling_browsingevent WHERE customer_id = "
        f"{customer} ORDER BY occurred_at DESC LIMIT 20"
    )
    threads = [
        threading.Thread(target=probe, args=(db, write, stop, write_worst)),
        threading.Thread(target=probe, args=(db, read, stop, read_worst)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(1)
    started = time.monotonic()
    harness.manage(env, "migrate", "clienteling", "0005", "--no-input")
    elapsed = time.monotonic() - started
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join()
    print(f"migration 0005 on {args.rows:,} events: {elapsed:.1f} s (manage.py start included)")
    print(f"  longest a write (one insert) waited: {write_worst[0] * 1000:,.0f} ms")
    print(f"  longest a read (a customer's latest events) waited: {read_worst[0] * 1000:,.0f} ms")
    with psycopg.connect(db, autocommit=True) as conn:
        parts = conn.execute(
            "SELECT count(*) FROM pg_inherits "
            "WHERE inhparent = 'clienteling_browsingevent'::regclass"
        ).fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM clienteling_browsingevent").fetchone()[0]
    print(f"  {parts} partitions (DEFAULT included), {rows:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
