"""`manage.py run_scheduler`: on the embedded default, what beat schedules runs too."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import override_settings

from retail import outbox
from retail.models import OutboxState

pytestmark = pytest.mark.django_db

CALLS: list = []


def record_call(**kwargs):
    """A task target for these tests."""
    CALLS.append(kwargs)


def test_one_tick_of_the_scheduler_republishes_what_waits_in_the_outbox(
    django_capture_on_commit_callbacks, monkeypatch, broker_down
):
    CALLS.clear()
    with django_capture_on_commit_callbacks(execute=True):
        entry = outbox.enqueue_task(f"{__name__}.record_call", kwargs={"x": 5})
    entry.refresh_from_db()
    assert entry.state == OutboxState.PENDING
    monkeypatch.undo()
    out = io.StringIO()
    with time_machine.travel(dt.timedelta(seconds=5)):
        call_command("run_scheduler", "--once", stdout=out)
    entry.refresh_from_db()
    assert entry.state == OutboxState.DONE
    assert CALLS == [{"x": 5}]
    lines = out.getvalue().splitlines()
    assert any(
        line.startswith("[scheduler] outbox-republish (retail.tasks.outbox_republish) ran")
        and line.endswith(": 1")
        for line in lines
    ), lines
    assert any(line.startswith("[scheduler] outbox-prune") for line in lines), lines


@override_settings(
    CELERY_BEAT_SCHEDULE={
        "missing": {"task": "retail.tasks.no_such_task", "schedule": 30.0},
        "outbox-prune": {"task": "retail.tasks.outbox_prune", "schedule": dt.timedelta(hours=1)},
    }
)
def test_a_failing_entry_does_not_stop_the_others():
    out, err = io.StringIO(), io.StringIO()
    call_command("run_scheduler", "--once", stdout=out, stderr=err)
    assert "[scheduler] missing: failed" in err.getvalue()
    assert "[scheduler] outbox-prune (retail.tasks.outbox_prune) ran" in out.getvalue()


def test_the_tick_must_be_positive():
    with pytest.raises(CommandError):
        call_command("run_scheduler", "--tick", "0")


def test_every_scheduled_task_exists():
    from django.conf import settings

    from retail.celery import app

    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


def scheduler_env(database_url: str) -> dict:
    """The environment of a `make run`: no broker, so Celery runs eagerly."""
    import os

    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1"}
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        env.pop(name, None)
    return env


def manage(*args: str, env: dict):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_scheduler_process_of_make_run_runs_the_beat_schedule(tmp_path):
    """What `make run` starts, in a fresh process (where no test imported the tasks)."""
    env = scheduler_env(f"sqlite:///{tmp_path / 'aisle.sqlite3'}")
    assert manage("migrate", "--no-input", "-v0", env=env).returncode == 0
    result = manage("run_scheduler", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert "[scheduler] outbox-republish (retail.tasks.outbox_republish) ran" in result.stdout
    assert "[scheduler] outbox-prune (retail.tasks.outbox_prune) ran" in result.stdout
    assert "failed" not in result.stdout + result.stderr


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_scheduler_process_publishes_an_entry_a_broker_outage_left_waiting(
    monkeypatch, broker_down
):
    from django.db import connection

    entry = outbox.enqueue_task(f"{__name__}.record_call", kwargs={"x": 6})  # committed
    monkeypatch.undo()
    entry.refresh_from_db()
    assert entry.state == OutboxState.PENDING
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    import time

    time.sleep(1.1)  # republishing leaves entries alone for their first second
    result = manage("run_scheduler", "--once", env=scheduler_env(url))
    assert result.returncode == 0, result.stderr
    assert "outbox-republish (retail.tasks.outbox_republish) ran" in result.stdout
    entry.refresh_from_db()
    assert entry.state == OutboxState.DONE
