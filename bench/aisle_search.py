"""What the endless aisle's catalog search costs, on the large demo data, against
a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/aisle_search.py

DATABASE_URL only names the server: the benchmark (re)creates its own database,
`aisle_bench_aisle` unless `--database` says otherwise (`--reuse` keeps one
already seeded), migrates it, runs `seed_demo --scale large --force` and
`collectstatic`. Then, under gunicorn (`--workers`, default 2; DEBUG=0,
persistent PostgreSQL connections, the project's whole middleware stack), as the
associate of S03 (a session made with Django's session store, as a login would),
it loads with wrk, alternating, each `--rounds` times after a warm-up:

- as you type: the results fragment htmx asks for (`GET /store/aisle/?q=...` with
  `HX-Request`), cycling through 60 searches made from the catalog (words of
  product names, brands, categories, colours, sizes, SKU beginnings and whole
  barcodes), some with a filter or the "on the shelf here" switch;
- the full search page for the same searches;
- a product page (`GET /store/aisle/<style>/`), cycling through 60 products:
  every variant across the 53 locations;
- the bare view of `bench/urls.py` (a short text through the same middleware),
  with the same cookie.

Prints the catalog's size, each median rate and its ratio to the bare view, and
the queries one search takes. The target (0.1 of the bare view) is for the search's
answers, the fragment each keystroke asks for; the full page (the tablet shell and
the filters, loaded once before typing) and the product page are printed for scale.
Exits 1 when the answers' ratio is under 0.1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET = 0.1
ASSOCIATE = "associate.s03@demo.aisle"
SEARCH = "/store/aisle/"
BARE = "/bench/bare/"

SETUP = r"""
import json, random
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from inventory import aisle
from inventory.catalog_index import catalog_index
from inventory.models import StockLevel
from retail.access import STORE_SESSION_KEY
from retail.models import Store, User

user = User.objects.get(email="%(associate)s")
store = Store.objects.get(code="S03")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "retail.backends.StaffModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session[STORE_SESSION_KEY] = store.pk
session.create()

index = catalog_index()
rng = random.Random(7)
products = rng.sample(index.products, 60)
words = sorted({w for p in index.products for w in p.name.lower().split() if len(w) > 3})
searches = []
for n in range(60):
    p = products[n]
    v = rng.choice(p.variants)
    kind = n %% 6
    if kind == 0:
        searches.append({"q": rng.choice(words)})
    elif kind == 1:
        searches.append({"q": p.brand.split()[0].lower() + " " + p.category_name.lower()[:4]})
    elif kind == 2:
        searches.append({"q": v.sku[: max(4, len(v.sku) // 2)]})
    elif kind == 3:
        searches.append({"q": v.barcode or v.sku})
    elif kind == 4:
        searches.append({"q": rng.choice(words), "size": v.size or ""})
    else:
        searches.append({"q": v.colour or rng.choice(words), "here": "on"})
with CaptureQueriesContext(connection) as captured:
    aisle.catalog_search(query=searches[0]["q"], store=store)
print(json.dumps({
    "cookie": settings.SESSION_COOKIE_NAME,
    "session": session.session_key,
    "searches": searches,
    "styles": [p.style_code for p in products],
    "products": len(index.products),
    "variants": sum(len(p.variants) for p in index.products),
    "levels": StockLevel.objects.count(),
    "search_queries": len(captured),
}))
"""


def lua_cycle(paths: list[str]) -> str:
    """A wrk script that asks for each path in turn."""
    items = ",\n".join(json.dumps(p) for p in paths)
    return (
        f"local paths = {{\n{items}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        "  return wrk.format(nil, paths[(i % #paths) + 1])\nend\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default="aisle_bench_aisle")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    server = harness.require_postgres("bench/aisle_search.py")
    work = tempfile.mkdtemp(prefix="aisle-bench-aisle-")
    try:
        env = harness.environment(
            harness.fresh_database(server, args.database, keep_existing=args.reuse),
            MEDIA_ROOT=work,
        )
        harness.manage(env, "migrate", "--no-input")
        seeded = "seeded" in harness.django_shell(
            env,
            "from inventory.models import StockLevel; "
            "print('seeded' if StockLevel.objects.count() > 100000 else 'empty')",
        )
        if not (args.reuse and seeded):
            print("seeding the large demo network (a few minutes) …", flush=True)
            harness.manage(env, "seed_demo", "--scale", "large", "--force")
        harness.manage(env, "collectstatic", "--no-input", "-v", "0")
        info = json.loads(
            harness.django_shell(env, SETUP % {"associate": ASSOCIATE}).strip().splitlines()[-1]
        )
        return run(env, info, args, Path(work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(env: dict, info: dict, args, work: Path) -> int:
    headers = {"Cookie": f"{info['cookie']}={info['session']}"}
    searches = [f"{SEARCH}?{urlencode(s)}" for s in info["searches"]]
    products = [f"{SEARCH}{style}/" for style in info["styles"]]
    scripts = {}
    for name, paths in (("searches", searches), ("products", products)):
        scripts[name] = work / f"{name}.lua"
        scripts[name].write_text(lua_cycle(paths))
    kinds = {
        "as you type": (searches[0], {**headers, "HX-Request": "true"}, scripts["searches"]),
        "search page": (searches[0], headers, scripts["searches"]),
        "product page": (products[0], headers, scripts["products"]),
    }
    rates: dict[str, list[float]] = {name: [] for name in [*kinds, "bare view"]}
    print(
        f"catalog: {info['products']:,} products, {info['variants']:,} variants, "
        f"{info['levels']:,} stock rows; one search: {info['search_queries']} query"
    )
    with harness.gunicorn(env, workers=args.workers) as base:
        for path in searches + products:
            expect_ok(base + path, headers)
        print(
            f"gunicorn {args.workers} workers; wrk 2 threads, 16 connections, "
            f"{args.seconds} s each; 60 different searches and products in turn"
        )
        for path, kind_headers, script in kinds.values():  # warm every worker
            harness.wrk(base + path, seconds=2, headers=kind_headers, script=str(script))
        harness.wrk(base + BARE, seconds=2, headers=headers)
        for number in range(1, args.rounds + 1):
            for name, (path, kind_headers, script) in kinds.items():
                result = harness.wrk(
                    base + path, seconds=args.seconds, headers=kind_headers, script=str(script)
                )
                assert result.non_2xx == 0 and result.errors == 0, result
                rates[name].append(result.requests_per_second)
                print(f"  round {number} {name:>12}: {result}", flush=True)
            bare = harness.wrk(base + BARE, seconds=args.seconds, headers=headers)
            rates["bare view"].append(bare.requests_per_second)
            print(f"  round {number} {'bare view':>12}: {bare}", flush=True)

    medians = {name: statistics.median(values) for name, values in rates.items()}
    print()
    ok = True
    for name in kinds:
        ratio = medians[name] / medians["bare view"]
        target = name == "as you type"
        ok &= ratio >= TARGET or not target
        verdict = ("met" if ratio >= TARGET else "MISSED") if target else "for scale"
        print(
            f"{name:<12} {medians[name]:>8,.0f} requests/s, {ratio:.2f} of the bare view "
            f"({'target ≥ ' + str(TARGET) + ': ' if target else ''}{verdict})"
        )
    print(f"{'bare view':<12} {medians['bare view']:>8,.0f} requests/s")
    return 0 if ok else 1


def expect_ok(url: str, headers: dict) -> None:
    """Every path answers 200 first: the figures are for pages, not redirects or errors."""
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    if status != 200:
        sys.exit(f"expected 200 from {url}, got {status}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


if __name__ == "__main__":
    sys.exit(main())
