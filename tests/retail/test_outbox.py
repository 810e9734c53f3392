"""The transactional outbox: side effects leave after commit, once, and survive outages."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from retail import events, outbox
from retail.models import AuditLog, OutboxEntry, OutboxState
from tests import factories

pytestmark = pytest.mark.django_db

CALLS: list = []


def record_call(**kwargs):
    """A task target for these tests."""
    CALLS.append(kwargs)


def flaky_receiver(payload):
    """Fails on its first two deliveries, then succeeds."""
    CALLS.append(("flaky", payload["n"]))
    if sum(1 for c in CALLS if c == ("flaky", payload["n"])) <= 2:
        raise RuntimeError("receiver down")


def steady_receiver(payload):
    CALLS.append(("steady", payload["n"]))


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield
    CALLS.clear()


def test_a_task_runs_after_commit_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = outbox.enqueue_task(f"{__name__}.record_call", kwargs={"x": 1})
        assert CALLS == []  # nothing leaves before commit
    assert CALLS == [{"x": 1}]
    entry.refresh_from_db()
    assert entry.state == OutboxState.DONE
    outbox.run(entry.pk)  # a second delivery of the same entry
    assert CALLS == [{"x": 1}]


def test_a_task_in_a_rolled_back_transaction_never_runs(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                outbox.enqueue_task(f"{__name__}.record_call", kwargs={"x": 2})
                raise RuntimeError("the request fails")
        except RuntimeError:
            pass
    assert CALLS == []
    assert not OutboxEntry.objects.exists()


def test_the_same_key_is_recorded_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue_task(f"{__name__}.record_call", kwargs={"x": 3}, key="k-1")
        outbox.enqueue_task(f"{__name__}.record_call", kwargs={"x": 3}, key="k-1")
    assert CALLS == [{"x": 3}]


def test_broker_down_at_commit_leaves_the_entry_pending_until_republished(
    django_capture_on_commit_callbacks, monkeypatch
):
    from retail import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.outbox_run, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        entry = outbox.enqueue_task(f"{__name__}.record_call", kwargs={"x": 4})
    entry.refresh_from_db()
    assert entry.state == OutboxState.PENDING
    assert CALLS == []
    monkeypatch.undo()
    with time_machine.travel(dt.timedelta(seconds=5)):
        assert tasks.outbox_republish() == 1
    entry.refresh_from_db()
    assert entry.state == OutboxState.DONE
    assert CALLS == [{"x": 4}]


def test_event_with_two_receivers_one_failing_twice_ends_with_both_run_once(
    django_capture_on_commit_callbacks,
):
    events.register("test_happened", f"{__name__}.flaky_receiver")
    events.register("test_happened", f"{__name__}.steady_receiver")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outbox.record_event("test_happened", payload={"n": 7})
        deliveries = OutboxEntry.objects.filter(kind="delivery")
        assert deliveries.count() == 2
        flaky = deliveries.get(receiver__endswith="flaky_receiver")
        flaky.refresh_from_db()
        assert (flaky.state, flaky.attempts) == (OutboxState.PENDING, 1)
        assert "receiver down" in flaky.last_error
        # Beat retries with backoff: too early does nothing, later runs it.
        from retail.tasks import outbox_republish

        with time_machine.travel(dt.timedelta(seconds=11)):
            outbox_republish()
        with time_machine.travel(dt.timedelta(seconds=60)):
            outbox_republish()
        with time_machine.travel(dt.timedelta(seconds=120)):
            outbox_republish()
    finally:
        events.unregister("test_happened", f"{__name__}.flaky_receiver")
        events.unregister("test_happened", f"{__name__}.steady_receiver")
    flaky.refresh_from_db()
    assert flaky.state == OutboxState.DONE
    succeeded = [c for c in CALLS if c == ("steady", 7)]
    assert succeeded == [("steady", 7)]
    assert CALLS.count(("flaky", 7)) == 3  # two failures, one success


def test_a_receiver_failing_every_time_ends_failed_and_hq_can_retry(
    django_capture_on_commit_callbacks, hq_client
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = outbox.enqueue_task("no.such.function", kwargs={})
    for _ in range(outbox.MAX_ATTEMPTS):
        OutboxEntry.objects.filter(pk=entry.pk).update(state=OutboxState.PENDING)
        outbox.run(entry.pk)
    entry.refresh_from_db()
    assert entry.state == OutboxState.FAILED
    page = hq_client.get("/admin/retail/outboxentry/?state__exact=failed")
    assert "no.such.function" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        hq_client.post(
            "/admin/retail/outboxentry/",
            {"action": "retry_entries", "_selected_action": [entry.pk]},
        )
    entry.refresh_from_db()
    assert entry.attempts == 1  # run again from a fresh count
    assert entry.state == OutboxState.PENDING


def test_prune_forgets_entries_done_long_ago(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue_task(f"{__name__}.record_call", kwargs={})
    with time_machine.travel(dt.timedelta(days=8)):
        assert outbox.prune() == 1


def test_scheduler_runs_the_beat_schedule_once(django_capture_on_commit_callbacks, monkeypatch):
    from django.core.management import call_command

    from retail import tasks

    monkeypatch.setattr(
        tasks.outbox_run, "apply_async", lambda *a, **k: (_ for _ in ()).throw(ConnectionError())
    )
    with django_capture_on_commit_callbacks(execute=True):
        entry = outbox.enqueue_task(f"{__name__}.record_call", kwargs={"x": 5})
    monkeypatch.undo()
    with time_machine.travel(dt.timedelta(seconds=5)):
        call_command("run_scheduler", "--once")
    entry.refresh_from_db()
    assert entry.state == OutboxState.DONE
    assert CALLS == [{"x": 5}]


def test_no_personal_data_in_outbox_logs(caplog, django_capture_on_commit_callbacks, monkeypatch):
    from retail import tasks

    customer = factories.CustomerFactory(name="Private Person", email="private@example.com")
    monkeypatch.setattr(
        tasks.outbox_run, "apply_async", lambda *a, **k: (_ for _ in ()).throw(ConnectionError())
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue_task(f"{__name__}.record_call", kwargs={"customer_id": customer.pk})
    assert "Private" not in caplog.text and "private@" not in caplog.text
    assert not AuditLog.objects.exists()
