"""Catalog and stock feeds: the import command and the API in batches, against a raw
`COPY` of the same rows, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/feeds.py

Recreates the database `aisle_bench_feeds`, migrates it and seeds the small demo
network (its categories and locations). Then, with generated data:

- **Catalog, command**: a CSV of `--variants` variants (5 per product) through
  `manage.py import_data catalog FILE`, timed with its peak memory (`/usr/bin/time`).
- **Catalog, API**: as many other variants through `PUT /api/v1/products/{style}/`, one
  product per request, `--senders` concurrent senders against gunicorn (2 workers, as
  the README deploys it); the workers' peak memory is read from `/proc` afterwards.
- **Stock, command**: a CSV of `--stock-lines` counts (location, SKU, quantity) over the
  seeded locations through `manage.py import_data stock FILE`.
- **Stock, API**: the same number of other counts through `POST /api/v1/stock/movements/`
  in batches of 5,000 lines.
- **COPY**: the same rows (each file's columns) copied into a plain table from one
  connection, so every rate has its ratio against the fastest way PostgreSQL takes rows.
- **Ledger**: `manage.py stock_reconcile` must find no drift afterwards.

Prints rows per second, peak memory and the ratio for each; exits 1 when the ledger
drifts or a request failed.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

CATALOG_COLUMNS = [
    "style_code",
    "name",
    "name_zh",
    "brand",
    "category",
    "description",
    "description_zh",
    "sku",
    "barcode",
    "price",
    "size",
    "colour",
]
SIZES = ("XS", "S", "M", "L", "XL")
STOCK_BATCH = 5000


def catalog_rows(prefix: str, variants: int, categories: list[str]) -> list[dict]:
    rows = []
    for n in range(variants // len(SIZES)):
        style = f"{prefix}{n:06d}"
        for i, size in enumerate(SIZES):
            rows.append(
                {
                    "style_code": style,
                    "name": f"Feed jumper {n}",
                    "name_zh": f"数据源毛衣 {n}",
                    "brand": "Feedwear",
                    "category": categories[n % len(categories)],
                    "description": "Fine wool, crew neck.",
                    "description_zh": "细羊毛，圆领。",
                    "sku": f"{style}-{size}",
                    "barcode": "",
                    "price": f"{29 + (n % 70)}.{(n * 7 + i) % 100:02d}",
                    "size": size,
                    "colour": ("Navy", "Grey", "Red")[n % 3],
                }
            )
    return rows


def stock_rows(skus: list[str], locations: list[str], lines: int, seed: int) -> list[dict]:
    rows = []
    for n in range(lines):
        rows.append(
            {
                "location": locations[n % len(locations)],
                "sku": skus[(n // len(locations)) % len(skus)],
                "quantity": str((n * 31 + seed) % 40),
            }
        )
    return rows


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def timed_command(env: dict, *args: str) -> tuple[float, int, str]:
    """(seconds, peak memory in MB, output) of `manage.py ARGS` under /usr/bin/time."""
    result = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", str(harness.BIN / "python"), "manage.py", *args],
        cwd=harness.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"TIME ([0-9.]+) ([0-9]+)", result.stderr)
    if result.returncode != 0 or not found:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return float(found.group(1)), int(found.group(2)) // 1024, result.stdout


def send_all(base: str, key: str, requests: list[tuple[str, str, bytes]], senders: int):
    """Send (method, path, body) requests with `senders` connections; (seconds, failures)."""
    parts = urlsplit(base)
    lock = threading.Lock()
    queue = list(reversed(requests))
    failures: list[str] = []

    def sender():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        while True:
            with lock:
                if not queue:
                    return
                method, path, body = queue.pop()
            conn.request(
                method,
                path,
                body=body,
                headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            data = response.read()
            if response.status not in (200, 201):
                with lock:
                    failures.append(f"{method} {path}: {response.status} {data[:300]!r}")
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)

    started = time.monotonic()
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started, failures


def product_requests(rows: list[dict]) -> list[tuple[str, str, bytes]]:
    products: dict[str, dict] = {}
    for row in rows:
        product = products.setdefault(
            row["style_code"],
            {
                "name": row["name"],
                "brand": row["brand"],
                "category": row["category"],
                "description": row["description"],
                "translations": {
                    "zh-hans": {"name": row["name_zh"], "description": row["description_zh"]}
                },
                "variants": [],
            },
        )
        product["variants"].append(
            {"sku": row["sku"], "price": row["price"], "size": row["size"], "colour": row["colour"]}
        )
    return [
        ("PUT", f"/api/v1/products/{style}/", json.dumps(body).encode())
        for style, body in products.items()
    ]


def movement_requests(rows: list[dict], prefix: str) -> list[tuple[str, str, bytes]]:
    by_location: dict[str, list[dict]] = {}
    for row in rows:
        by_location.setdefault(row["location"], []).append(
            {"sku": row["sku"], "quantity": int(row["quantity"])}
        )
    requests = []
    for location, lines in by_location.items():
        for start in range(0, len(lines), STOCK_BATCH):
            body = {
                "movement_ref": f"{prefix}-{location}-{start // STOCK_BATCH}",
                "location": location,
                "kind": "count",
                "lines": lines[start : start + STOCK_BATCH],
            }
            requests.append(("POST", "/api/v1/stock/movements/", json.dumps(body).encode()))
    return requests


def worker_peak_mb(port: int) -> int:
    """The largest peak resident memory (VmHWM) of the gunicorn processes on `port`."""
    peak = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "gunicorn" not in cmdline or f"127.0.0.1:{port}" not in cmdline:
                continue
            status = (proc / "status").read_text()
        except OSError:
            continue
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        if found:
            peak = max(peak, int(found.group(1)) // 1024)
    return peak


def copy_seconds(db_url: str, table: str, columns: list[str], types: dict, rows: list[dict]):
    """Seconds to COPY `rows` into a fresh plain table with those columns."""
    import psycopg

    text = io.StringIO()
    csv.DictWriter(text, fieldnames=columns).writerows(rows)
    data = text.getvalue()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        spec = ", ".join(f"{c} {types.get(c, 'text')}" for c in columns)
        conn.execute(f"CREATE TABLE {table} ({spec})")
        started = time.monotonic()
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            copy.write(data)
        seconds = time.monotonic() - started
        conn.execute(f"DROP TABLE {table}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="aisle_bench_feeds")
    parser.add_argument("--variants", type=int, default=50_000)
    parser.add_argument("--stock-lines", type=int, default=200_000)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args()

    server = harness.require_postgres("bench/feeds.py")
    db = harness.fresh_database(server, args.database)
    env = harness.environment(db)
    harness.manage(env, "migrate", "--no-input")
    print("seeding the small demo network …", flush=True)
    harness.manage(env, "seed_demo", "--force")
    facts = json.loads(
        harness.django_shell(
            env,
            "import json; from retail.models import Category; "
            "from inventory.models import StockLocation; "
            "print(json.dumps({'categories': list(Category.objects.values_list('name', flat=True)), "
            "'locations': list(StockLocation.objects.filter(kind__in=['store', 'dc'])"
            ".values_list('code', flat=True))}))",
        )
        .strip()
        .splitlines()[-1]
    )
    key = (
        harness.manage(
            env,
            "create_api_client",
            "bench-feeds",
            "--scopes",
            "catalog:write",
            "stock:write",
            "--rate",
            "1000000/s",
        )
        .strip()
        .splitlines()[-1]
    )
    categories, locations = facts["categories"], facts["locations"]

    command_catalog = catalog_rows("CMD", args.variants, categories)
    api_catalog = catalog_rows("API", args.variants, categories)
    print(
        f"catalog: {len(command_catalog):,} variants per path; stock: {args.stock_lines:,} "
        f"lines per path over {len(locations)} locations",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory() as folder:
        catalog_file = Path(folder) / "catalog.csv"
        write_csv(catalog_file, CATALOG_COLUMNS, command_catalog)
        seconds, peak, _out = timed_command(env, "import_data", "catalog", str(catalog_file))
        results.append(("catalog", "command", len(command_catalog), seconds, peak))

        with harness.gunicorn(env) as base:
            seconds, failures = send_all(base, key, product_requests(api_catalog), args.senders)
            peak = worker_peak_mb(urlsplit(base).port)
            results.append(("catalog", "API, a product per PUT", len(api_catalog), seconds, peak))
            if failures:
                print("\n".join(failures[:5]))
                return 1

        skus_cmd = [r["sku"] for r in command_catalog]
        skus_api = [r["sku"] for r in api_catalog]
        stock_cmd = stock_rows(skus_cmd, locations, args.stock_lines, seed=1)
        stock_api = stock_rows(skus_api, locations, args.stock_lines, seed=2)
        stock_file = Path(folder) / "stock.csv"
        write_csv(stock_file, ["location", "sku", "quantity"], stock_cmd)
        seconds, peak, _out = timed_command(env, "import_data", "stock", str(stock_file))
        results.append(("stock", "command", len(stock_cmd), seconds, peak))

        with harness.gunicorn(env) as base:
            port = urlsplit(base).port
            seconds, failures = send_all(
                base, key, movement_requests(stock_api, "BENCH"), args.senders
            )
            peak = worker_peak_mb(port)
            results.append(("stock", "API, 5,000 lines per POST", len(stock_api), seconds, peak))
            if failures:
                print("\n".join(failures[:5]))
                return 1

    copy_catalog = copy_seconds(
        db, "bench_copy_catalog", CATALOG_COLUMNS, {"price": "numeric(10,2)"}, command_catalog
    )
    copy_stock = copy_seconds(
        db, "bench_copy_stock", ["location", "sku", "quantity"], {"quantity": "integer"}, stock_cmd
    )
    copy_rate = {
        "catalog": len(command_catalog) / copy_catalog,
        "stock": len(stock_cmd) / copy_stock,
    }
    reconcile = subprocess.run(
        [str(harness.BIN / "python"), "manage.py", "stock_reconcile"],
        cwd=harness.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    print()
    print(
        f"{'feed':8} {'path':28} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'peak MB':>8} {'÷ COPY':>8}"
    )
    for feed, path, rows, seconds, peak in results:
        rate = rows / seconds
        print(
            f"{feed:8} {path:28} {rows:>9,} {seconds:>8.1f} {rate:>9,.0f} {peak:>8} "
            f"{rate / copy_rate[feed]:>8.3f}"
        )
    for feed, rate in copy_rate.items():
        print(f"{feed:8} {'raw COPY, one connection':28} {'':>9} {'':>8} {rate:>9,.0f}")
    print()
    print("ledger:", reconcile.stdout.strip() or reconcile.stderr.strip())
    return 0 if reconcile.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
