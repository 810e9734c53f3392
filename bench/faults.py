"""The fault drill: Aisle on its own PostgreSQL, Redis and Celery, with parts stopped,
lost, killed and slowed under a stream of API orders.

    .venv/bin/python bench/faults.py                      # every fault, about 10 minutes
    .venv/bin/python bench/faults.py --only cache,postgres
    .venv/bin/python bench/faults.py --keep               # keep the temp dir (logs, data)

It never touches the machine's shared servers. It starts, in a temporary directory,
its own PostgreSQL cluster (`initdb`, run as the `postgres` OS user when started as
root, on a free private port), two Redis servers (the cache and the broker, so that
each can be stopped alone), gunicorn serving Aisle with DEBUG off, the Celery workers
(two when the code routes webhooks to their own queue — `AISLE_WEBHOOK_QUEUE` in
retail/settings.py —: `-Q celery -c 2` and `-Q webhooks -c 4`; else one `-c 4`), Celery
beat, and threading HTTP receivers for the webhooks of each API client. E-mail goes to
Django's file backend in the temp dir; the message log's `sent_at` times it.

It then plays the faults of issue 14, one after the other, and prints one figure line
per fault with its target and PASS or FAIL:

- cache: the cache Redis is stopped while orders and GETs flow, then started again:
  requests answered, HTML answers, 5xx answers;
- broker: the broker Redis is stopped for 25 s while orders are placed (10 a second,
  `--broker-rate`; 0 places them as fast as three clients can, a backlog that measures
  the workers' throughput more than the recovery): order latency p50/p95, and seconds
  until every side effect of those orders is done (outbox entries done, webhooks
  delivered) after the broker is back;
- queue: the workers are stopped, orders queue their tasks, the broker loses them
  (FLUSHALL), the workers start again: seconds from the loss until everything is done;
- kill: `kill -9` of the webhook worker's pool processes while they send (the worker
  replaces them): deliveries the receivers saw twice (the same `X-Aisle-Delivery`);
- postgres: `pg_ctl restart -m fast` while orders flow: API answers that are not JSON,
  and orders answered with an error that exist afterwards;
- slow: a third client whose receiver answers in 5 s, with 50 deliveries waiting for
  it (two orders sourced from 24 stores each), while orders flow and pickups are
  marked ready: the other clients' webhook delay p95, the ready-for-pickup e-mail
  delay p95, the slow client's deliveries recorded per minute, and loops (a delivery
  sent again without its attempt being recorded, or a task rolled back by the time
  limit).

Everything it started is stopped on exit (also on Ctrl-C and on errors) and the temp
dir is removed unless `--keep`. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

FAULTS = ("cache", "broker", "queue", "kill", "postgres", "slow")
SPLIT_STORES = 24  # the stores a "split" order is sourced from, one fulfilment each
DELIVERY_TABLES = ("retail_webhookdelivery", "orders_webhookdelivery")
STOP = threading.Event()  # set on exit: load threads stop at once

SETUP = """
from decimal import Decimal
from inventory.models import StockLocation
from inventory.services import stock_bulk_receive
from retail.models import Category, Customer, Product, Store, Variant
cat = Category.objects.get_or_create(code="drill", defaults=dict(name="Drill", tax_rate=Decimal("20")))[0]
product = Product.objects.get_or_create(style_code="DRILL", defaults=dict(name="Drill", brand="B", category=cat))[0]
rows = []
for i in range(N_SPLIT + 1):
    code = f"S{i + 1:02d}"
    store = Store.objects.get_or_create(code=code, defaults=dict(name=f"Drill store {i + 1}",
        address_line1="1 Rue de Rivoli", city="Paris", postcode="75001", country="FR",
        latitude=Decimal("48.86") + Decimal(i) / 100, longitude=Decimal("2.34")))[0]
    for day in range(7):
        store.opening_hours.get_or_create(weekday=day, defaults={"opens": "00:00", "closes": "23:59"})
    loc = StockLocation.objects.get_or_create(code=code, defaults=dict(name=code, kind="store",
        store=store, receives_transfers=True))[0]
    sku = "PLENTY" if i == 0 else f"SPLIT-{i}"
    v = Variant.objects.get_or_create(sku=sku, defaults=dict(product=product, price=Decimal("10.00")))[0]
    rows.append((loc.pk, v.pk, 10000000, 0))
