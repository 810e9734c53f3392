"""100 concurrent buyers for the last 10 units, through the order API, 100 times.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/reserve_contention.py

Each trial is a SKU with exactly 10 units on the shelf of S01; 100 threads, each
with its own connection, POST a pickup order for one unit at the same moment
(behind a barrier) to gunicorn. Every trial must give exactly 10 orders (201),
90 `insufficient_stock` (409), no 5xx (a deadlock would be one) and no oversell;
the ledger must reconcile at the end. It also prints orders per second for
uncontended orders (8 senders, plentiful stock).
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

SETUP = """
from decimal import Decimal
from inventory.models import StockLocation
from inventory.services import stock_bulk_receive
from retail.models import Category, Customer, Product, Store, Variant
store = Store.objects.get_or_create(code="S01", defaults=dict(name="Bench store", address_line1="1 Rue de Rivoli",
    city="Paris", postcode="75001", country="FR", latitude=48.86, longitude=2.34))[0]
for day in range(7):
    store.opening_hours.get_or_create(weekday=day, defaults={"opens": "00:00", "closes": "23:59"})
loc = StockLocation.objects.get_or_create(code="S01", defaults=dict(name="S01", kind="store", store=store,
    receives_transfers=True))[0]
cat = Category.objects.get_or_create(code="bench", defaults=dict(name="Bench", tax_rate=Decimal("20")))[0]
product = Product.objects.get_or_create(style_code="BENCH", defaults=dict(name="Bench", brand="B", category=cat))[0]
Customer.objects.get_or_create(customer_ref="WEB-BENCH", defaults={"name": "Bench Buyer"})
rows = []
for i in range(TRIALS):
    v = Variant.objects.get_or_create(sku=f"LAST-{i:03d}", defaults=dict(product=product, price=Decimal("10.00")))[0]
    rows.append((loc.pk, v.pk, 10, 0))
v = Variant.objects.get_or_create(sku="PLENTY", defaults=dict(product=product, price=Decimal("10.00")))[0]
rows.append((loc.pk, v.pk, 1000000, 0))
stock_bulk_receive(rows=rows, by=None, reason="bench")
print("ok")
"""


def order_body(ref: str, sku: str) -> bytes:
    return json.dumps(
        {
            "order_ref": ref,
            "channel": "web",
            "customer_ref": "WEB-BENCH",
            "lines": [{"sku": sku, "quantity": 1, "unit_price": "10.00"}],
            "fulfillment": {"method": "pickup", "store": "S01"},
            "payment": {"tender": "card", "amount": "10.00", "reference": ref},
        }
    ).encode()


def post(base: str, key: str, body: bytes) -> int:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.request(
            "POST",
            "/api/v1/orders/",
            body,
            {"Content-Type": "application/json", "Authorization": f"Token {key}"},
        )
        return conn.getresponse().status
    finally:
        conn.close()


def trial(base: str, key: str, index: int, buyers: int) -> Counter:
    barrier = threading.Barrier(buyers)
    statuses: list[int] = []
    lock = threading.Lock()

    def buyer(n: int):
        body = order_body(f"T{index:03d}-B{n:03d}", f"LAST-{index:03d}")
        barrier.wait()
        try:
            status = post(base, key, body)
        except OSError:
            status = -1
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(buyers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Counter(statuses)


def uncontended(base: str, key: str, seconds: float, senders: int = 8) -> tuple[int, float]:
    done = Counter()
    stop = time.monotonic() + seconds

    def sender(n: int):
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        i = 0
        while time.monotonic() < stop:
            conn.request(
                "POST",
                "/api/v1/orders/",
                order_body(f"U{n}-{i}", "PLENTY"),
                {"Content-Type": "application/json", "Authorization": f"Token {key}"},
            )
            response = conn.getresponse()
            response.read()
            done[response.status] += 1
            i += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[201], done[201] / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--buyers", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    server = harness.require_postgres("bench/reserve_contention.py")
    env = harness.environment(harness.fresh_database(server, "aisle_bench_contention"))
    harness.manage(env, "migrate", "--no-input")
    harness.django_shell(env, SETUP.replace("TRIALS", str(args.trials)))
    key = (
        harness.manage(
            env, "create_api_client", "bench", "--scopes", "orders:write", "--rate", "1000000/s"
        )
        .strip()
        .splitlines()[-1]
    )

    totals, bad_trials = Counter(), 0
    started = time.monotonic()
    with harness.gunicorn(env, workers=args.workers) as base:
        for index in range(args.trials):
            result = trial(base, key, index, args.buyers)
            totals.update(result)
            if result[201] != 10 or result[409] != args.buyers - 10:
                bad_trials += 1
                print(f"trial {index}: {dict(result)}")
        elapsed = time.monotonic() - started
        orders, rate = uncontended(base, key, 10)
    check = harness.django_shell(
        env,
        "from inventory.models import StockLevel; from orders.models import Order;"
        "from inventory.reconcile import ledger_drift;"
        "over = StockLevel.objects.filter(variant__sku__startswith='LAST-', reserved__gt=10).count();"
        "per = [Order.objects.filter(lines__sku=f'LAST-{i:03d}').count() for i in range("
        f"{args.trials})];"
        "print(over, sum(1 for n in per if n != 10), len(ledger_drift()))",
    ).split()
    oversold, wrong_counts, drift = (int(x) for x in check)
    five_xx = sum(n for status, n in totals.items() if status >= 500 or status < 0)
    print(
        f"{args.trials} trials × {args.buyers} buyers for the last 10 units ({elapsed:.0f} s): "
        f"{totals[201]} orders, {totals[409]} insufficient_stock, {five_xx} 5xx/errors, "
        f"{bad_trials} trials not exactly 10, oversold SKUs {oversold}, "
        f"SKUs with ≠10 orders {wrong_counts}, ledger drift {drift}"
    )
    print(
        f"uncontended: {orders} orders in 10 s, {rate:,.1f} orders/s (8 senders, {args.workers} workers)"
    )
    ok = not (bad_trials or five_xx or oversold or wrong_counts or drift)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
