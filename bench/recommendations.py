"""The recommendation rebuild over the large demo data: time and peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/recommendations.py --reuse

Uses (or builds) `aisle_bench_large` (`seed_demo --scale large`: 1,000,000+
events), runs `clienteling.recommendations.rebuild()` in a fresh process and prints
its wall time, the peak memory of that process (ru_maxrss) plus the peak of the
PostgreSQL backend doing the work — its unique set size, sampled every 20 ms from
`/proc/<pid>/smaps`: the pages only it maps, outside shared mappings, so the shared
buffers are not counted — and, for scale, the time of one SQL pass that groups the
same events by visitor. Targets: the whole job under 30 s and under 256 MB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET_SECONDS = 30
TARGET_MB = 256

MEASURE = """
import resource, threading, time
from django.db import connection
from clienteling import recommendations
from clienteling.models import BrowsingEvent


def private_kb(pid):
    # The backend's own memory: pages only it maps, outside shared mappings (the shared
    # buffers are a shared mapping: a page only this backend touched would count as
    # private, so shared mappings are left out whole).
    total, shared = 0, False
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                shared = "s" in line.split()[1]
            elif first in ("Private_Clean:", "Private_Dirty:") and not shared:
                total += int(line.split()[1])
    return total


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
connection.close()  # a fresh backend for the rebuild: its memory is the rebuild's own
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
idle_kb = private_kb(pid)
peak = [idle_kb]
done = threading.Event()


def sample():
    while not done.wait(0.02):
        try:
            peak[0] = max(peak[0], private_kb(pid))
        except OSError:
            return


sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
started = time.monotonic()
kept = recommendations.rebuild()
seconds = time.monotonic() - started
done.set()
sampler.join()
print(BrowsingEvent.objects.count(), visitors, round(group_seconds, 2), kept, round(seconds, 2),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, peak[0], idle_kb)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_large")
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
    out = harness.django_shell(env, MEASURE).split()[-8:]
    events, visitors, group_s, kept, seconds, rss_kb, backend_kb, idle_kb = out
    python_mb = int(rss_kb) / 1024
    backend_mb = int(backend_kb) / 1024
    seconds = float(seconds)
    print(f"{int(events):,} events from {int(visitors):,} visitors")
    print(f"one SQL pass grouping the events by visitor: {float(group_s):.1f} s")
    print(
        f"recommendation rebuild: {seconds:.1f} s, {int(kept):,} product pairs kept; "
        f"peak memory: Python {python_mb:.0f} MB + PostgreSQL backend {backend_mb:.0f} MB "
        f"(its own pages, {int(idle_kb) / 1024:.0f} MB of them before the rebuild) = "
        f"{python_mb + backend_mb:.0f} MB (targets: < {TARGET_SECONDS} s, < {TARGET_MB} MB)"
    )
    ok = seconds < TARGET_SECONDS and python_mb + backend_mb < TARGET_MB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
