"""The load of `--stores` stores' busy hour against a running Aisle, with Locust, for
`--seconds`; writes the figures per request type as JSON. Run by `bench/storeday/run.py`
(which prepares the data and the servers), not by hand.

**Open arrival.** Every stream of requests (a tablet polling, an associate opening
pages, the web shop's event batches…) fires on its own schedule, with a random phase:
each request is sent in a greenlet of its own when its time comes, whether or not the
earlier ones have been answered, so a slow server meets the same arrivals instead of
slowing the load down (a closed loop would hide exactly the queueing we look for).

**One store's busy hour** (issue #23, fixed there so the figure means something):
- 6 tablets: 2 keep the pickup queue open and poll it every 10 s, revalidating with
  the ETag they last got (as the browser does);
- the other 4 associates open a page every 30 s — customer page 25 %, search 20 %,
  product page 20 %, pickup and order pages 20 %, everything else 15 % (home, cart,
  the training path) — and scan every 20 s while picking (a pick scan on one of the
  store's pickups: once the units are all scanned, a scan is answered "already
  scanned", which costs the same lock and check);
- the kiosk opens a page a minute (its product search);
- the store's share of the online channel: a batch of 50 browsing events every 10 s,
  an availability call every 5 s, an identify every 30 s and an order every 2 minutes
  (a pickup at the store, through the API; its webhooks go to a local receiver
  through the Celery worker).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import time
import uuid

import gevent
from gevent import monkey

monkey.patch_all()

from locust import FastHttpUser, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

POLL_SECONDS = 10
PAGE_SECONDS = 30
SCAN_SECONDS = 20
KIOSK_SECONDS = 60
EVENTS_SECONDS = 10
AVAILABILITY_SECONDS = 5
IDENTIFY_SECONDS = 30
ORDER_SECONDS = 120
PAGE_MIX = (
    ("customer page", 25),
    ("search", 20),
    ("product page", 20),
    ("pickup or order page", 20),
    ("other page", 15),
)
CONFIG: dict = {}
NUMBERS = itertools.count()


def _cookie(session: str) -> dict:
    token = CONFIG["csrf"]
    return {"Cookie": f"sessionid={session}; csrftoken={token}", "X-CSRFToken": token}


class StoreDay(FastHttpUser):
    """One virtual store: its streams start together and run until the test stops."""

    host = ""
    concurrency = 20
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self):
        number = next(NUMBERS)
        stores = CONFIG["stores"]
        self.data = stores[number % len(stores)]  # beyond the demo's stores: round-robin
        self.rng = random.Random(number)
        self.etags: dict[int, str] = {}

    @task
    def day(self):
        streams = [(POLL_SECONDS, lambda tablet=t: self.poll(tablet)) for t in range(2)]
        streams += [(PAGE_SECONDS, self.page) for _ in range(4)]
        streams += [(SCAN_SECONDS, self.scan) for _ in range(4)]
        streams += [
            (KIOSK_SECONDS, self.kiosk),
            (EVENTS_SECONDS, self.events),
            (AVAILABILITY_SECONDS, self.availability),
            (IDENTIFY_SECONDS, self.identify),
            (ORDER_SECONDS, self.order),
        ]
        loops = [gevent.spawn(self.stream, period, fire) for period, fire in streams]
        gevent.joinall(loops)

    def stream(self, period: float, fire) -> None:
        at = time.monotonic() + self.rng.uniform(0, period)
        while True:
            delay = at - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            gevent.spawn(fire)  # open arrival: never waits for the answer
            at += period

    # --- The requests ----------------------------------------------------------------

    def get(self, path: str, name: str, session: str, **headers):
        return self.client.get(path, name=name, headers={**_cookie(session), **headers})

    def poll(self, tablet: int) -> None:
        headers = {"HX-Request": "true", "X-Aisle-Poll": "1"}
        if tablet in self.etags:
            headers["If-None-Match"] = self.etags[tablet]
        with self.client.get(
            "/store/pickups/",
            name="pickup poll",
            headers={**_cookie(self.data["associate"]), **headers},
            catch_response=True,
        ) as response:
            if response.status_code in (200, 304):
                if response.headers.get("ETag"):
                    self.etags[tablet] = response.headers["ETag"]
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")

    def page(self) -> None:
        kind = self.rng.choices([k for k, _w in PAGE_MIX], [w for _k, w in PAGE_MIX])[0]
        data, session = self.data, self.data["associate"]
        if kind == "customer page":
            self.get(f"/store/customers/{self.rng.choice(data['customers'])}/", kind, session)
        elif kind == "search":
            query = self.rng.choice(CONFIG["queries"])
            self.get(f"/store/aisle/?q={query}", kind, session)
        elif kind == "product page":
            self.get(f"/store/aisle/{self.rng.choice(CONFIG['styles'])}/", kind, session)
        elif kind == "pickup or order page":
            self.get(f"/store/pickups/{self.rng.choice(data['pickups'])}/", kind, session)
        else:
            path = self.rng.choice(("/store/", "/store/cart/", "/store/training/"))
            self.get(path, kind, session)

    def scan(self) -> None:
        pickup, barcode = self.rng.choice(self.data["scans"])
        self.client.post(
            f"/store/pickups/{pickup}/scan/",
            data=f"code={barcode}",
            name="pick scan",
            headers={
                **_cookie(self.data["associate"]),
                "HX-Request": "true",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )

    def kiosk(self) -> None:
        query = self.rng.choice(CONFIG["queries"])
        self.get(f"/kiosk/aisle/?q={query}", "kiosk page", self.data["kiosk"])

    def api(self, method: str, path: str, name: str, body=None):
        headers = {"Authorization": f"Token {CONFIG['key']}"}
        if body is None:
            return self.client.request(method, path, name=name, headers=headers)
        headers["Content-Type"] = "application/json"
        return self.client.request(method, path, name=name, headers=headers, data=json.dumps(body))

    def events(self) -> None:
        now = time.time()
        batch = []
        for _ in range(50):
            event = {
                "event_id": str(uuid.uuid4()),
                "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now)),
                "kind": "product_view",
                "channel": "web",
                "sku": self.rng.choice(CONFIG["skus"]),
            }
            if self.rng.random() < 0.5:
                event["customer_ref"] = self.rng.choice(CONFIG["customer_refs"])
            else:
                event["anonymous_id"] = f"anon-{self.rng.randint(1, 100_000)}"
            batch.append(event)
        self.api("POST", "/api/v1/events/", "api events (50)", {"events": batch})

    def availability(self) -> None:
        skus = "&".join(f"sku={s}" for s in self.rng.sample(CONFIG["skus"], 3))
        self.api(
            "GET", f"/api/v1/availability/?{skus}&store={self.data['code']}", "api availability"
        )

    def identify(self) -> None:
        body = {
            "anonymous_id": f"anon-{self.rng.randint(1, 100_000)}",
            "customer_ref": self.rng.choice(CONFIG["customer_refs"]),
        }
        self.api("POST", "/api/v1/identify/", "api identify", body)

    def order(self) -> None:
        sku, price = self.rng.choice(self.data["stocked"])
        body = {
            "order_ref": f"DAY-{uuid.uuid4().hex[:20]}",
            "channel": "web",
            "customer_ref": self.rng.choice(CONFIG["customer_refs"]),
            "lines": [{"sku": sku, "quantity": 1, "unit_price": price}],
            "fulfillment": {"method": "pickup", "store": self.data["code"]},
            "payment": {"tender": "card", "amount": price, "reference": "bench"},
        }
        self.api("POST", "/api/v1/orders/", "api order", body)


def run(stores: int, seconds: float, base: str, warmup: float) -> dict:
    env = Environment(user_classes=[StoreDay], host=base, events=events)
    runner = env.create_local_runner()
    runner.start(stores, spawn_rate=max(1.0, stores / 5))
    gevent.sleep(warmup)
    env.stats.reset_all()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.monotonic()
    gevent.sleep(seconds)
    wall = time.monotonic() - wall_before
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    types = {}
    for (name, method), entry in env.stats.entries.items():
        types[name] = {
            "method": method,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "total_ms": entry.total_response_time,
        }
    errors = [
        {"name": e.name, "error": str(e.error)[:200], "count": e.occurrences}
        for e in env.stats.errors.values()
    ]
    runner.quit()
    used = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return {
        "stores": stores,
        "seconds": wall,
        "types": types,
        "errors": errors,
        "generator_cpu_seconds": used,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True, help="JSON written by run.py")
    parser.add_argument("--stores", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        CONFIG.update(json.load(f))
    result = run(args.stores, args.seconds, CONFIG["base"], args.warmup)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
