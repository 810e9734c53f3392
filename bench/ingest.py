"""Browsing events in: `POST /api/v1/events/` against raw inserts, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/ingest.py

Recreates the database `aisle_bench_cl_ingest`, migrates it, seeds the small demo
network (customers with and without tracking consent, the catalog) and creates an
API client with `events:write`. Then, with the same generated events (batches of
1,000: views, carts, wishlists and searches of known customers and anonymous
visitors, some unknown SKUs):

- API: gunicorn with 2 workers (DEBUG=0, persistent connections) and 4 concurrent
  senders posting batches for `--seconds`; events per second stored or counted;
- raw: one psycopg connection inserting the same rows, batches of 1,000 in one
  transaction each, into the shape Aisle writes to since the events were partitioned
  (issue #23): a table partitioned by month of `received_at` with the same primary
  key and indexes, and a table of event ids; each row is one
  `executemany` statement that inserts its id `ON CONFLICT DO NOTHING RETURNING` and
  its event from that, for the same number of events.

Both are measured in the same run. Prints both rates and their ratio; exits 1 under
the target (1.0).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET = 1.0
BATCH = 1000
SENDERS = 4


def make_batches(n_batches: int, refs: list[str], skus: list[str], seed: int) -> list[list[dict]]:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    batches = []
    for _ in range(n_batches):
        batch = []
        for _ in range(BATCH):
            kind = rng.choices(
                ("product_view", "add_to_cart", "remove_from_cart", "wishlist_add", "search"),
                (70, 12, 4, 5, 9),
            )[0]
            event = {
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "occurred_at": (now - dt.timedelta(seconds=rng.randint(0, 86400 * 30))).isoformat(),
                "kind": kind,
                "channel": rng.choice(("web", "app")),
                "url": "https://shop.aisle.example/p/" + "x" * rng.randint(10, 60),
            }
            if rng.random() < 0.7:
                event["customer_ref"] = rng.choice(refs)
            else:
                event["anonymous_id"] = f"anon-{rng.randint(1, 50_000):06d}"
            if kind == "search":
                event["query"] = rng.choice(("linen shirt", "wool coat", "chelsea boots"))
            else:
                event["sku"] = rng.choice(skus) if rng.random() < 0.97 else "NOT-IN-CATALOG"
            batch.append(event)
        batches.append(batch)
    return batches


def api_run(base: str, key: str, bodies: list[bytes], seconds: float) -> tuple[int, int, float]:
    """4 senders post batches until the time is up; (events sent, events accepted, s)."""
    parts = urlsplit(base)
    lock = threading.Lock()
    queue = list(reversed(bodies))
    totals = {"sent": 0, "accepted": 0, "errors": 0}
    deadline = time.monotonic() + seconds

    def sender():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            conn.request(
                "POST",
                "/api/v1/events/",
                body=body,
                headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            data = response.read()
            with lock:
                if response.status != 202:
                    totals["errors"] += 1
                    continue
                result = json.loads(data)
                totals["sent"] += BATCH
                totals["accepted"] += result["accepted"]
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    started = time.monotonic()
    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if totals["errors"]:
        print(f"  {totals['errors']} batches were not answered 202")
    return totals["sent"], totals["accepted"], elapsed


def raw_schema(conn) -> None:
    """The shape Aisle writes to now: events partitioned by month of `received_at`
    (this month's partition and a DEFAULT one) with the primary key (id, received_at)
    and the same indexes, and an unpartitioned table of event ids (`clienteling_eventkey`)."""
    conn.execute("DROP TABLE IF EXISTS bench_raw_events, bench_raw_event_keys")
    conn.execute(
        """
        CREATE TABLE bench_raw_events (
            id bigserial,
            event_id uuid NOT NULL,
            occurred_at timestamptz NOT NULL,
            kind varchar(20) NOT NULL,
            channel varchar(10) NOT NULL,
            anonymous_id varchar(128) NOT NULL,
            customer_id bigint NULL,
            sku varchar(40) NOT NULL,
            variant_id bigint NULL,
            query varchar(256) NOT NULL,
            url varchar(2048) NOT NULL,
            received_at timestamptz NOT NULL,
            PRIMARY KEY (id, received_at)
        ) PARTITION BY RANGE (received_at)
        """
    )
    month = dt.datetime.now(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    after = (month + dt.timedelta(days=32)).replace(day=1)
    conn.execute(
        "CREATE TABLE bench_raw_events_now PARTITION OF bench_raw_events "
        f"FOR VALUES FROM ('{month.isoformat()}') TO ('{after.isoformat()}')"
    )
    conn.execute("CREATE TABLE bench_raw_events_default PARTITION OF bench_raw_events DEFAULT")
    for columns in ("customer_id, occurred_at", "anonymous_id, occurred_at", "occurred_at"):
        conn.execute(f"CREATE INDEX ON bench_raw_events ({columns})")
    for column in ("customer_id", "variant_id"):
        conn.execute(f"CREATE INDEX ON bench_raw_events ({column})")
    conn.execute(
        "CREATE TABLE bench_raw_event_keys (event_id uuid PRIMARY KEY, received_at timestamptz "
        "NOT NULL)"
    )
    conn.execute("CREATE INDEX ON bench_raw_event_keys USING brin (received_at)")


RAW_INSERT = (
    "WITH fresh AS (INSERT INTO bench_raw_event_keys (event_id, received_at) "
    "VALUES (%s, now()) ON CONFLICT (event_id) DO NOTHING RETURNING event_id) "
    "INSERT INTO bench_raw_events (event_id, occurred_at, kind, channel, anonymous_id, "
    "customer_id, sku, variant_id, query, url, received_at) "
    "SELECT event_id, %s, %s, %s, %s, %s, %s, %s, %s, %s, now() FROM fresh"
)


def raw_run(db_url: str, batches: list[list[dict]], customer_ids: dict, variant_ids: dict):
    """The same rows from one connection, each row's key and event in one statement
    (`executemany` of an INSERT … ON CONFLICT DO NOTHING RETURNING feeding the
    event's INSERT), a batch per transaction."""
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        raw_schema(conn)
        conn.autocommit = False
        started = time.monotonic()
        stored = 0
        for batch in batches:
            rows = [
                (
                    e["event_id"],
                    e["occurred_at"],
                    e["kind"],
                    e["channel"],
                    e.get("anonymous_id", ""),
                    customer_ids.get(e.get("customer_ref")),
                    e.get("sku", ""),
                    variant_ids.get(e.get("sku")),
                    e.get("query", ""),
                    e.get("url", ""),
                )
                for e in batch
            ]
            with conn.cursor() as cur:
                cur.executemany(RAW_INSERT, rows)
            conn.commit()
            stored += len(rows)
        return stored, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_cl_ingest")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--batches", type=int, default=400, help="batches generated for the API")
    args = parser.parse_args()

    server = harness.require_postgres("bench/ingest.py")
    db = harness.fresh_database(server, args.database)
    env = harness.environment(db)
    harness.manage(env, "migrate", "--no-input")
    print("seeding the small demo network …", flush=True)
    harness.manage(env, "seed_demo", "--force")
    key = (
        harness.manage(
            env,
            "create_api_client",
            "bench-ingest",
            "--scopes",
            "events:write",
            "--rate",
            "1000000/s",
        )
        .strip()
        .splitlines()[-1]
    )
    facts = json.loads(
        harness.django_shell(
            env,
            "import json; from retail.models import Customer, Variant;"
            "print(json.dumps({'refs': dict(Customer.objects.exclude(customer_ref=None)"
            ".values_list('customer_ref', 'pk')), 'skus': dict(Variant.objects"
            ".values_list('sku', 'pk'))}))",
        )
        .strip()
        .splitlines()[-1]
    )
    refs, skus = facts["refs"], facts["skus"]
    batches = make_batches(args.batches, sorted(refs), sorted(skus), seed=1)
    bodies = [json.dumps({"events": b}).encode() for b in batches]
    print(f"{len(bodies)} batches of {BATCH} events ready ({len(bodies[0]) / 1024:.0f} KB each)")

    with harness.gunicorn(env, workers=2) as base:
        warm = make_batches(8, sorted(refs), sorted(skus), seed=2)
        api_run(base, key, [json.dumps({"events": b}).encode() for b in warm], 30)
        sent, accepted, elapsed = api_run(base, key, bodies, args.seconds)
    api_rate = sent / elapsed
    print(
        f"API: {sent:,} events in {elapsed:.1f} s ({accepted:,} stored, the rest dropped): "
        f"{api_rate:,.0f} events/s"
    )
    raw_batches = batches[: max(1, sent // BATCH)]
    stored, raw_elapsed = raw_run(db, raw_batches, refs, skus)
    raw_rate = stored / raw_elapsed
    print(f"raw executemany: {stored:,} rows in {raw_elapsed:.1f} s: {raw_rate:,.0f} rows/s")
    ratio = api_rate / raw_rate
    print(f"events API vs raw inserts: ratio {ratio:.2f} (target ≥ {TARGET})")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
