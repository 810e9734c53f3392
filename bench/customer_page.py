"""The customer 360 page on the large demo data, against a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/customer_page.py

Builds (or with --reuse keeps) the database `aisle_bench_large` with
`seed_demo --scale large` (1,000,000+ browsing events, 100,000 customers), picks
the 20 customers with the longest browsing histories, logs the S01 associate in
(a real session row) and, under gunicorn (2 workers, DEBUG=0, persistent
connections, Redis as the cache: the real parts), loads with wrk one page view after another across those customers:
the customer page (`/store/customers/<pk>/`, audit row written) with its 360
section (journey, purchases, recommendations, notes, follow-ups, outreach), which
the page renders in the same response — it loads no fragment. Against the bare
view of `bench/urls.py` served the same way, in the same run. Prints the query
count and page views per second; target: at least 0.05 of the bare rate.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET = 0.05
ASSOCIATE = "associate.s01@demo.aisle"

LUA = """
paths = {%(paths)s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Cookie"] = "sessionid=%(session)s"})
end
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_large")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--cache",
        default="redis://127.0.0.1:6379/13",
        help="the shared cache the page keeps its 360 section in (cleared first)",
    )
    args = parser.parse_args()

    server = harness.require_postgres("bench/customer_page.py")
    db = harness.fresh_database(server, args.database, keep_existing=args.reuse)
    env = harness.environment(db, CACHE_URL=args.cache)
    harness.manage(env, "migrate", "--no-input")
    harness.django_shell(env, "from django.core.cache import cache; cache.clear()")
    seeded = harness.django_shell(
        env, "from clienteling.models import BrowsingEvent; print(BrowsingEvent.objects.count())"
    )
    if not args.reuse or int(seeded.strip() or 0) < 1_000_000:
        print("seeding the large demo network (seed_demo --scale large) …", flush=True)
        harness.manage(env, "seed_demo", "--scale", "large", "--force")
    harness.manage(env, "collectstatic", "--no-input", "-v", "0")
    facts = (
        harness.django_shell(
            env,
            "from django.db.models import Count; from django.test import Client;"
            "from clienteling.models import BrowsingEvent; from retail.models import Customer, User;"
            "rows = list(BrowsingEvent.objects.exclude(customer=None).values_list('customer')"
            ".annotate(n=Count('pk')).order_by('-n')[:20]);"
            f"c = Client(); c.force_login(User.objects.get(email='{ASSOCIATE}'));"
            "print(BrowsingEvent.objects.count(), Customer.objects.count());"
            "print(c.cookies['sessionid'].value);"
            "print(' '.join(f'{pk}:{n}' for pk, n in rows))",
        )
        .strip()
        .splitlines()[-3:]
    )
    events, customers = facts[0].split()
    session = facts[1]
    longest = [tuple(map(int, item.split(":"))) for item in facts[2].split()]
    print(
        f"{int(events):,} events, {int(customers):,} customers; the 20 longest histories "
        f"have {longest[-1][1]}–{longest[0][1]} events"
    )
    pk = longest[0][0]
    queries = harness.django_shell(
        env,
        "from django.test import Client; from django.db import connection;"
        "from django.test.utils import CaptureQueriesContext;"
        "from retail.models import User;"
        f"c = Client(HTTP_HOST='127.0.0.1'); c.force_login(User.objects.get(email='{ASSOCIATE}'));"
        "ctx = CaptureQueriesContext(connection)\n"
        f"with ctx: cold = c.get('/store/customers/{pk}/')\n"
        "ctx2 = CaptureQueriesContext(connection)\n"
        f"with ctx2: page = c.get('/store/customers/{pk}/')\n"
        "print(cold.status_code, len(ctx), page.status_code, len(ctx2), "
        "page.content.count(b'product-card recommendation\"'))",
    ).split()[-5:]
    print(
        f"queries: customer page {queries[3]} (HTTP {queries[2]}; "
        f"{queries[1]} when its 360 section is built), {queries[4]} recommendations shown"
    )
    paths = [f"/store/customers/{customer_pk}/" for customer_pk, _n in longest]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"paths": ", ".join(f'"{p}"' for p in paths), "session": session})
    bare, aisle = [], []
    with harness.gunicorn(env, workers=2) as base:
        harness.wrk(f"{base}/bench/bare/", seconds=2)
        harness.wrk(base + paths[0], seconds=3, script=script.name)
        for _ in range(args.rounds):
            bare.append(harness.wrk(f"{base}/bench/bare/", seconds=args.seconds))
            aisle.append(harness.wrk(base + paths[0], seconds=args.seconds, script=script.name))
    Path(script.name).unlink()
    bare_rps = statistics.median(r.requests_per_second for r in bare)
    pages = statistics.median(r.requests_per_second for r in aisle)
    ratio = pages / bare_rps
    print(f"bare view:          {bare[-1]}")
    print(f"customer 360 page:  {aisle[-1]}")
    print(
        f"customer 360 page views: {pages:,.1f}/s vs bare "
        f"{bare_rps:,.0f} req/s: ratio {ratio:.3f} (target ≥ {TARGET})"
    )
    if any(r.non_2xx for r in aisle):
        print("some page requests were not 200")
        return 1
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
