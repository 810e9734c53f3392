"""`make run`'s console stays quiet under the embedded default (issue #21, finding 7):
with no broker configured, migrating and a run of every periodic task print no broker
warning and no warning at all. Run as `make run` runs them: a clean environment, a
SQLite file, Celery eager."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_embedded_default_prints_no_broker_warning(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'aisle.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONWARNINGS": "default",  # show every warning, as a newcomer's console would
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )

    migrated = run("migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    scheduled = run("run_scheduler", "--once")
    assert scheduled.returncode == 0, scheduled.stderr
    console = "\n".join([migrated.stdout, migrated.stderr, scheduled.stdout, scheduled.stderr])
    assert "broker" not in console.lower(), console
    assert "warning" not in console.lower(), console
    assert "Traceback" not in console
