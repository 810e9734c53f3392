"""A store day at scale: how many stores this machine serves in their busy hour.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/storeday/run.py --reuse

On the large demo network (`seed_demo --scale large` in the database `--database`,
kept with `--reuse`), with the parts as the README deploys them: gunicorn (`-w 4`),
one Celery worker for the default and webhook queues (`-Q celery,webhooks`, the
README's small install), PostgreSQL and Redis (cache, sessions and broker), an API
client whose webhooks go to a local receiver. `bench/storeday/load.py` plays
`--stores` stores' busy hour with Locust at an open arrival rate (its docstring states
the model), for `--seconds` after a warm-up.

The search: from `--start` stores, doubling while every request type keeps its p95
under 300 ms with no error (and the load generator kept to the schedule), then
halving the interval between the last good and the first bad count until it is
narrower than 10 %. Prints, for the largest count that passed: requests per second,
p50/p95 and the share of server time per request type, the queries each type costs
(one warm request of each, through Django's test client on the same data), and the
CPU the load generator used: it runs on the same two cores, so its share is measured
(its own CPU seconds over the run) and printed beside the server's, rather than
hidden in the figure.

Virtual stores beyond the demo's stores reuse their data round-robin (their
associates, customers, pickups and stock).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench import harness

P95_MS = 300
PER_STORE_RATE = 2 / 10 + 4 / 30 + 4 / 20 + 1 / 60 + 1 / 10 + 1 / 5 + 1 / 30 + 1 / 120


class Receiver(http.server.BaseHTTPRequestHandler):
    """The web shop's webhook endpoint: answers 200 to everything."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def start_receiver() -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", harness.free_port()), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/hooks"


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of these processes and their children so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def server_pids() -> list[int]:
    """PostgreSQL, Redis, gunicorn and Celery processes on this machine."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if any(word in command for word in ("postgres", "redis-server", "gunicorn", "celery")):
            pids.append(int(proc.name))
    return pids


def step(config: str, stores: int, seconds: int, warmup: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    pids = server_pids()
    before = cpu_seconds(pids)
    subprocess.run(
        [
            str(harness.BIN / "python"),
            "-m",
            "bench.storeday.load",
            "--config",
            config,
            "--stores",
            str(stores),
            "--seconds",
            str(seconds),
            "--warmup",
            str(warmup),
            "--out",
            path,
        ],
        cwd=harness.ROOT,
        check=True,
        env={**os.environ, "PYTHONPATH": str(harness.ROOT)},
    )
    result = json.loads(Path(path).read_text())
    Path(path).unlink()
    # The server's CPU over warm-up and run; the generator's over the run only.
    result["server_cpu_seconds"] = cpu_seconds(pids) - before
    result["server_seconds"] = seconds + warmup
    return result


def verdict(result: dict) -> tuple[bool, str]:
    types = result["types"]
    slow = [f"{n} p95 {t['p95']:.0f} ms" for n, t in types.items() if (t["p95"] or 0) >= P95_MS]
    failed = [f"{n} {t['failures']} errors" for n, t in types.items() if t["failures"]]
    sent = sum(t["requests"] for t in types.values())
    expected = PER_STORE_RATE * result["stores"] * result["seconds"]
    behind = sent < 0.9 * expected
    problems = slow + failed + ([f"sent {sent} of {expected:.0f} scheduled"] if behind else [])
    return (not problems), "; ".join(problems) or "ok"


def report(result: dict, queries: dict) -> None:
    types = result["types"]
    seconds = result["seconds"]
    total_ms = sum(t["total_ms"] for t in types.values()) or 1
    print(f"\n{result['stores']} stores served, {seconds:.0f} s measured:")
    print(
        f"{'request type':24} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>7} {'time %':>7} {'queries':>8}"
    )
    for name, t in sorted(types.items(), key=lambda kv: -kv[1]["total_ms"]):
        print(
            f"{name:24} {t['requests'] / seconds:>7.1f} {t['p50'] or 0:>7.0f} {t['p95'] or 0:>7.0f} "
            f"{t['failures']:>7} {100 * t['total_ms'] / total_ms:>6.1f}% {queries.get(name, '—'):>8}"
        )
    rate = sum(t["requests"] for t in types.values()) / seconds
    generator = result["generator_cpu_seconds"] / seconds
    server = result["server_cpu_seconds"] / result["server_seconds"]
    print(f"total: {rate:,.1f} requests/s")
    print(
        f"CPU: the load generator used {generator:.2f} cores ({50 * generator:.0f}% of the "
        f"machine's two) while the servers (gunicorn, Celery, PostgreSQL, Redis) used "
        f"{server:.2f}; the figure is what the servers did with the remaining "
        f"{2 - generator:.2f} cores."
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_large")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--scale", default="large", choices=["small", "large"])
    parser.add_argument("--start", type=int, default=50)
    parser.add_argument("--max", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--cache", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--only", type=int, help="one run at this many stores, no search")
    args = parser.parse_args()

    server = harness.require_postgres("bench/storeday/run.py")
    db = harness.fresh_database(server, args.database, keep_existing=args.reuse)
    env = harness.environment(db, CACHE_URL=args.cache, CELERY_BROKER_URL=args.broker)
    harness.manage(env, "migrate", "--no-input")
    seeded = harness.django_shell(
        env, "from retail.models import Store; print(Store.objects.count())"
    )
    if not args.reuse or int(seeded.strip().splitlines()[-1] or 0) < 5:
        print(f"seeding the {args.scale} demo network …", flush=True)
        harness.manage(env, "seed_demo", "--scale", args.scale, "--force")
    harness.manage(env, "collectstatic", "--no-input", "-v", "0")
    harness.django_shell(env, "from django.core.cache import cache; cache.clear()")
    receiver = start_receiver()
    key = (
        harness.manage(
            env,
            "create_api_client",
            f"storeday-{os.getpid()}",
            "--scopes",
            "events:write",
            "orders:write",
            "orders:read",
            "availability:read",
            "--rate",
            "1000000/s",
        )
        .strip()
        .splitlines()[-1]
    )
    harness.django_shell(
        env,
        "from retail.models import ApiClient; "
        f"ApiClient.objects.filter(name='storeday-{os.getpid()}').update(webhook_url='{receiver}', "
        "webhook_secret='bench-secret'); "
        # An earlier run's client would still get every webhook, at a receiver long gone.
        "ApiClient.objects.filter(name__startswith='storeday-').exclude("
        f"name='storeday-{os.getpid()}').update(is_active=False, webhook_url='')",
    )
    folder = Path(tempfile.mkdtemp(prefix="storeday-"))
    config = folder / "config.json"
    worker = subprocess.Popen(
        [
            str(harness.BIN / "celery"),
            "-A",
            "retail",
            "worker",
            "-Q",
            "celery,webhooks",
            "-c",
            "2",
            "-l",
            "warning",
        ],
        cwd=harness.ROOT,
        env=env,
        start_new_session=True,
        stdout=open(folder / "worker.log", "ab"),  # noqa: SIM115 - the worker's, till it stops
        stderr=subprocess.STDOUT,
    )
    try:
        with harness.gunicorn(env, workers=args.workers, log=folder / "gunicorn.log") as base:
            harness.django_shell(
                env,
                "from bench.storeday import facts; "
                f"facts.write({str(config)!r}, base={base!r}, key={key!r})",
            )
            data = json.loads(config.read_text())
            print(f"{len(data['stores'])} demo stores with the data a store day needs", flush=True)
            harness.django_shell(
                env,
                "from bench.storeday import facts; "
                f"facts.queries({str(config)!r}, {str(folder / 'queries.json')!r})",
            )
            queries = json.loads((folder / "queries.json").read_text())
            best, good, bad = None, 0, None
            stores = args.only or args.start
            while True:
                result = step(str(config), stores, args.seconds, args.warmup)
                ok, why = verdict(result)
                print(f"{stores:>5} stores: {'PASS' if ok else 'FAIL'} ({why})", flush=True)
                if args.only:
                    best = result
                    break
                if ok:
                    best, good = result, stores
                    stores = stores * 2 if bad is None else (good + bad) // 2
                else:
                    bad = stores
                    stores = (good + bad) // 2
                if stores > args.max or (bad is not None and bad - good <= max(2, good // 10)):
                    break
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
    if best is None:
        print(f"no store count passed (the first try: {args.start})")
        return 1
    report(best, queries)
    print(f"logs: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
