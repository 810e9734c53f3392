"""What HQ's returns pages cost on the demo network: each page's query count and time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/returns_hq.py

DATABASE_URL only names the server: the benchmark (re)creates its own database,
`aisle_bench_returns` unless `--database` says otherwise (`--reuse` keeps one already
seeded), migrates it and runs `seed_demo --scale large --force` (`--scale small` for a
quick run). The demo seeds no returns, so the benchmark then takes `--returns` of them
through the real services on the demo network: online orders delivered from the DC
and till sales, returned at the demo stores' counters (and some by post at the DC),
with every reason, disposition and refund route in turn, one in ten turned into an
exchange. Then, as the demo HQ admin with a session that passed TOTP, it requests
`/hq/returns/` and every table's CSV for the last 30 days, `--rounds` times each after
a warm-up, in process (Django's test client, DEBUG=0), and prints each page's query
count and its median time. Exits 1 if a page does not answer 200.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

REASONS = ("size", "fit", "quality", "not_as_described", "changed_mind", "damaged", "other")
DISPOSITIONS = ("restock", "restock", "damaged", "vendor", "donate")


def seed(returns: int) -> None:
    """Run inside Django (manage.py shell): `returns` completed returns on the demo data."""
    from inventory import services as stock
    from inventory.models import LocationKind, StockLocation
    from orders import services
    from orders.models import State
    from retail.models import Customer, Role, StaffProfile, Variant
    from returns import services as returning
    from returns.models import Return
    from returns.services import LineAsk

    shelves = list(
        StockLocation.objects.filter(kind=LocationKind.STORE, store__isnull=False)
        .select_related("store")
        .order_by("code")[:20]
    )
    dc = StockLocation.objects.filter(kind=LocationKind.DC, ships_to_customers=True).first()
    variants = list(
        Variant.objects.filter(product__category__isnull=False, price__gt=0)
        .select_related("product__category")
        .order_by("pk")[:40]
    )
    customers = list(Customer.objects.filter(merged_into__isnull=True).order_by("pk")[:200])
    clerks = {
        p.home_store_id: p.user
        for p in StaffProfile.objects.filter(
            role=Role.STORE_MANAGER, home_store__in=[s.store for s in shelves]
        ).select_related("user")
    }
    per = returns // 2 + 1
    for variant in variants:
        stock.stock_receive(location=dc, variant=variant, quantity=per, by=None, reason="bench")
        for shelf in shelves:
            stock.stock_receive(
                location=shelf,
                variant=variant,
                quantity=per // len(shelves) + 10,
                by=None,
                reason="bench",
            )

    def place(ref, channel, variant, customer, shelf=None):
        data = services.OrderInput(
            order_ref=ref,
            channel=channel,
            customer=customer,
            lines=[services.LineInput(variant, 1, variant.price)],
            method="carry_out" if shelf else "ship",
            store=shelf.store if shelf else None,
            address=None
            if shelf
            else {
                "name": "Bench",
                "line1": "1 Rue Montorgueil",
                "city": "Paris",
                "postcode": "75002",
                "country": "FR",
            },
            tender=("card", "cash", "gift_card")[len(ref) % 3] if shelf else "card",
            amount=variant.price,
            fingerprint=ref,
        )
        order, _created = services.order_place(data)
        if not shelf:
            for f in order.fulfillments.all():
                for to in (State.PICKING, State.PACKED, State.SHIPPED, State.DELIVERED):
                    f = services.fulfillment_transition(fulfillment=f, to=to, by=None)
        return order

    done = Return.objects.filter(return_ref__startswith="BENCH-R-").count()
    for n in range(done, returns):
        variant = variants[n % len(variants)]
        customer = customers[n % len(customers)]
        shelf = shelves[n % len(shelves)]
        online = n % 3 != 0
        order = place(
            f"BENCH-O-{n}",
            ("web", "app", "social")[n % 3] if online else "store",
            variant,
            customer,
            None if online else shelf,
        )
        line = order.lines.get()
        ask = LineAsk(
            quantity=1,
            reason=REASONS[n % len(REASONS)],
            order_line=line,
            disposition=DISPOSITIONS[n % len(DISPOSITIONS)],
        )
        if online and n % 7 == 1:  # by post, received at the DC
            ret, _created = returning.return_request(
                order=order, return_ref=f"BENCH-R-{n}", asks=[ask]
            )
            returning.return_receive(ret=ret, location=dc)
            continue
        clerk = clerks.get(shelf.store_id)
        if clerk is None:
            continue
        ret, _created = returning.return_at_counter(
            order=order,
            asks=[ask],
            store=shelf.store,
            by=clerk,
            return_ref=f"BENCH-R-{n}",
            refund_to="store_credit" if online and n % 4 == 0 else "original",
        )
        if n % 10 == 0:
            # What the exchanges part records: the order taken instead of the refund.
            exchange = place(f"BENCH-X-{n}", "store", variant, customer, shelf)
            Return.objects.filter(pk=ret.pk).update(exchange_order=exchange)
    print(Return.objects.filter(return_ref__startswith="BENCH-R-", state="completed").count())


MEASURE = r"""
import json, statistics, time
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from django.db import connection
from django.test import Client
from django.urls import reverse
from retail.demo import HQ_EMAIL
from retail.models import User
from returns.hq_views import TABLES

