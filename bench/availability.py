"""Availability for 20 SKUs across the large demo network, against a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/availability.py

Builds (or with --reuse keeps) the database `aisle_bench_large` with
`seed_demo --scale large`, creates an API client, picks the 20 SKUs stocked at
the most locations, and prints the endpoint's query count and its requests per
second under gunicorn (2 workers, DEBUG=0, persistent connections) against a bare
view served the same way, in the same run, with wrk. Target: ratio ≥ 0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET = 0.1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_large")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    server = harness.require_postgres("bench/availability.py")
    db = harness.fresh_database(server, args.database, keep_existing=args.reuse)
    env = harness.environment(db)
    harness.manage(env, "migrate", "--no-input")
    seeded = harness.django_shell(
        env, "from inventory.models import StockLevel; print(StockLevel.objects.count())"
    )
    if not args.reuse or int(seeded.strip() or 0) == 0:
        print("seeding the large demo network (seed_demo --scale large) …", flush=True)
        harness.manage(env, "seed_demo", "--scale", "large", "--force")
    key = (
        harness.manage(
            env,
            "create_api_client",
            f"bench-availability-{id(env)}",
            "--scopes",
            "availability:read",
            "--rate",
            "1000000/s",
        )
        .strip()
        .splitlines()[-1]
    )
    skus = (
        harness.django_shell(
            env,
            "from django.db.models import Count; from inventory.models import StockLevel;"
            "rows = StockLevel.objects.filter(on_hand__gt=0).values('variant__sku')"
            ".annotate(n=Count('pk')).order_by('-n', 'variant__sku')[:20];"
            "print(','.join(r['variant__sku'] for r in rows))",
        )
        .strip()
        .split(",")
    )
    locations = harness.django_shell(
        env, "from inventory.models import StockLocation; print(StockLocation.objects.count())"
    ).strip()
    path = "/api/v1/availability/?" + "&".join(f"sku={s}" for s in skus) + "&store=S01"
    queries = harness.django_shell(
        env,
        "from django.test import Client; from django.db import connection;"
        "from django.test.utils import CaptureQueriesContext;"
        f"c = Client(HTTP_HOST='127.0.0.1', HTTP_AUTHORIZATION='Token {key}');"
        f"c.get('{path}');"
        "ctx = CaptureQueriesContext(connection)\n"
        f"with ctx: r = c.get('{path}')\n"
        "print(r.status_code, len(ctx), len(r.json()['skus']))",
    ).split()
    print(f"{len(skus)} SKUs across {locations} locations: HTTP {queries[0]}, {queries[1]} queries")

    headers = {"Authorization": f"Token {key}"}
    bare, aisle = [], []
    with harness.gunicorn(env, workers=2) as base:
        harness.wrk(f"{base}/bench/bare/", seconds=2)
        harness.wrk(base + path, seconds=2, headers=headers)
        for _ in range(args.rounds):
            bare.append(harness.wrk(f"{base}/bench/bare/", seconds=args.seconds))
            aisle.append(harness.wrk(base + path, seconds=args.seconds, headers=headers))
    bare_rps = statistics.median(r.requests_per_second for r in bare)
    aisle_rps = statistics.median(r.requests_per_second for r in aisle)
    ratio = aisle_rps / bare_rps
    print(f"bare view:     {bare[-1]}")
    print(f"availability:  {aisle[-1]}")
    print(
        f"availability of 20 SKUs: {aisle_rps:,.0f} req/s vs bare {bare_rps:,.0f} req/s: "
        f"ratio {ratio:.3f} (target ≥ {TARGET})"
    )
    if any(r.non_2xx for r in aisle):
        print("some availability answers were not 200")
        return 1
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
