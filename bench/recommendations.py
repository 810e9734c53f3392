"""The recommendation rebuild over the large demo data: time and peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/recommendations.py --reuse

Uses (or builds) `aisle_bench_cl_large` (`seed_demo --scale large`: 1,000,000+
events), runs `clienteling.recommendations.rebuild()` in a fresh process and prints
its wall time, the peak memory of that process (ru_maxrss) and of the PostgreSQL
backend doing the work, and, for scale, the time of one SQL pass that groups the
same events by visitor. Targets: under 2 minutes and under 1 GB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET_SECONDS = 120
TARGET_MB = 1024

MEASURE = """
import resource, time
from django.db import connection
from clienteling import recommendations
from clienteling.models import BrowsingEvent
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
started = time.monotonic()
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT COUNT(*) FROM (SELECT COALESCE('c' || customer_id::text, 'a' || anonymous_id) "
        "AS visitor, COUNT(*) FROM clienteling_browsingevent GROUP BY 1) v"
    )
    visitors = cursor.fetchone()[0]
group_seconds = time.monotonic() - started
started = time.monotonic()
kept = recommendations.rebuild()
seconds = time.monotonic() - started
backend_kb = 0
try:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            backend_kb = int(line.split()[1])
except OSError:
    pass
print(BrowsingEvent.objects.count(), visitors, round(group_seconds, 2), kept, round(seconds, 2),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, backend_kb)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_cl_large")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    args = parser.parse_args()

    server = harness.require_postgres("bench/recommendations.py")
    db = harness.fresh_database(server, args.database, keep_existing=args.reuse)
    env = harness.environment(db)
    harness.manage(env, "migrate", "--no-input")
    seeded = harness.django_shell(
        env, "from clienteling.models import BrowsingEvent; print(BrowsingEvent.objects.count())"
    )
    if not args.reuse or int(seeded.strip() or 0) < 1_000_000:
        print("seeding the large demo network (seed_demo --scale large) …", flush=True)
        harness.manage(env, "seed_demo", "--scale", "large", "--force")
    out = harness.django_shell(env, MEASURE).split()[-7:]
    events, visitors, group_s, kept, seconds, rss_kb, backend_kb = out
    python_mb = int(rss_kb) / 1024
    backend_mb = int(backend_kb) / 1024
    seconds = float(seconds)
    print(f"{int(events):,} events from {int(visitors):,} visitors")
    print(f"one SQL pass grouping the events by visitor: {float(group_s):.1f} s")
    print(
        f"recommendation rebuild: {seconds:.1f} s, {int(kept):,} product pairs kept; "
        f"peak memory: Python {python_mb:.0f} MB, PostgreSQL backend {backend_mb:.0f} MB "
        f"(targets: < {TARGET_SECONDS} s, < {TARGET_MB} MB)"
    )
    ok = seconds < TARGET_SECONDS and python_mb + backend_mb < TARGET_MB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
