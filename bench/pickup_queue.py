"""The store's pickup queue, its home panel and one order's page, against a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/pickup_queue.py

Builds the database `aisle_bench_bopis` with one store holding `--orders` pickups
in every state of the queue (new, picking, ready, customer waiting), placed,
picked, made ready and checked in through the real services. Signs an associate
in, prints each page's query count, then its requests per second under gunicorn
(2 workers, DEBUG=0, persistent connections) against a bare view served the same
way, with wrk. The tablets poll the queue every 10 s, so a store with 20 tablets
needs 2 req/s; the target, a ratio ≥ 0.01 to the bare view (about 20 req/s on a
small machine), leaves ten times that for the rest of the network.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET = 0.01


def seed(orders: int) -> None:
    """Run inside Django (manage.py shell): the store, its stock and its pickups."""
    import datetime as dt
    from decimal import Decimal

    from inventory import services as stock
    from inventory.models import StockLocation
    from orders import pickup, services
    from retail.models import (
        Category,
        Customer,
        OpeningHours,
        Product,
        Role,
        StaffProfile,
        Store,
        User,
        Variant,
    )

    store, _ = Store.objects.get_or_create(
        code="S01",
        defaults={
            "name": "Bench store",
            "address_line1": "1 Rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "latitude": Decimal("48.86"),
            "longitude": Decimal("2.34"),
        },
    )
    for weekday in range(7):
        OpeningHours.objects.get_or_create(
            store=store, weekday=weekday, defaults={"opens": dt.time(0), "closes": dt.time(23, 59)}
        )
    shelf, _ = StockLocation.objects.get_or_create(
        code="S01", defaults={"name": "Bench store", "kind": "store", "store": store}
    )
    category, _ = Category.objects.get_or_create(
        code="tops", defaults={"name": "Tops", "tax_rate": Decimal("20.00")}
    )
    variants = []
    for i in range(20):
        product, _ = Product.objects.get_or_create(
            style_code=f"B-{i}", defaults={"name": f"Bench jumper {i}", "category": category}
        )
        variant, _ = Variant.objects.get_or_create(
            sku=f"BENCH-{i}",
            defaults={"product": product, "price": Decimal("30.00"), "barcode": None},
        )
        variants.append(variant)
        stock.stock_receive(location=shelf, variant=variant, quantity=orders * 3, by=None)
    user, created = User.objects.get_or_create(email="bench.associate@test.aisle")
    if created:
        StaffProfile.objects.create(user=user, role=Role.ASSOCIATE, home_store=store)
    for n in range(orders):
        customer = Customer.objects.create(name=f"Bench Customer {n}", email=f"c{n}@example.com")
        a, b = variants[n % 20], variants[(n + 7) % 20]
        order, _ = services.order_place(
            services.OrderInput(
                order_ref=f"BENCH-{n}",
                channel="web",
                customer=customer,
                lines=[services.LineInput(a, 1, a.price), services.LineInput(b, 2, b.price)],
                method="pickup",
                store=store,
                tender="card",
                amount=a.price + 2 * b.price,
                fingerprint=f"bench-{n}",
            )
        )
        f = order.fulfillments.get()
        if n % 4 == 0:
            continue
        pickup.pickup_scan(fulfillment=f, code=a.sku, by=user, store=store)
        if n % 4 == 1:
            continue
        for _ in range(2):
            pickup.pickup_scan(fulfillment=f, code=b.sku, by=user, store=store)
        pickup.pickup_mark_ready(fulfillment=f, by=user, store=store)
        if n % 4 == 3:
            f.refresh_from_db()
            pickup.pickup_check_in(store=store, text=f.pickup_code, by=None)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_bopis")
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    server = harness.require_postgres("bench/pickup_queue.py")
    db = harness.fresh_database(server, args.database)
    env = harness.environment(db)
    harness.manage(env, "migrate", "--no-input")
    harness.manage(env, "collectstatic", "--no-input", "-v", "0")
    print(f"placing {args.orders} pickups and moving them through the queue …", flush=True)
    harness.django_shell(env, f"import bench.pickup_queue as b; b.seed({args.orders})")
    harness.manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection;connection.cursor().execute('ANALYZE')",
    )
    out = harness.django_shell(
        env,
        "from django.test import Client; from django.db import connection;"
        "from django.test.utils import CaptureQueriesContext;"
        "from retail.models import User; from orders.models import Fulfillment;"
        "c = Client(HTTP_HOST='127.0.0.1');"
        "c.force_login(User.objects.get(email='bench.associate@test.aisle'));"
        "f = Fulfillment.objects.order_by('pk').first();"
        "paths = ['/store/pickups/', '/store/pickups/panel/', f'/store/pickups/{f.pk}/']\n"
        "for p in paths:\n"
        "    ctx = CaptureQueriesContext(connection)\n"
        "    with ctx: r = c.get(p)\n"
        "    print('PAGE', p, r.status_code, len(ctx))\n"
        "print('COOKIE', c.cookies['sessionid'].value)",
    )
    pages = [line.split()[1:] for line in out.splitlines() if line.startswith("PAGE")]
    cookie = next(line.split()[1] for line in out.splitlines() if line.startswith("COOKIE"))
    for path, status, queries in pages:
        print(f"{path}: HTTP {status}, {queries} queries")
    headers = {"Cookie": f"sessionid={cookie}"}
    worst = None
    with harness.gunicorn(env, workers=2) as base:
        harness.wrk(f"{base}/bench/bare/", seconds=2)
        bare = [
            harness.wrk(f"{base}/bench/bare/", seconds=args.seconds) for _ in range(args.rounds)
        ]
        bare_rps = statistics.median(r.requests_per_second for r in bare)
        print(f"bare view: {bare[-1]}")
        for path, _status, _queries in pages:
            runs = [
                harness.wrk(base + path, seconds=args.seconds, headers=headers)
                for _ in range(args.rounds)
            ]
            rps = statistics.median(r.requests_per_second for r in runs)
            ratio = rps / bare_rps
            worst = ratio if worst is None else min(worst, ratio)
            print(f"{path}: {runs[-1]}; ratio to bare {ratio:.3f}")
            if any(r.non_2xx for r in runs):
                print(f"{path}: some answers were not 200")
                return 1
    print(f"worst ratio {worst:.3f} (target ≥ {TARGET})")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
