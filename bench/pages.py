"""The pages a store day asks for most, on the large demo data, in one run, each as a
ratio to the anonymous bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/pages.py --reuse

DATABASE_URL only names the server: the benchmark keeps (with `--reuse`) or
(re)creates the database `aisle_bench_large` seeded with `seed_demo --scale large`
(a million browsing events, 100,000 customers, 50 stores, 20,000+ SKUs). It serves
Aisle under gunicorn as the README deploys it (2 workers, DEBUG=0, persistent
connections, Redis as the shared cache and the session store) and loads each kind
with wrk (2 threads, 16 connections), cycling through 20–60 different objects so
that no figure is one object kept in a cache:

| kind | what | target |
|---|---|---|
| poll, no news | the pickup queue's poll with its ETag: 304 | ≥ 0.5 |
| customer page | `/store/customers/<pk>/`, the 20 longest browsing histories | ≥ 0.1 |
| order page | `/store/pickups/<pk>/`, 20 of the store's pickups | ≥ 0.05 |
| pickup queue | `/store/pickups/` as a tablet opens it (full page) | ≥ 0.05 |
| search page | `/store/aisle/?q=…`, the full page for 60 searches | ≥ 0.1 |
| availability | `GET /api/v1/availability/` for 20 SKUs, as the online channel | ≥ 0.2 |

against the bare view of `bench/urls.py` without a cookie (a short text through the
same middleware). Prints each page's query count first, then each median rate and
ratio; exits 1 when a target is missed. `--only customer,order` runs a subset.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.aisle_search import SETUP as SEARCH_SETUP
from bench.aisle_search import expect_ok, lua_cycle
from bench.poll_304 import POLL, fetch

ASSOCIATE = "associate.s03@demo.aisle"
STORE = "S03"
TARGETS = {
    "poll": 0.5,
    "customer": 0.1,
    "order": 0.05,
    "queue": 0.05,
    "search": 0.1,
    "availability": 0.2,
}
LABELS = {
    "poll": "poll, no news (304)",
    "customer": "customer page",
    "order": "order page",
    "queue": "pickup queue",
    "search": "search page",
    "availability": "availability (20 SKUs)",
}

# Run after bench.aisle_search.SETUP (its `user`, `store`, `session` and `searches`).
SETUP = r"""
search_queries = len(captured)
from django.db.models import Count
from django.test import Client
from clienteling.models import BrowsingEvent
from orders import pickup
from inventory.models import StockLevel
from retail.models import Customer

longest = list(
    BrowsingEvent.objects.exclude(customer=None).values_list("customer")
    .annotate(n=Count("pk")).order_by("-n")[:20]
)
# The pickups in hand, as the associates open them from the queue (the latest the
# store handled when fewer are in hand).
pickups = list(pickup.pickup_queue(store).values_list("pk", flat=True)[:20])
pickups += list(
    pickup.pickups_at(store).exclude(pk__in=pickups).order_by("-pk")
    .values_list("pk", flat=True)[:20 - len(pickups)]
)
skus = [
    r["variant__sku"] for r in StockLevel.objects.filter(on_hand__gt=0)
    .values("variant__sku").annotate(n=Count("pk")).order_by("-n", "variant__sku")[:20]
]
paths = {
    "customer": [f"/store/customers/{pk}/" for pk, _n in longest],
    "order": [f"/store/pickups/{pk}/" for pk in pickups],
    "queue": ["/store/pickups/"],
    "availability": [
        "/api/v1/availability/?" + "&".join(f"sku={s}" for s in skus) + "&store=%(store)s"
    ],
}
client = Client(HTTP_HOST="127.0.0.1")
client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
queries = {}
for kind, kind_paths in paths.items():
    extra = {"HTTP_AUTHORIZATION": "Token %(key)s"} if kind == "availability" else {}
    client.get(kind_paths[0], **extra)
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(kind_paths[0], **extra)
    queries[kind] = [answer.status_code, len(captured)]
