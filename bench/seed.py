"""How long `seed_demo --scale large` takes on PostgreSQL, and how much memory it needs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aisle_bench_seed .venv/bin/python bench/seed.py

DATABASE_URL only names the server: the benchmark always (re)creates its own
database, `aisle_bench_seed` unless `--database` says otherwise, runs `migrate`
into it, then times `manage.py seed_demo --scale large --force` in a child
process and reads the child's peak resident memory from the kernel (`wait4`,
the per-child figure behind `getrusage(RUSAGE_CHILDREN)`). It prints

    seed_demo --scale large: <seconds> s, peak memory <MB> MB

and the row counts, and exits non-zero if a target (5 minutes, 2 GB) is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 5 * 60
TARGET_MB = 2 * 1024
COUNTS = {
    "stores": "SELECT count(*) FROM retail_store",
    "SKUs": "SELECT count(*) FROM retail_variant",
    "customers": "SELECT count(*) FROM retail_customer",
    "staff": "SELECT count(*) FROM retail_staffprofile",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default="aisle_bench_seed", help="database to recreate")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        print(
            "bench/seed.py needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/name "
            f"(got {parts.scheme or 'nothing'!r}). It measures the large seed where it will "
            "really run; SQLite's figures would say little about that."
        )
        return 2

    import psycopg

    admin = psycopg.connect(_conninfo(parts, "postgres"), autocommit=True)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.database}"')
    bench_url = urlunsplit(parts._replace(path=f"/{args.database}"))
    media = tempfile.mkdtemp(prefix="aisle-bench-media-")
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-not-a-secret",
        "MEDIA_ROOT": media,
        "CELERY_BROKER_URL": "",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    try:
        print(f"Migrating a fresh database {args.database!r} …", flush=True)
        started = time.monotonic()
        subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True)
        print(f"migrate: {time.monotonic() - started:.1f} s", flush=True)

        started = time.monotonic()
        child = subprocess.Popen([*manage, "seed_demo", "--scale", "large", "--force"], env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        if child.returncode:
            print(f"seed_demo failed with exit code {child.returncode}")
            return child.returncode
        peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux

        with psycopg.connect(_conninfo(parts, args.database)) as conn:
            counts = {name: conn.execute(sql).fetchone()[0] for name, sql in COUNTS.items()}
    finally:
        shutil.rmtree(media, ignore_errors=True)
        if args.drop:
            with psycopg.connect(_conninfo(parts, "postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    print()
    print(f"seed_demo --scale large: {seconds:.1f} s, peak memory {peak_mb:.0f} MB")
    print("rows: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    ok = seconds < TARGET_SECONDS and peak_mb < TARGET_MB
    print(
        f"targets: under {TARGET_SECONDS} s and under {TARGET_MB} MB: "
        + ("met" if ok else "MISSED")
    )
    return 0 if ok else 1


def _conninfo(parts, dbname: str) -> str:
    """A libpq URL for `dbname` on the server of DATABASE_URL."""
    return urlunsplit(("postgresql", parts.netloc, f"/{dbname}", parts.query, ""))


if __name__ == "__main__":
    sys.exit(main())
