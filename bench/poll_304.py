"""The pickup queue's poll, with and without news, against the anonymous bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/poll_304.py

Builds (or with --reuse keeps) the database `aisle_bench_poll` with one store
holding `--orders` pickups in every state of the queue (`bench/pickup_queue.py`'s
seed, through the real services), signs an associate in (a real session, kept in
Redis by `cached_db`) and serves Aisle under gunicorn (2 workers, DEBUG=0,
persistent connections, Redis as the shared cache: the real parts). With wrk, in
one run, as ratios to the anonymous bare view served the same way:

- **poll, no news**: what every open tablet sends every 10 s while nothing changed,
  `If-None-Match` with the queue's ETag: answered 304 before the view runs, without
  a database query (`retail/polls.py`). Target ≥ 0.5.
- **poll, news kept**: a tablet whose poll finds news another tablet of the store
  already rendered: the kept bytes, without a query.
- **poll, news rendered**: the first tablet to find news renders the queue (each
  request asks for another `page`, so none finds a kept render) and keeps it.

The time step (`AISLE_POLL_TIME_STEP_SECONDS`, a minute on the tablets) is set to a
day here, so that no run crosses a step and turns the 304s into renders: a 304 costs
the same whatever the step. The ETag is checked to still answer 304 after each run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET = 0.5
QUEUE = "/store/pickups/"
ASSOCIATE = "bench.associate@test.aisle"
POLL = {"HX-Request": "true", "X-Aisle-Poll": "1"}

# Each request another page of the queue: no two polls share a kept render.
RENDER_LUA = """
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "%(path)s?page=" .. i)
end
"""

QUERIES = """
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from retail.models import User

c = Client(HTTP_HOST="127.0.0.1")
c.force_login(User.objects.get(email="%(email)s"))
c.get("%(path)s")
poll = {"HTTP_HX_REQUEST": "true", "HTTP_X_AISLE_POLL": "1"}
c.get("%(path)s", **poll)
first = c.get("%(path)s", **poll)
counted = {}
for label, path, extra in (
    ("not_modified", "%(path)s", {"HTTP_IF_NONE_MATCH": first.get("ETag", "")}),
    ("kept", "%(path)s", {}),
    ("rendered", "%(path)s?page=2", {}),
):
    with CaptureQueriesContext(connection) as ctx:
        answer = c.get(path, **poll, **extra)
    counted[label] = (answer.status_code, len(ctx))
print("QUERIES", " ".join(f"{k}:{s}:{n}" for k, (s, n) in counted.items()))
print("COOKIE", c.cookies["sessionid"].value)
"""


def fetch(url: str, headers: dict) -> tuple[int, str]:
    """(status, ETag) of one GET."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status, response.headers.get("ETag", "")
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("ETag", "")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_poll")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--cache",
        default="redis://127.0.0.1:6379/11",
        help="the shared cache holding sessions, versions and kept renders (cleared first)",
    )
    args = parser.parse_args()

    server = harness.require_postgres("bench/poll_304.py")
    db = harness.fresh_database(server, args.database, keep_existing=args.reuse)
    env = harness.environment(db, CACHE_URL=args.cache, AISLE_POLL_TIME_STEP_SECONDS="86400")
    harness.manage(env, "migrate", "--no-input")
    harness.django_shell(env, "from django.core.cache import cache; cache.clear()")
    placed = harness.django_shell(
        env, "from orders.models import Order; print(Order.objects.count())"
    ).strip()
    if not args.reuse or int(placed or 0) < args.orders:
        print(f"placing {args.orders} pickups and moving them through the queue …", flush=True)
        harness.django_shell(env, f"import bench.pickup_queue as b; b.seed({args.orders})")
        harness.manage(
            env,
            "shell",
            "--no-imports",
            "-c",
            "from django.db import connection;connection.cursor().execute('ANALYZE')",
        )
    harness.manage(env, "collectstatic", "--no-input", "-v", "0")
    out = harness.django_shell(env, QUERIES % {"email": ASSOCIATE, "path": QUEUE})
    counted = next(line.split()[1:] for line in out.splitlines() if line.startswith("QUERIES"))
    cookie = next(line.split()[1] for line in out.splitlines() if line.startswith("COOKIE"))
    for item in counted:
        label, status, queries = item.split(":")
        print(f"poll {label}: HTTP {status}, {queries} queries")

    session = {"Cookie": f"sessionid={cookie}"}
    results: dict[str, list[harness.WrkResult]] = {"bare": [], "304": [], "kept": [], "render": []}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(RENDER_LUA % {"path": QUEUE})
    try:
        with harness.gunicorn(env, workers=2) as base:
            url = base + QUEUE
            status, etag = 0, ""
            for _n in range(3):  # the first poll may find no version yet: no ETag
                status, etag = fetch(url, {**session, **POLL})
                if etag:
                    break
            if status != 200 or not etag:
                print(f"the poll answered HTTP {status} without an ETag: no version known?")
                return 1
            conditional = {**session, **POLL, "If-None-Match": etag}
            if fetch(url, conditional)[0] != 304:
                print("a poll with the queue's ETag was not answered 304")
                return 1
            harness.wrk(f"{base}/bench/bare/", seconds=2)
            harness.wrk(url, seconds=2, headers=conditional)
            for _ in range(args.rounds):
                results["bare"].append(harness.wrk(f"{base}/bench/bare/", seconds=args.seconds))
                results["304"].append(harness.wrk(url, seconds=args.seconds, headers=conditional))
                if fetch(url, conditional)[0] != 304:
                    print("the ETag changed during the run: its figure mixes 304s and renders")
                    return 1
                results["kept"].append(
                    harness.wrk(url, seconds=args.seconds, headers={**session, **POLL})
                )
                results["render"].append(
                    harness.wrk(
                        url, seconds=args.seconds, headers={**session, **POLL}, script=script.name
                    )
                )
    finally:
        Path(script.name).unlink()

    bare_rps = statistics.median(r.requests_per_second for r in results["bare"])
    print(f"bare view (anonymous):   {results['bare'][-1]}")
    labels = {
        "304": "poll, no news (304)",
        "kept": "poll, news kept",
        "render": "poll, news rendered",
    }
    ratios = {}
    for key, label in labels.items():
        rps = statistics.median(r.requests_per_second for r in results[key])
        ratios[key] = rps / bare_rps
        print(f"{label + ':':<24} {results[key][-1]}; ratio to bare {ratios[key]:.3f}")
        if any(r.non_2xx or r.errors for r in results[key]):
            print(f"{label}: some answers were not 2xx/3xx, or sockets failed")
            return 1
    print(f"poll with no news: ratio {ratios['304']:.3f} (target ≥ {TARGET})")
    return 0 if ratios["304"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
