"""HQ's insights dashboard on the large demo data: the rollup refresh and the pages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/insights_dashboard.py

DATABASE_URL only names the server: the benchmark (re)creates its own database,
`aisle_bench_insights` unless `--database` says otherwise (`--reuse` keeps one already
seeded), migrates it and runs `seed_demo --scale large --force` (a year of history in
every channel; `--scale small` for a quick run). Then it prints:

- the rollup refresh time for one day (yesterday's key of every store and the online
  key marked dirty, then `refresh_dirty()`) and for a full rebuild
  (`refresh(full=True)`), each with the peak memory of the process that ran it (right
  after seeding, the full rebuild is the one `seed_demo` ends with, timed there;
  `--rebuild` times another; with `--reuse` and no `--rebuild` the full rebuild is
  not timed, since on the large data it takes about half an hour);
- the dashboard's query count: `/hq/` (its default period: the last 30 days) as the
  demo HQ admin (a session that passed TOTP) and `/store/insights/` as the S01 store
  manager (working in S01), each for its first look (figures computed) and again
  (figures and drawing kept until the rollups change);
- their throughput under gunicorn (2 workers, DEBUG=0, persistent connections, Redis
  as the cache), each as a ratio against the anonymous bare view of `bench/urls.py`
  served the same way in the same run (target ≥ 0.1). A page that answers 404 (not
  merged yet) is reported "not found" and skipped.

Exits 1 if a page answers neither 200 nor 404, or a ratio misses the target.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET = 0.1
MANAGER = "manager.s01@demo.aisle"

REFRESH_ONE_DAY = r"""
import datetime as dt, json, resource, time
from insights import rollups
from insights.dates import today
from retail.models import Store
rollups.refresh_dirty(limit=10**9)  # nothing else waiting
keys = [(s.pk, today(s) - dt.timedelta(days=1)) for s in Store.objects.all()]
keys.append((None, today() - dt.timedelta(days=1)))
rollups.mark_days(keys)
started = time.perf_counter()
done = rollups.refresh_dirty(limit=10**9)
print(json.dumps({"seconds": time.perf_counter() - started, "keys": done["days"],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

REFRESH_FULL = r"""
import json, resource, time
from insights import rollups
started = time.perf_counter()
done = rollups.refresh(full=True)
print(json.dumps({"seconds": time.perf_counter() - started, "keys": done["days"],
                  "customers": done["customers"],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# Two sessions (HQ after TOTP, the S01 manager) and each page's status and query count.
PAGES = r"""
import json, time
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from django.db import connection
from django.test import Client
from django.core.cache import cache
from retail.access import STORE_SESSION_KEY
from retail.models import Store, User

def client(email, totp, store):
    user = User.objects.get(email=email)
    c = Client(HTTP_HOST="127.0.0.1")
    c.force_login(user)
    session = c.session
    if store:
        session[STORE_SESSION_KEY] = Store.objects.get(code=store).pk
    methods = [{"method": "password", "at": time.time(), "email": user.email}]
    if totp:
        methods.append({"method": "mfa", "at": time.time(), "type": "totp"})
    session["account_authentication_methods_user"] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = methods
    session.save()
    return c

def look(c, url):
    seen = []

    def count(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(count):
        status = c.get(url).status_code
    return status, len(seen), (time.perf_counter() - started) * 1000

result = {}
cache.clear()
for name, email, totp, store, url in %(pages)s:
    c = client(email, totp, store)
    c.get("/bench/bare/")  # the session's user and store settled
    status, first, first_ms = look(c, url)
    status, queries, ms = look(c, url)
    result[name] = {"url": url, "status": status, "queries": queries, "first": first,
                    "first_ms": first_ms, "ms": ms, "session": c.cookies["sessionid"].value}
print(json.dumps(result))
"""


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default="aisle_bench_insights")
    parser.add_argument("--scale", choices=("small", "large"), default="large")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="time a full rebuild of its own even after seeding (the seed ends with one)",
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache", default="redis://127.0.0.1:6379/13", help="cleared first")
    args = parser.parse_args()

    server = harness.require_postgres("bench/insights_dashboard.py")
    media = tempfile.mkdtemp(prefix="aisle-bench-media-")
    try:
        db = harness.fresh_database(server, args.database, keep_existing=args.reuse)
        env = harness.environment(db, CACHE_URL=args.cache, MEDIA_ROOT=media)
        harness.manage(env, "migrate", "--no-input")
        harness.django_shell(env, "from django.core.cache import cache; cache.clear()")
        seeded = harness.django_shell(
            env,
            "from orders.models import Order; "
            "print(Order.objects.filter(order_ref__startswith='HIST-').count())",
        )
        rebuilt = None
        if not (args.reuse and int(seeded.strip().splitlines()[-1] or 0)):
            print(f"seeding the {args.scale} demo network (seed_demo --force) …", flush=True)
            output = harness.manage(env, "seed_demo", "--scale", args.scale, "--force")
            for line in output.splitlines():
                if "history written" in line or "rollups rebuilt" in line or "ready in" in line:
                    print(line.strip(), flush=True)
            # The seed ends with the very rebuild measured below: its time, not a second run.
            found = re.search(
                r"rollups rebuilt in ([\d.]+) s \(([\d,]+) store-days, ([\d,]+) customers", output
            )
            if found:
                rebuilt = {
                    "seconds": float(found.group(1)),
                    "keys": int(found.group(2).replace(",", "")),
                    "customers": int(found.group(3).replace(",", "")),
                    "peak_mb": None,
                }
        harness.manage(env, "collectstatic", "--no-input", "-v", "0")
        print(harness.django_shell(env, FACTS).strip().splitlines()[-1], flush=True)

        one = last_json(harness.django_shell(env, REFRESH_ONE_DAY))
        print(
            f"rollup refresh, one day ({one['keys']} store-days): {one['seconds']:.2f} s, "
            f"peak memory {one['peak_mb']:.0f} MB",
            flush=True,
        )
        full = rebuilt if rebuilt and not args.rebuild else None
        if full is None and (args.rebuild or not args.reuse):
            full = last_json(harness.django_shell(env, REFRESH_FULL))
        if full is None:
            print("rollup refresh, full rebuild: not timed (--reuse without --rebuild)")
        else:
            memory = (
                f"peak memory {full['peak_mb']:.0f} MB" if full["peak_mb"] else "during the seed"
            )
            print(
                f"rollup refresh, full rebuild ({full['keys']:,} store-days, "
                f"{full['customers']:,} customers): {full['seconds']:.1f} s, {memory}",
                flush=True,
            )
        harness.django_shell(
            env, "from django.db import connection; connection.cursor().execute('ANALYZE')"
        )
        # Both dashboards open on the last 30 days when no period is asked for.
        pages = [
            ("HQ dashboard", "hq@demo.aisle", True, "", "/hq/"),
            ("store dashboard", MANAGER, False, "S01", "/store/insights/"),
        ]
        found = last_json(harness.django_shell(env, PAGES % {"pages": repr(pages)}))
        return measure(args, env, found)
    finally:
        shutil.rmtree(media, ignore_errors=True)


FACTS = (
    "from orders.models import Order; from retail.models import Customer, Store;"
    "from insights.models import OrderDay;"
    "print(f'{Store.objects.count()} stores, {Customer.objects.count():,} customers, '"
    "f'{Order.objects.count():,} orders, {OrderDay.objects.count():,} order-day rollup rows')"
)


def measure(args, env: dict, found: dict) -> int:
    failed = False
    live = {}
    for name, page in found.items():
        if page["status"] == 404:
            print(f"{name} ({page['url']}): not found")
            continue
        print(
            f"{name} ({page['url']}): HTTP {page['status']}; first look {page['first']} "
            f"queries, {page['first_ms']:,.0f} ms; again {page['queries']} queries, "
            f"{page['ms']:,.0f} ms"
        )
        if page["status"] != 200:
            failed = True
            continue
        live[name] = page
    if not live:
        return 1 if failed else 0
    bare, pages = [], {name: [] for name in live}
    with harness.gunicorn(env, workers=2) as base:
        harness.wrk(f"{base}/bench/bare/", seconds=2)
        for page in live.values():
            cookie = {"Cookie": f"sessionid={page['session']}"}
            harness.wrk(base + page["url"], seconds=2, headers=cookie)
        for _ in range(args.rounds):
            bare.append(harness.wrk(f"{base}/bench/bare/", seconds=args.seconds))
            for name, page in live.items():
                cookie = {"Cookie": f"sessionid={page['session']}"}
                pages[name].append(
                    harness.wrk(base + page["url"], seconds=args.seconds, headers=cookie)
                )
    bare_rps = statistics.median(r.requests_per_second for r in bare)
    print(f"bare view: {bare[-1]}")
    for name, results in pages.items():
        rps = statistics.median(r.requests_per_second for r in results)
        ratio = rps / bare_rps
        print(f"{name}: {results[-1]}")
        print(
            f"{name}: {rps:,.1f} pages/s vs bare {bare_rps:,.0f} req/s: "
            f"ratio {ratio:.3f} (target ≥ {TARGET})"
        )
        failed = failed or ratio < TARGET or any(r.non_2xx for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
