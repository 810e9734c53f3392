"""Webhooks under load: orders placed through the API while a local receiver listens.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/webhooks.py --seconds 10

Gunicorn serves Aisle. By default Celery runs eagerly, as on the embedded
default: each delivery is POSTed right after the change commits, inside the API
request. With `--broker redis://127.0.0.1:6379/5` a Celery worker (2 processes)
sends them instead, as in a deployment. Senders place pickup orders through the API for
`--seconds`; a threading http.server on 127.0.0.1 receives the webhooks, checks
every signature and records when each arrived. It prints orders per second with
one webhook client and without any, the webhooks received per second, the
latency from the API request to its `order_placed` webhook (p50 and p95), and
checks that every order's webhooks came once each, in order, correctly signed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
v = Variant.objects.get_or_create(sku="PLENTY", defaults=dict(product=product, price=Decimal("10.00")))[0]
stock_bulk_receive(rows=[(loc.pk, v.pk, 10000000, 0)], by=None, reason="bench")
print("ok")
"""

HOOK = """
from retail.api_clients import api_client_create
client, key = api_client_create(name="hooked", scopes=["orders:write", "orders:read"],
    rate_limit="1000000/s", webhook_url="URL")
print(client.webhook_secret)
print(key)
"""


class Receiver:
    def __init__(self):
        self.secret = b""
        self.lock = threading.Lock()
        self.arrivals: list[tuple[float, dict, bool]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.monotonic()
                expected = "sha256=" + hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                valid = hmac.compare_digest(expected, self.headers.get("X-Aisle-Signature", ""))
                data = json.loads(body)
                data["_delivery"] = int(self.headers["X-Aisle-Delivery"])
                with receiver.lock:
                    receiver.arrivals.append((now, data, valid))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def body(ref: str) -> bytes:
    return json.dumps(
        {
            "order_ref": ref,
            "channel": "web",
            "customer_ref": "WEB-BENCH",
            "lines": [{"sku": "PLENTY", "quantity": 1, "unit_price": "10.00"}],
            "fulfillment": {"method": "pickup", "store": "S01"},
            "payment": {"tender": "card", "amount": "10.00", "reference": ref},
        }
    ).encode()


def place(base: str, key: str, prefix: str, seconds: float, senders: int):
    sent: dict[str, float] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    statuses: dict[int, int] = defaultdict(int)

    def sender(n: int):
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        i = 0
        while time.monotonic() < stop:
            ref = f"{prefix}{n}-{i}"
            started = time.monotonic()
            conn.request(
                "POST",
                "/api/v1/orders/",
                body(ref),
                {"Content-Type": "application/json", "Authorization": f"Token {key}"},
            )
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] += 1
                sent[ref] = started
            i += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent, dict(statuses), time.monotonic() - started


@contextlib.contextmanager
def celery_worker(env: dict, broker: str):
    """A Celery worker against the broker (nothing without one: eager mode)."""
    if not broker:
        yield
        return
    proc = subprocess.Popen(
        [
            str(harness.BIN / "celery"),
            "-A",
            "retail",
            "worker",
            "-c",
            "2",
            "-Q",
            "celery,webhooks",
            "-l",
            "warning",
        ],
        cwd=harness.ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        time.sleep(4)  # the worker connects and is ready
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--broker", default="", help="a Redis URL: a Celery worker sends")
    args = parser.parse_args()

    server = harness.require_postgres("bench/webhooks.py")
    extra = {"CELERY_BROKER_URL": args.broker} if args.broker else {}
    env = harness.environment(
        harness.fresh_database(server, "aisle_bench_fulfil_webhooks"), **extra
    )
    harness.manage(env, "migrate", "--no-input")
    harness.django_shell(env, SETUP)
    plain_key = (
        harness.manage(
            env, "create_api_client", "plain", "--scopes", "orders:write", "--rate", "1000000/s"
        )
        .strip()
        .splitlines()[-1]
    )
    with harness.gunicorn(env, workers=args.workers) as base:
        _sent, plain_statuses, plain_elapsed = place(
            base, plain_key, "P", args.seconds, args.senders
        )
    plain_rate = plain_statuses.get(201, 0) / plain_elapsed

    receiver = Receiver()
    secret, key = harness.django_shell(env, HOOK.replace("URL", receiver.url)).split()[-2:]
    receiver.secret = secret.encode()
    with celery_worker(env, args.broker), harness.gunicorn(env, workers=args.workers) as base:
        sent, statuses, elapsed = place(base, key, "H", args.seconds, args.senders)
        deadline = time.monotonic() + 60  # the last deliveries leave after their responses
        while len(receiver.arrivals) < 2 * statuses.get(201, 0) and time.monotonic() < deadline:
            time.sleep(0.2)
    rate = statuses.get(201, 0) / elapsed

    by_order: dict[str, list[dict]] = defaultdict(list)
    latencies = []
    for arrived, data, _valid in sorted(receiver.arrivals, key=lambda a: a[0]):
        by_order[data["order_ref"]].append(data)
        if data["event"] == "order_placed" and data["order_ref"] in sent:
            latencies.append((arrived - sent[data["order_ref"]]) * 1000)
    ours = [ref for ref in sent if ref.startswith("H")]
    bad_signatures = sum(1 for _a, _d, valid in receiver.arrivals if not valid)
    wrong = 0
    for ref in ours:
        got = by_order.get(ref, [])
        ids = [d["_delivery"] for d in got]
        if [d["event"] for d in got] != ["order_placed", "fulfillment_created"] or ids != sorted(
            ids
        ):
            wrong += 1
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan")
    mode = "a Celery worker sends" if args.broker else "Celery eager"
    print(
        f"[{mode}] without webhooks: {plain_rate:,.1f} orders/s ({args.senders} senders, "
        f"{args.workers} workers); with one webhook client: {rate:,.1f} orders/s"
    )
    print(
        f"{len(receiver.arrivals)} webhooks received for {len(ours)} orders "
        f"({len(receiver.arrivals) / elapsed:,.1f}/s); request → order_placed webhook "
        f"p50 {statistics.median(latencies) if latencies else float('nan'):.1f} ms, "
        f"p95 {p95:.1f} ms; orders not received once each in order: {wrong}; "
        f"bad signatures: {bad_signatures}; non-201 answers: "
        f"{sum(n for s, n in statuses.items() if s != 201)}"
    )
    receiver.server.shutdown()
    return 0 if not (wrong or bad_signatures) else 1


if __name__ == "__main__":
    sys.exit(main())