hq = User.objects.get(email=HQ_EMAIL)
c = Client(HTTP_HOST="127.0.0.1")
c.force_login(hq)
session = c.session
session["account_authentication_methods_user"] = str(hq.pk)
session[AUTHENTICATION_METHODS_SESSION_KEY] = [
    {"method": "password", "at": time.time(), "email": hq.email},
    {"method": "mfa", "at": time.time(), "type": "totp"},
]
session.save()
urls = [reverse("returns_hq:overview")] + [reverse("returns_hq:csv", args=[k]) for k in TABLES]
rows = []
for url in urls:
    c.get(url)
    seen = []

    def count(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        status = c.get(url).status_code
    times = []
    for _ in range(%(rounds)d):
        started = time.perf_counter()
        c.get(url)
        times.append(time.perf_counter() - started)
    rows.append([url, status, len(seen), statistics.median(times) * 1000])
print(json.dumps(rows))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default="aisle_bench_returns")
    parser.add_argument("--scale", choices=("small", "large"), default="large")
    parser.add_argument("--returns", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "")
    if urlsplit(server).scheme not in ("postgres", "postgresql"):
        sys.exit("bench/returns_hq.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    media = tempfile.mkdtemp(prefix="aisle-bench-media-")
    try:
        env = harness.environment(
            harness.fresh_database(server, args.database, keep_existing=args.reuse),
            MEDIA_ROOT=media,
        )
        harness.manage(env, "migrate", "--no-input")
        seeded = "seeded" in harness.django_shell(
            env,
            "from retail.models import Store; print('seeded' if Store.objects.exists() else '')",
        )
        if not (args.reuse and seeded):
            print(f"seeding the {args.scale} demo network …", flush=True)
            harness.manage(env, "seed_demo", "--scale", args.scale, "--force")
        harness.manage(env, "collectstatic", "--no-input", "-v", "0")
        print(f"taking {args.returns} returns through the services …", flush=True)
        out = harness.django_shell(env, f"import bench.returns_hq as b; b.seed({args.returns})")
        print(f"{out.strip().splitlines()[-1]} completed returns in the database", flush=True)
        harness.django_shell(
            env, "from django.db import connection; connection.cursor().execute('ANALYZE')"
        )
        out = harness.django_shell(env, MEASURE % {"rounds": args.rounds})
        rows = json.loads(out.strip().splitlines()[-1])
    finally:
        shutil.rmtree(media, ignore_errors=True)
    failed = False
    for url, status, queries, ms in rows:
        print(f"{url}: HTTP {status}, {queries} queries, {ms:.1f} ms (median of {args.rounds})")
        failed = failed or status != 200
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