Customer.objects.get_or_create(customer_ref="WEB-DRILL",
    defaults={"name": "Drill Buyer", "email": "buyer@example.com"})
stock_bulk_receive(rows=rows, by=None, reason="fault drill")
print("ok")
"""

# Marks the pickups of the slow fault's orders ready as they come (the tablet's
# "ready" after picking), which sends the customer the ready-for-pickup e-mail.
READY_LOOP = """
import time
from orders.models import Fulfillment
from orders.pickup.picking import pick_remaining, pickup_mark_ready
from retail.models import Store
store = Store.objects.get(code="S01")
stop = time.time() + SECONDS
seen = set()
while time.time() < stop:
    waiting = (Fulfillment.objects.filter(order__order_ref__startswith="PREFIX", method="pickup")
        .exclude(state__in=["ready", "cancelled", "collected", "expired"]).exclude(pk__in=seen))
    for f in waiting:
        seen.add(f.pk)
        try:
            pick_remaining(fulfillment=f, store=store)
            pickup_mark_ready(fulfillment=Fulfillment.objects.get(pk=f.pk), by=None, store=store)
        except Exception as exc:
            print("could not mark", f.pk, "ready:", type(exc).__name__, exc, flush=True)
    time.sleep(0.5)
"""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values, q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- Processes ------------------------------------------------------------------------


class Proc:
    """A child in its own session (Ctrl-C reaches the drill, which stops it in order),
    its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path):
        self.name, self.args, self.env, self.log = name, args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as output:
            self.proc = subprocess.Popen(
                self.args,
                cwd=harness.ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                self.proc.wait()
        # Whatever of its group is left (pool children of a killed parent).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc = None


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


class Redis:
    """A private redis-server without persistence; stop() and start() on the same port."""

    def __init__(self, name: str, tmp: Path):
        self.name = name
        self.port = harness.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        args = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(tmp),
        ]
        self.proc = Proc(name, args, dict(os.environ), tmp / f"{name}.log")

    def start(self) -> None:
        self.proc.start()
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError):
                if self.command("PING") == "PONG":
                    return
            if time.monotonic() > deadline or not self.proc.alive():
                raise RuntimeError(f"redis ({self.name}) did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.stop()

    def command(self, *parts: str) -> str:
        """One command; its reply's first line without the type byte."""
        request = f"*{len(parts)}\r\n" + "".join(f"${len(p)}\r\n{p}\r\n" for p in parts)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(request.encode())
            reply = sock.makefile("rb").readline().decode().strip()
        return reply[1:]


class Postgres:
    """A private cluster in the temp dir, run as the `postgres` OS user when root."""

    def __init__(self, tmp: Path):
        versions = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/initdb"),
            key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        )
        if not versions:
            sys.exit("bench/faults.py needs the PostgreSQL server binaries (/usr/lib/postgresql)")
        self.bin = versions[-1].parent
        self.dir = tmp / "pg"
        self.dir.mkdir()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.data = self.dir / "data"
        self.port = harness.free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self.started = False

    def run(self, program: str, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            start_new_session=True,
            cwd=self.dir,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            )

    def init(self) -> None:
        self.run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        self.started = True
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "postgres.log"),
            "-o", self.options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def restart(self) -> None:
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "postgres.log"),
            "-o", self.options, "-m", "fast", "-w", "-t", "60", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        if not self.started:
            return
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
        self.started = False


# --- Webhook receivers ------------------------------------------------------------------


@dataclass
class Hit:
    at: float  # wall clock when the request arrived
    delivery: str
    event: str
    order_ref: str


class Receiver:
    """A local webhook receiver; `delay` seconds before each answer (204)."""

    def __init__(self, name: str):
        self.name = name
        self.delay = 0.0
        self.lock = threading.Lock()
        self.hits: list[Hit] = []
        self.inflight = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                arrived = time.time()
                with receiver.lock:
                    receiver.inflight += 1
                try:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    try:
                        data = json.loads(body)
                    except ValueError:
                        data = {}
                    with receiver.lock:
                        receiver.hits.append(
                            Hit(
                                arrived,
                                self.headers.get("X-Aisle-Delivery", ""),
                                str(data.get("event", "")),
                                str(data.get("order_ref", "")),
                            )
                        )
                    if receiver.delay:
                        time.sleep(receiver.delay)
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting
                finally:
                    with receiver.lock:
                        receiver.inflight -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- The API ------------------------------------------------------------------------------


