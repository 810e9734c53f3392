"""The outbox with a real Celery worker on Redis, against PostgreSQL."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import time_machine
from django.db import connection, transaction

from retail import outbox
from retail.celery import app as celery_app
from retail.models import AuditLog, OutboxEntry, OutboxState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/13"
DEAD_BROKER = "redis://127.0.0.1:1/0"


def write_mark(token: str) -> None:
    """The worker's observable effect: one audit row per run."""
    AuditLog.objects.create(action="test.worker_ran", target_type="test", target_id=token)


def use_broker(url: str) -> None:
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker(monkeypatch):
    # Celery reads CELERY_BROKER_URL from the environment before its own settings;
    # this test points the app at brokers itself.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    redis.Redis.from_url(BROKER).flushdb()
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    url = f"postgres://{db['USER'] or 'postgres'}@{host}:{port}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": BROKER, "DEBUG": "1"}
    env.pop("CACHE_URL", None)
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "retail",
            "worker",
            "-P",
            "solo",
            "-l",
            "warning",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
    )
    use_broker(BROKER)
    try:
        # Wait until the worker answers, so the test measures the outbox, not start-up.
        assert wait_for(lambda: bool(celery_app.control.ping(timeout=1.0)), timeout=60)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        celery_app.conf.task_always_eager = True
        celery_app.conf.broker_url = ""
        celery_app._pool = None


def wait_for(check, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def marks(token):
    return AuditLog.objects.filter(action="test.worker_ran", target_id=token).count()


def test_committed_task_runs_once_rolled_back_never_and_outage_is_caught_up(worker):
    target = f"{__name__}.write_mark"
    # 1. Recorded in a committed transaction: runs once.
    with transaction.atomic():
        committed = outbox.enqueue_task(target, kwargs={"token": "committed"})
    assert wait_for(lambda: marks("committed") == 1)

    # 2. Recorded in a rolled-back transaction: never runs.
    try:
        with transaction.atomic():
            outbox.enqueue_task(target, kwargs={"token": "rolled-back"})
            raise RuntimeError("request failed")
    except RuntimeError:
        pass

    # 3. Broker unreachable at commit: the request succeeds, the entry waits.
    use_broker(DEAD_BROKER)
    with transaction.atomic():
        waiting = outbox.enqueue_task(target, kwargs={"token": "outage"})
    waiting.refresh_from_db()
    assert waiting.state == OutboxState.PENDING

    # The broker is back: the beat task publishes it and it runs once.
    use_broker(BROKER)
    with time_machine.travel(time.time() + 5):
        assert outbox.republish_due() == 1
    assert wait_for(lambda: marks("outage") == 1)
    # A duplicate delivery of an entry already done changes nothing.
    from retail.tasks import outbox_run

    outbox_run.apply_async(args=[committed.pk])
    time.sleep(2)
    assert marks("committed") == 1
    assert marks("outage") == 1
    assert marks("rolled-back") == 0
    assert OutboxEntry.objects.filter(payload__token="rolled-back").count() == 0
    assert wait_for(
        lambda: OutboxEntry.objects.filter(pk=waiting.pk, state=OutboxState.DONE).exists()
    )