print(json.dumps({
    "cookie": settings.SESSION_COOKIE_NAME,
    "session": session.session_key,
    "searches": searches,
    "paths": paths,
    "queries": queries,
    "search_queries": search_queries,
    "events": BrowsingEvent.objects.count(),
    "customers": Customer.objects.count(),
    "histories": [n for _pk, n in longest],
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default="aisle_bench_large")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated kinds: " + ",".join(TARGETS))
    parser.add_argument(
        "--cache",
        default="redis://127.0.0.1:6379/13",
        help="the shared cache (sessions, poll versions, kept sections); cleared first",
    )
    args = parser.parse_args()
    kinds = [k for k in args.only.split(",") if k] or list(TARGETS)
    unknown = set(kinds) - set(TARGETS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")

    server = harness.require_postgres("bench/pages.py")
    work = Path(tempfile.mkdtemp(prefix="aisle-bench-pages-"))
    try:
        db = harness.fresh_database(server, args.database, keep_existing=args.reuse)
        # A day-long time step: no run crosses a step and turns its 304s into renders.
        env = harness.environment(
            db,
            CACHE_URL=args.cache,
            MEDIA_ROOT=str(work),
            AISLE_POLL_TIME_STEP_SECONDS="86400",
        )
        harness.manage(env, "migrate", "--no-input")
        harness.django_shell(env, "from django.core.cache import cache; cache.clear()")
        events = harness.django_shell(
            env,
            "from clienteling.models import BrowsingEvent; print(BrowsingEvent.objects.count())",
        )
        if not args.reuse or int(events.strip() or 0) < 1_000_000:
            print("seeding the large demo network (seed_demo --scale large) …", flush=True)
            harness.manage(env, "seed_demo", "--scale", "large", "--force")
        harness.manage(env, "collectstatic", "--no-input", "-v", "0")
        key = (
            harness.manage(
                env,
                "create_api_client",
                f"bench-pages-{work.name}",
                "--scopes",
                "availability:read",
                "--rate",
                "1000000/s",
            )
            .strip()
            .splitlines()[-1]
        )
        code = SEARCH_SETUP % {"associate": ASSOCIATE} + SETUP % {"key": key, "store": STORE}
        code = code.replace('code="S03"', f'code="{STORE}"')
        info = json.loads(harness.django_shell(env, code).strip().splitlines()[-1])
        return run(env, info, key, kinds, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(env: dict, info: dict, key: str, kinds: list[str], args, work: Path) -> int:
    session = {"Cookie": f"{info['cookie']}={info['session']}"}
    paths = dict(info["paths"])
    paths["search"] = [f"/store/aisle/?{urlencode(s)}" for s in info["searches"]]
    queries = dict(info["queries"])
    queries["search"] = [200, info["search_queries"]]
    print(
        f"{info['events']:,} browsing events, {info['customers']:,} customers; the customers' "
        f"histories {min(info['histories'])}–{max(info['histories'])} events; store {STORE}"
    )
    headers = dict.fromkeys(TARGETS, session)
    headers["availability"] = {"Authorization": f"Token {key}"}
    scripts = {}
    for kind, kind_paths in paths.items():
        scripts[kind] = work / f"{kind}.lua"
        scripts[kind].write_text(lua_cycle(kind_paths))
    rates: dict[str, list[float]] = {kind: [] for kind in [*kinds, "bare"]}
    with harness.gunicorn(env, workers=args.workers) as base:
        queue = base + paths["queue"][0]
        status, etag = 0, ""
        for _n in range(3):  # the first poll may find no version yet: no ETag
            status, etag = fetch(queue, {**session, **POLL})
            if etag:
                break
        if status != 200 or not etag:
            sys.exit(f"the queue's poll answered HTTP {status} without an ETag")
        headers["poll"] = {**session, **POLL, "If-None-Match": etag}
        scripts["poll"] = None
        paths["poll"] = paths["queue"]
        queries["poll"] = ["304", 0]
        for kind in kinds:
            if kind != "poll":
                for path in paths[kind]:
                    expect_ok(base + path, headers[kind])
            print(f"{LABELS[kind]:<24} {len(paths[kind]):>3} paths, {queries[kind][1]} queries")
        print(
            f"gunicorn {args.workers} workers; wrk 2 threads, 16 connections, "
            f"{args.seconds} s each, {args.rounds} rounds after a warm-up"
        )
        for kind in kinds:  # warm every worker
            harness.wrk(
                base + paths[kind][0], seconds=2, headers=headers[kind], script=_s(scripts[kind])
            )
        harness.wrk(f"{base}/bench/bare/", seconds=2)
        for number in range(1, args.rounds + 1):
            bare = harness.wrk(f"{base}/bench/bare/", seconds=args.seconds)
            rates["bare"].append(bare.requests_per_second)
            print(f"  round {number} {'bare view':>24}: {bare}", flush=True)
            for kind in kinds:
                result = harness.wrk(
                    base + paths[kind][0],
                    seconds=args.seconds,
                    headers=headers[kind],
                    script=_s(scripts[kind]),
                )
                if result.non_2xx or result.errors:
                    sys.exit(f"{LABELS[kind]}: some answers failed: {result}")
                rates[kind].append(result.requests_per_second)
                print(f"  round {number} {LABELS[kind]:>24}: {result}", flush=True)
        if fetch(queue, headers["poll"])[0] != 304:
            sys.exit("the queue's ETag changed during the run: the poll figure mixes renders")

    medians = {kind: statistics.median(values) for kind, values in rates.items()}
    print()
    ok = True
    for kind in kinds:
        ratio = medians[kind] / medians["bare"]
        met = ratio >= TARGETS[kind]
        ok &= met
        print(
            f"{LABELS[kind]:<24} {medians[kind]:>8,.0f} req/s  ratio {ratio:.3f}  "
            f"(target ≥ {TARGETS[kind]}: {'met' if met else 'MISSED'})"
        )
    print(f"{'bare view (anonymous)':<24} {medians['bare']:>8,.0f} req/s")
    return 0 if ok else 1


def _s(script: Path | None) -> str | None:
    return str(script) if script else None


if __name__ == "__main__":
    sys.exit(main())