@dataclass
class Answer:
    started: float
    seconds: float
    status: int | None  # None: no answer (refused, reset, timed out)
    content_type: str = ""
    error: str = ""

    @property
    def ended(self) -> float:
        return self.started + self.seconds

    @property
    def html(self) -> bool:
        return "html" in self.content_type

    @property
    def json(self) -> bool:
        return "json" in self.content_type


@dataclass
class Call:
    kind: str  # "order", "get", "availability"
    ref: str
    answer: Answer


def order_body(ref: str, split: int = 0) -> dict:
    skus = [f"SPLIT-{i}" for i in range(1, split + 1)] if split else ["PLENTY"]
    return {
        "order_ref": ref,
        "channel": "web",
        "customer_ref": "WEB-DRILL",
        "lines": [{"sku": sku, "quantity": 1, "unit_price": "10.00"} for sku in skus],
        "fulfillment": {"method": "pickup", "store": "S01"},
        "payment": {"tender": "card", "amount": f"{10 * len(skus)}.00", "reference": ref},
    }


# --- The drill -----------------------------------------------------------------------------


@dataclass
class Figure:
    fault: str
    line: str
    target: str
    ok: bool


@dataclass
class Drill:
    tmp: Path
    patience: float
    stack: contextlib.ExitStack
    figures: list[Figure] = field(default_factory=list)
    workers: dict[str, Proc] = field(default_factory=dict)
    exits: list[str] = field(default_factory=list)  # processes that exited by themselves
    exits_before: int = 0  # how many had exited when the current fault began
    broker_rate: float = 10.0  # orders per second while the broker is down (0: unpaced)

    # --- setting up ---

    def up(self) -> None:
        say(f"temp dir {self.tmp}")
        self.pg = Postgres(self.tmp)
        self.cache = Redis("redis-cache", self.tmp)
        self.broker = Redis("redis-broker", self.tmp)
        self.stack.callback(self.pg.stop)
        self.stack.callback(self.cache.stop)
        self.stack.callback(self.broker.stop)
        self.pg.init()
        self.pg.start()
        self.cache.start()
        self.broker.start()
        say(
            f"PostgreSQL on :{self.pg.port}, cache Redis :{self.cache.port}, broker Redis :{self.broker.port}"
        )
        db_url = harness.fresh_database(self.pg.url, "aisle_faults")
        self.db_url = db_url
        (self.tmp / "mail").mkdir()
        (self.tmp / "media").mkdir()
        self.env = harness.environment(
            db_url,
            CACHE_URL=self.cache.url,
            CELERY_BROKER_URL=self.broker.url,
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.tmp / "mail"),
            MEDIA_ROOT=str(self.tmp / "media"),
        )
        say("migrate and seed …")
        harness.manage(self.env, "migrate", "--no-input", "-v", "0")
        harness.django_shell(self.env, SETUP.replace("N_SPLIT", str(SPLIT_STORES)))
        self.receivers = {"drill": Receiver("drill"), "partner": Receiver("partner")}
        for receiver in self.receivers.values():
            self.stack.callback(receiver.close)
        self.key = self.client("drill", "orders:write", "orders:read", "availability:read")
        self.client("partner", "orders:read")
        self.split_queue = (
            "AISLE_WEBHOOK_QUEUE" in (harness.ROOT / "retail/settings.py").read_text()
        )
        self.stack.callback(self.stop_workers)
        self.start_workers()
        self.beat = Proc(
            "beat",
            [
                str(harness.BIN / "celery"), "-A", "retail", "beat", "-l", "warning",
                "-s", str(self.tmp / "beat-schedule"), "--pidfile", str(self.tmp / "beat.pid"),
            ],
            self.env,
            self.tmp / "beat.log",
        )  # fmt: skip
        self.stack.callback(self.beat.stop)
        self.beat.start()
        base = self.stack.enter_context(
            harness.gunicorn(self.env, workers=4, log=self.tmp / "gunicorn.log")
        )
        self.port = int(base.rsplit(":", 1)[1])
        self.delivery_table, self.delivery_columns = self.find_delivery_table()
        say(
            f"gunicorn {base}, workers: "
            + ", ".join(f"{name} ({' '.join(w.args[4:8])})" for name, w in self.workers.items())
            + f"; deliveries in {self.delivery_table or '(no table found)'}"
        )

    def client(self, name: str, *scopes: str, receiver: Receiver | None = None) -> str:
        url = (receiver or self.receivers[name]).url
        out = harness.manage(
            self.env, "create_api_client", name, "--scopes", *scopes, "--rate", "1000000/s",
            "--webhook-url", url,
        )  # fmt: skip
        return out.strip().splitlines()[-1]

    def start_workers(self) -> None:
        celery = str(harness.BIN / "celery")
        if self.split_queue:
            plan = {
                "default": ["-Q", "celery", "-c", "2", "-n", "default@%h"],
                "webhooks": ["-Q", "webhooks", "-c", "4", "-n", "webhooks@%h"],
            }
        else:
            plan = {"webhooks": ["-c", "4", "-n", "all@%h"]}
        for name, args in plan.items():
            worker = Proc(
                f"worker-{name}",
                [celery, "-A", "retail", "worker", *args, "-l", "info"],
                self.env,
                self.tmp / f"worker-{name}.log",
            )
            start = worker.log.stat().st_size if worker.log.exists() else 0
            worker.start()
            self.workers[name] = worker
            deadline = time.monotonic() + 60
            while " ready." not in worker.log.read_text(errors="replace")[start:]:
                if time.monotonic() > deadline or not worker.alive():
                    raise RuntimeError(f"the Celery worker {name} did not start; see {worker.log}")
                time.sleep(0.3)

    def stop_workers(self) -> None:
        for worker in self.workers.values():
            worker.stop(timeout=30)
        self.workers = {}

    def revive(self) -> None:
        """What a process supervisor (systemd's Restart=always) does: a Celery worker
        or beat that exited is started again at once. Each exit is counted and shown
        beside the fault's figure."""
        for proc in [*self.workers.values(), self.beat]:
            if proc.proc is not None and not proc.alive():
                say(f"{proc.name} had exited (see {proc.log.name}): starting it again")
                self.exits.append(proc.name)
                proc.stop()
                proc.start()

    # --- the database, read directly ---

    def sql(self, query: str, params=()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def find_delivery_table(self) -> tuple[str, set[str]]:
        rows = self.sql(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_name = ANY(%s)",
            [list(DELIVERY_TABLES)],
        )
        for table in DELIVERY_TABLES:
            columns = {c for t, c in rows if t == table}
            if columns:
                return table, columns
        return "", set()

    def client_ids(self, *names: str) -> list[int]:
        return [
            r[0]
            for r in self.sql("SELECT id FROM retail_apiclient WHERE name = ANY(%s)", [list(names)])
        ]

    def unfinished(self, since: float) -> int:
        """Side effects recorded since `since` (wall clock) and not done yet: outbox
        entries not done, and deliveries to the drill's two clients not delivered."""
        left = self.sql(
            "SELECT count(*) FROM retail_outboxentry WHERE created_at >= to_timestamp(%s) "
            "AND state NOT IN ('done', 'failed')",
            [since],
        )[0][0]
        cols = self.delivery_columns
        if {"state", "created_at", "client_id"} <= cols:
            left += self.sql(
                f"SELECT count(*) FROM {self.delivery_table} WHERE created_at >= to_timestamp(%s) "
                "AND state NOT IN ('delivered', 'failed', 'dropped', 'cancelled') "
                "AND client_id = ANY(%s)",
                [since, self.client_ids("drill", "partner")],
            )[0][0]
        return left

    def wait_done(self, since: float, origin: float, patience: float) -> float | None:
        """Seconds from `origin` until nothing recorded since `since` is left to do;
        None when it took longer than `patience`."""
        while True:
            self.revive()
            with contextlib.suppress(Exception):
                if self.unfinished(since) == 0:
                    return time.time() - origin
            if time.time() - origin > patience:
                return None
            time.sleep(0.5)

    # --- the API ---

    def request(self, method: str, path: str, payload: dict | None = None) -> Answer:
        started = time.time()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=90)
        try:
            body = json.dumps(payload).encode() if payload is not None else None
            headers = {"Authorization": f"Token {self.key}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            response.read()
            return Answer(
                started,
                time.time() - started,
                response.status,
                response.getheader("Content-Type", ""),
            )
        except (OSError, http.client.HTTPException) as exc:
            return Answer(started, time.time() - started, None, error=type(exc).__name__)
        finally:
            conn.close()

    def order(self, ref: str, split: int = 0) -> Call:
        return Call("order", ref, self.request("POST", "/api/v1/orders/", order_body(ref, split)))

    def load(self, threads: int, seconds: float, step, rounds: int | None = None) -> list[Call]:
        """`threads` threads call step(thread, i) (a list of Calls) until `seconds` pass
        (or `rounds` times each); join_load() waits for them."""
        calls: list[Call] = []
        lock = threading.Lock()
        deadline = time.time() + seconds

        def run(n: int) -> None:
            i = 0
            while not STOP.is_set() and (
                i < rounds if rounds is not None else time.time() < deadline
            ):
                done = step(n, i)
                with lock:
                    calls.extend(done)
                i += 1

        workers = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(threads)]
        for t in workers:
            t.start()
        self._load_threads = workers
        return calls

    def join_load(self) -> None:
        for t in getattr(self, "_load_threads", []):
            t.join()

    def record(self, fault: str, line: str, target: str, ok: bool) -> None:
        exited = Counter(self.exits[self.exits_before :])
        if exited:
            line += " — exited and restarted: " + ", ".join(
                f"{name} ×{n}" for name, n in sorted(exited.items())
            )
        figure = Figure(fault, line, target, ok)
        self.figures.append(figure)
        print(f"  {fault}: {line}  [target: {target}] {'PASS' if ok else 'FAIL'}", flush=True)

    # --- the faults ---

    def fault_cache(self) -> None:
        say("cache: orders and GETs flow; the cache Redis stops for 12 s, then starts again")
        t0 = time.time()

        def step(n, i):
            ref = f"CACHE-{n}-{i}"
            return [
                self.order(ref),
                Call("get", ref, self.request("GET", f"/api/v1/orders/{ref}/")),
                Call(
                    "availability",
                    ref,
                    self.request("GET", "/api/v1/availability/?sku=PLENTY&store=S01"),
                ),
            ]

        calls = self.load(3, 24, step)
        time.sleep(max(0, t0 + 5 - time.time()))
        down = time.time()
        self.cache.stop()
        time.sleep(12)
        self.cache.start()
        up = time.time()
        self.join_load()
        during = [c.answer for c in calls if down <= c.answer.started < up]
        after = [c.answer for c in calls if c.answer.started >= up]
        answered = [a for a in during if a.status is not None]
        html = sum(a.html for a in during + after)
        errors = sum(1 for a in during + after if a.status is not None and a.status >= 500)
        after_5xx = sum(1 for a in after if a.status is not None and a.status >= 500)
        statuses = Counter(a.status for a in during)
        self.record(
            "cache down",
            f"{len(answered)}/{len(during)} requests answered while it was down "
            f"({', '.join(f'{s}: {n}' for s, n in sorted(statuses.items(), key=str))}); "
            f"HTML {html}, 5xx {errors} (of them after it came back: {after_5xx})",
            "0 HTML, 0 5xx",
            html == 0 and errors == 0 and len(answered) == len(during) > 0,
        )

    def fault_broker(self) -> None:
        rate = self.broker_rate
        say(
            "broker: the broker Redis stops; orders are placed for 25 s "
            + (f"at {rate:g}/s" if rate else "as fast as 3 clients can")
            + "; then it starts again"
        )
        t0 = time.time()
        self.broker.stop()
        started = time.time()

        def paced_order(n: int, i: int) -> list[Call]:
            if rate:  # each of the 3 clients places its share at an even pace
                wait = started + (i * 3 + n) / rate - time.time()
                if wait > 0:
                    time.sleep(wait)
            return [self.order(f"BROKER-{n}-{i}")]

        calls = self.load(3, 25, paced_order)
        self.join_load()
        placed = [c.answer for c in calls if c.answer.status in (200, 201)]
        self.broker.start()
        back = time.time()
        done = self.wait_done(t0, back, self.patience)
        latencies = [a.seconds for a in placed]
        p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
        answered = {c.ref: c.answer.ended for c in calls if c.answer.status in (200, 201)}
        pace = f"{len(placed) / 25:.0f}/s"
        last: dict[str, float] = {}
        received = 0
        first = float("inf")
        for receiver in self.receivers.values():
            for h in receiver.snapshot():
                if h.order_ref in answered:
                    received += 1
                    first = min(first, h.at)
                    last[h.order_ref] = max(last.get(h.order_ref, 0.0), h.at)
        after_answer = max((at - answered[ref] for ref, at in last.items()), default=float("nan"))
        self.record(
            "broker down",
            f"{len(placed)}/{len(calls)} orders placed ({pace} for 25 s), latency p50 {p50:.2f} s,"
            f" p95 {p95:.2f} s; "
            + (
                f"every side effect done {done:.0f} s after the broker came back"
                if done is not None
                else f"side effects not all done {self.patience:.0f} s after the broker came back"
            )
            + f" ({received} webhooks, the first {first - back:.0f} s after it came back, the"
            f" last {after_answer:.0f} s after its order's answer)",
            "p50 < 0.3 s, side effects within 60 s of its return",
            bool(placed) and p50 < 0.3 and done is not None and done <= 60,
        )

    def fault_queue(self) -> None:
        say(
            "queue: the workers stop; 12 orders queue their tasks; the broker loses them (FLUSHALL)"
        )
        self.stop_workers()
        t0 = time.time()
        calls = self.load(3, 0, lambda n, i: [self.order(f"QUEUE-{n}-{i}")], rounds=4)
        self.join_load()
        placed = sum(1 for c in calls if c.answer.status in (200, 201))
        time.sleep(1)
        keys = self.broker.command("DBSIZE")
        self.broker.command("FLUSHALL")
        lost = time.time()
        self.start_workers()
        done = self.wait_done(t0, lost, self.patience)
        self.record(
            "queue lost",
            f"{placed} orders' tasks lost ({keys} broker keys flushed); "
            + (
                f"everything done {done:.0f} s after the loss"
                if done is not None
                else f"not all done {self.patience:.0f} s after the loss"
            ),
            "done within 120 s",
            done is not None and done <= 120,
        )

    def fault_kill(self) -> None:
        worker = self.workers["webhooks"]
        say(
            "kill: receivers answer in 0.3 s; orders from 6 stores each; kill -9 of the webhook worker's pool"
        )
        for receiver in self.receivers.values():
            receiver.delay = 0.3
        t0 = time.time()
        calls = self.load(3, 14, lambda n, i: [self.order(f"KILL-{n}-{i}", split=6)])
        time.sleep(6)
        deadline = time.time() + 6
        while sum(r.inflight for r in self.receivers.values()) == 0 and time.time() < deadline:
            time.sleep(0.05)
        inflight = sum(r.inflight for r in self.receivers.values())
        pool = children(worker.proc.pid)
        for pid in pool:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
        self.join_load()
        for receiver in self.receivers.values():
            receiver.delay = 0.0
        done = self.wait_done(t0, killed_at, self.patience)
        duplicates = 0
        for receiver in self.receivers.values():
            hits = receiver.snapshot()
            before = {h.delivery for h in hits if h.at < t0}
            counts = Counter(h.delivery for h in hits if h.at >= t0 and h.delivery not in before)
            duplicates += sum(n - 1 for n in counts.values() if n > 1)
        placed = sum(1 for c in calls if c.answer.status in (200, 201))
        self.record(
            "worker killed",
            f"{len(pool)} pool processes killed ({inflight} deliveries in flight), {placed}/{len(calls)} orders placed: "
            f"{duplicates} duplicate deliveries; "
            + (
                f"all delivered {done:.0f} s after the kill"
                if done is not None
                else "not all delivered"
            ),
            "at most one duplicate per killed process",
            duplicates <= len(pool) and len(pool) > 0,
        )

    def fault_postgres(self) -> None:
        say("postgres: orders and GETs flow; pg_ctl restart -m fast")
        t0 = time.time()

        def step(n, i):
            ref = f"PG-{n}-{i}"
            return [
                self.order(ref),
                Call("get", ref, self.request("GET", f"/api/v1/orders/{ref}/")),
            ]

        calls = self.load(4, 14, step)
        time.sleep(max(0, t0 + 4 - time.time()))
        started = time.time()
        self.pg.restart()
        restart = time.time() - started
        self.join_load()
        time.sleep(1)
        answered = [c for c in calls if c.answer.status is not None]
        non_json = [c for c in answered if not c.answer.json]
        no_answer = len(calls) - len(answered)
        errored = [c.ref for c in answered if c.kind == "order" and c.answer.status >= 300]
        exists = {
            r[0]
            for r in self.sql(
                "SELECT order_ref FROM orders_order WHERE order_ref = ANY(%s)", [errored]
            )
        }
        committed_errored = [ref for ref in errored if ref in exists]
        statuses = Counter(c.answer.status for c in answered if c.answer.status >= 300)
        self.record(
            "PostgreSQL restart",
            f"{len(calls)} requests (restart took {restart:.1f} s): "
            f"{len(non_json)} non-JSON answers, {no_answer} without an answer, errors "
            f"{dict(statuses) or 'none'}; {len(committed_errored)} committed orders answered "
            "with an error",
            "0 non-JSON, 0 committed orders answered with an error",
            not non_json and not committed_errored and no_answer == 0,
        )

    def fault_slow(self, seconds: float) -> None:
        say(
            "slow: a third client's receiver answers in 5 s, 50 deliveries waiting for it; "
            f"orders flow and pickups are marked ready; watched for {seconds:.0f} s"
        )
        slow = Receiver("slow")
        self.stack.callback(slow.close)
        slow.delay = 5.0
        self.client("slow", "orders:read", receiver=slow)
        slow_id = self.client_ids("slow")[0]
        t0 = time.time()
        backlog = [self.order(f"BACKLOG-{i}", split=SPLIT_STORES) for i in range(2)]
        stream_seconds = max(30.0, seconds - 60)
        marker = Proc(
            "ready-marker",
            [
                str(harness.BIN / "python"), "manage.py", "shell", "--no-imports", "-c",
                READY_LOOP.replace("SECONDS", str(stream_seconds + 10)).replace("PREFIX", "SLOW-"),
            ],
            self.env,
            self.tmp / "ready-marker.log",
        )  # fmt: skip
        self.stack.callback(marker.stop)
        marker.start()

        def step(n, i):
            started = time.time()
            call = self.order(f"SLOW-{i}")
            time.sleep(max(0, started + 3 - time.time()))
            return [call]

        calls = self.load(1, stream_seconds, step)
        end = t0 + seconds
        while time.time() < end and not STOP.is_set():
            self.revive()
            time.sleep(1)
        end = time.time()
        self.join_load()
        marker.stop()

        # The other clients: each stream order's order_placed and fulfillment_created,
        # from the order's answer to its arrival (not arrived: counted as waiting until now).
        answered = {c.ref: c.answer.ended for c in calls if c.answer.status in (200, 201)}
        delays = []
        for receiver in self.receivers.values():
            first: dict[tuple[str, str], float] = {}
            for h in receiver.snapshot():
                first.setdefault((h.order_ref, h.event), h.at)
            for ref, at in answered.items():
                for event in ("order_placed", "fulfillment_created"):
                    delays.append(first.get((ref, event), end) - at)
        other_p95 = percentile(delays, 0.95)

        rows = self.sql(
            "SELECT extract(epoch FROM f.ready_at), extract(epoch FROM m.sent_at) "
            "FROM orders_fulfillment f JOIN orders_order o ON o.id = f.order_id "
            "LEFT JOIN retail_outboundmessage m ON m.key = 'pickup_ready:' || f.id "
            "WHERE o.order_ref LIKE 'SLOW-%%' AND f.ready_at IS NOT NULL"
        )
        mail_delays = [
            float(sent if sent is not None else end) - float(ready) for ready, sent in rows
        ]
        mail_p95 = percentile(mail_delays, 0.95)
        unsent = sum(1 for _r, sent in rows if sent is None)

        minutes = (end - t0) / 60
        hits = slow.snapshot()
        cols = self.delivery_columns
        if {"client_id", "delivered_at"} <= cols:
            delivered = self.sql(
                f"SELECT count(*) FROM {self.delivery_table} WHERE client_id = %s "
                "AND delivered_at >= to_timestamp(%s)",
                [slow_id, t0],
            )[0][0]
            progress = f"{delivered / minutes:.1f} deliveries recorded per minute"
        else:
            delivered = len({h.delivery for h in hits})
            progress = f"{delivered / minutes:.1f} deliveries received per minute"

        # Loops: a delivery the slow receiver got at least twice more than its recorded
        # attempts (one may be in flight), and tasks rolled back by the time limit.
        unrecorded = 0
        if {"id", "client_id", "attempts"} <= cols:
            attempts = dict(
                self.sql(
                    f"SELECT id::text, attempts FROM {self.delivery_table} WHERE client_id = %s",
                    [slow_id],
                )
            )
            received = Counter(h.delivery for h in hits)
            unrecorded = sum(1 for d, n in received.items() if n >= attempts.get(d, 0) + 2)
        rolled_back = self.sql(
            "SELECT count(*) FROM retail_outboxentry WHERE created_at >= to_timestamp(%s) "
            "AND last_error ILIKE '%%TimeLimit%%'",
            [t0],
        )[0][0]
        loops = unrecorded + rolled_back
        backlog_ok = sum(1 for c in backlog if c.answer.status in (200, 201))
        self.record(
            "slow receiver",
            f"{backlog_ok} backlog orders, {len(answered)} orders in {stream_seconds:.0f} s: "
            f"other clients' webhooks p95 {other_p95:.1f} s; ready e-mails p95 {mail_p95:.1f} s "
            f"({len(rows)} ready, {unsent} not sent); slow client {progress} "
            f"({len(hits)} requests received); loops detected {loops} "
            f"({unrecorded} deliveries resent unrecorded, {rolled_back} tasks hit the time limit)",
            "other clients and e-mails p95 < 10 s, slow client progressing, 0 loops",
            other_p95 < 10 and mail_p95 < 10 and delivered > 0 and loops == 0 and bool(rows),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--only", default=",".join(FAULTS), help=f"comma-separated: {','.join(FAULTS)}"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data)")
    parser.add_argument(
        "--patience", type=float, default=150, help="seconds to wait for side effects (default 150)"
    )
    parser.add_argument(
        "--broker-rate",
        type=float,
        default=10.0,
        help="orders per second while the broker is down (default 10; 0: as fast as they go)",
    )
    parser.add_argument(
        "--slow-seconds", type=float, default=150, help="how long the slow fault is watched"
    )
    args = parser.parse_args()
    only = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = [f for f in only if f not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    for tool in ("redis-server",) + (("runuser",) if os.geteuid() == 0 else ()):
        if shutil.which(tool) is None:
            sys.exit(f"bench/faults.py needs {tool}")

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    # Also SIGINT: started in the background by a shell, Python would inherit it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    tmp = Path(tempfile.mkdtemp(prefix="aisle-faults-"))
    tmp.chmod(0o755)  # the postgres OS user reaches its directory inside
    started = time.time()
    drill = None
    try:
        with contextlib.ExitStack() as stack:
            drill = Drill(tmp, args.patience, stack, broker_rate=args.broker_rate)
            try:
                drill.up()
                for fault in FAULTS:
                    if fault not in only:
                        continue
                    drill.revive()
                    drill.exits_before = len(drill.exits)
                    if fault == "slow":
                        drill.fault_slow(args.slow_seconds)
                    else:
                        getattr(drill, f"fault_{fault}")()
                say("stopping everything …")
            finally:
                STOP.set()  # load threads stop before the servers do
    except KeyboardInterrupt:
        print("interrupted: everything the drill started is stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    figures = drill.figures if drill else []
    print()
    print(f"Fault drill ({time.time() - started:.0f} s), on {_revision()}:")
    width = max((len(f.fault) for f in figures), default=0)
    for f in figures:
        print(f"  {'PASS' if f.ok else 'FAIL'}  {f.fault:<{width}}  {f.line}  [target: {f.target}]")
    return 0 if figures and all(f.ok for f in figures) else 1


def _revision() -> str:
    result = subprocess.run(
        ["git", "log", "-1", "--format=%h %s"],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return re.sub(r"\s+", " ", result.stdout.strip())[:80] or "an unknown revision"


if __name__ == "__main__":
    sys.exit(main())
