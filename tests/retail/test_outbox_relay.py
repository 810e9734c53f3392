"""The outbox's relay: publishing never waits for a broker that is down, a target runs
with no transaction open, and leases bring back what a lost queue or worker dropped."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from retail import outbox
from retail.celery import app as celery_app
from retail.models import OutboxEntry, OutboxState

SEEN: list = []
DEAD_BROKER = "redis://127.0.0.1:1/0"


def note_transaction(**kwargs):
    """A task target that notes whether it was called inside a transaction."""
    SEEN.append({"in_atomic_block": connection.in_atomic_block, **kwargs})


@pytest.fixture(autouse=True)
def _seen():
    SEEN.clear()
    yield
    SEEN.clear()
    outbox._paused_until = 0.0


@pytest.fixture
def unreachable_broker(monkeypatch):
    """Celery not eager, pointed at a port where nothing listens, with the settings'
    transport options (no reconnect loop, a short connect timeout)."""
    # Celery reads CELERY_BROKER_URL from the environment before its settings.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setattr(outbox, "_eager", lambda: False)
    old_url = celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = DEAD_BROKER
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    attempts = []
    real = outbox._hand_to_broker

    def counting(entry_id, queue):
        attempts.append((entry_id, queue))
        return real(entry_id, queue)

    monkeypatch.setattr(outbox, "_hand_to_broker", counting)
    yield attempts
    celery_app.conf.task_always_eager = True
    celery_app.conf.broker_url = old_url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_the_broker_is_asked_once_with_no_retries_and_a_short_connect_timeout():
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["max_retries"] == 0
    assert options["socket_connect_timeout"] <= 0.1
    assert options["socket_timeout"] <= 2.0


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_unreachable_a_change_that_queues_five_tasks_tries_it_once_and_all_wait(
    unreachable_broker,
):
    with transaction.atomic():
        entries = [
            outbox.enqueue_task(f"{__name__}.note_transaction", kwargs={"n": n}) for n in range(4)
        ]
        entries.append(
            outbox.enqueue_task(
                f"{__name__}.note_transaction", kwargs={"n": 4}, queue=settings.AISLE_WEBHOOK_QUEUE
            )
        )
    # The first publish failed at once; the others did not try the broker again.
    assert len(unreachable_broker) == 1
    assert set(OutboxEntry.objects.values_list("state", flat=True)) == {OutboxState.PENDING}
    assert SEEN == []
    # The relay, with the broker back (eager here), runs each once, on its queue.
    outbox._eager = lambda: True  # monkeypatch restores the real one after the test
    with time_machine.travel(dt.timedelta(seconds=5)):
        assert outbox.republish_due() == 5
    assert sorted(s["n"] for s in SEEN) == [0, 1, 2, 3, 4]
    assert set(OutboxEntry.objects.values_list("state", flat=True)) == {OutboxState.DONE}
    assert OutboxEntry.objects.get(pk=entries[-1].pk).queue == "webhooks"


@pytest.mark.django_db(transaction=True)
def test_a_target_runs_with_no_transaction_open_and_the_entry_is_not_locked_meanwhile():
    entry = outbox.enqueue_task(f"{__name__}.note_transaction", kwargs={"n": 1})
    assert SEEN == [{"in_atomic_block": False, "n": 1}]
    entry.refresh_from_db()
    assert (entry.state, entry.attempts, entry.leased_until) == (OutboxState.DONE, 1, None)


@pytest.mark.django_db
def test_a_second_delivery_of_an_entry_another_worker_holds_does_nothing(broker_down):
    entry = outbox.enqueue_task(f"{__name__}.note_transaction", kwargs={"n": 2})
    OutboxEntry.objects.filter(pk=entry.pk).update(
        state=OutboxState.RUNNING, leased_until=timezone.now() + dt.timedelta(minutes=3)
    )
    outbox.run(entry.pk)
    assert SEEN == []
    assert OutboxEntry.objects.get(pk=entry.pk).state == OutboxState.RUNNING


@pytest.mark.django_db
def test_a_worker_lost_mid_run_is_replaced_when_its_lease_ends(
    broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = outbox.enqueue_task(f"{__name__}.note_transaction", kwargs={"n": 3})
    claimed = outbox._claim(entry.pk)  # a worker took it, then was killed
    assert claimed.state == OutboxState.RUNNING
    lease = claimed.leased_until - timezone.now()
    assert dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) < lease
    monkeypatch.undo()
    assert outbox.republish_due() == 0  # still within its lease
    with time_machine.travel(lease + dt.timedelta(seconds=1)):
        assert outbox.republish_due() == 1
    assert [s["n"] for s in SEEN] == [3]
    assert OutboxEntry.objects.get(pk=entry.pk).state == OutboxState.DONE


@pytest.mark.django_db
def test_an_entry_the_broker_took_but_lost_is_published_again_within_a_minute(
    broker_down, monkeypatch
):
    entry = outbox.enqueue_task(f"{__name__}.note_transaction", kwargs={"n": 4})
    # The broker accepted it, then lost its queue: published, never run.
    OutboxEntry.objects.filter(pk=entry.pk).update(
        state=OutboxState.PUBLISHED, published_at=timezone.now()
    )
    monkeypatch.undo()
    assert outbox.republish_due() == 0
    with time_machine.travel(outbox.REPUBLISH_AFTER + dt.timedelta(seconds=1)):
        assert outbox.republish_due() == 1
    assert [s["n"] for s in SEEN] == [4]
    assert dt.timedelta(seconds=60) >= outbox.REPUBLISH_AFTER
    assert settings.CELERY_BEAT_SCHEDULE["outbox-republish"]["schedule"] <= 30


@pytest.mark.django_db
def test_backlog_counts_what_waits_and_the_oldest_age(broker_down):
    with time_machine.travel(timezone.now() - dt.timedelta(seconds=90)):
        outbox.enqueue_task(f"{__name__}.note_transaction", kwargs={"n": 5})
    outbox.enqueue_task(f"{__name__}.note_transaction", kwargs={"n": 6})
    figures = outbox.backlog()
    assert figures["waiting"] == 2 and figures["failed"] == 0
    assert 89 <= figures["oldest_seconds"] <= 120


@pytest.mark.django_db(transaction=True)
def test_a_database_gone_right_after_the_commit_never_turns_the_change_into_an_error(
    monkeypatch,
):
    from django.db import OperationalError

    from retail.models import AuditLog

    monkeypatch.setattr(outbox, "_eager", lambda: False)
    real = outbox._publish

    def publish_with_the_database_gone(entry_id, *, queue):
        def refuse(execute, sql, params, many, context):
            raise OperationalError("the database went away")

        with connection.execute_wrapper(refuse):
            return real(entry_id, queue=queue)

    monkeypatch.setattr(outbox, "_publish", publish_with_the_database_gone)
    with transaction.atomic():  # the change and its side effect commit; the publish fails
        AuditLog.objects.create(action="test.change", target_type="test", target_id="1")
        entry = outbox.enqueue_task(f"{__name__}.note_transaction", kwargs={"n": 7})
    assert AuditLog.objects.filter(action="test.change").count() == 1
    assert OutboxEntry.objects.get(pk=entry.pk).state == OutboxState.PENDING  # for the relay
    assert SEEN == []
