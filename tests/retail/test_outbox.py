"""The transactional outbox: side effects leave after commit, once, and survive outages."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from retail import outbox
from retail.models import AuditLog, OutboxEntry, OutboxState
from tests import factories

pytestmark = pytest.mark.django_db

CALLS: list = []


def record_call(**kwargs):
    """A task target for these tests."""
    CALLS.append(kwargs)


def always_fails(**kwargs):
    """A task target that never succeeds."""
    CALLS.append(("fails", kwargs))
    raise RuntimeError("the shop's mail server is down")


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
    django_capture_on_commit_callbacks, monkeypatch, broker_down
):
    from retail import tasks

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


def test_a_failing_task_is_retried_with_growing_backoff_then_left_failed(
    django_capture_on_commit_callbacks,
):
    from retail.tasks import outbox_republish

    with django_capture_on_commit_callbacks(execute=True):
        entry = outbox.enqueue_task(f"{__name__}.always_fails", kwargs={"x": 1})
    ran_at = timezone.now()
    for attempt in range(1, outbox.MAX_ATTEMPTS):
        entry.refresh_from_db()
        assert (entry.state, entry.attempts) == (OutboxState.PENDING, attempt)
        waited = entry.available_at - ran_at
        assert abs(waited - outbox.backoff(attempt)) < dt.timedelta(seconds=2)
        with time_machine.travel(entry.available_at - dt.timedelta(seconds=1)):
            assert outbox_republish() == 0  # not before its backoff
        ran_at = entry.available_at + dt.timedelta(seconds=1)
        with time_machine.travel(ran_at):
            assert outbox_republish() == 1
    assert outbox.backoff(1) < outbox.backoff(2) < outbox.backoff(7)
    entry.refresh_from_db()
    assert (entry.state, entry.attempts) == (OutboxState.FAILED, outbox.MAX_ATTEMPTS)
    assert "mail server is down" in entry.last_error
    with time_machine.travel(dt.timedelta(days=30)):
        assert outbox_republish() == 0  # a failed entry waits for HQ
        assert outbox.prune() == 0  # and is never forgotten
    assert len(CALLS) == outbox.MAX_ATTEMPTS


def test_a_task_failing_every_time_ends_failed_and_hq_sees_it_and_can_retry(
    django_capture_on_commit_callbacks, hq_client
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = outbox.enqueue_task(f"{__name__}.always_fails", kwargs={})
    for _ in range(outbox.MAX_ATTEMPTS):
        OutboxEntry.objects.filter(pk=entry.pk).update(state=OutboxState.PENDING)
        outbox.run(entry.pk)
    entry.refresh_from_db()
    assert entry.state == OutboxState.FAILED
    page = hq_client.get("/admin/retail/outboxentry/?state__exact=failed").content.decode()
    assert "always_fails" in page
    assert "mail server is down" in page  # the error, in the list
    assert hq_client.get("/admin/retail/outboxentry/?state__exact=done").status_code == 200
    detail = hq_client.get(f"/admin/retail/outboxentry/{entry.pk}/change/").content.decode()
    assert 'name="last_error"' not in detail  # read-only
    with django_capture_on_commit_callbacks(execute=True):
        hq_client.post(
            "/admin/retail/outboxentry/",
            {"action": "retry_entries", "_selected_action": [entry.pk]},
        )
    entry.refresh_from_db()
    assert entry.attempts == 1  # run again from a fresh count
    assert entry.state == OutboxState.PENDING


def test_an_unknown_task_is_refused_and_nothing_is_written():
    with pytest.raises(outbox.OutboxError), transaction.atomic():
        outbox.enqueue_task("retail.tasks.no_such_task", kwargs={})
    with pytest.raises(outbox.OutboxError):
        outbox.enqueue_task(f"{__name__}.CALLS", kwargs={})  # not callable
    with pytest.raises(outbox.OutboxError):
        outbox.record_event("", payload={})
    assert not OutboxEntry.objects.exists()


def test_a_celery_task_can_be_recorded_by_its_name(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        done = outbox.enqueue_task(f"{__name__}.record_call", kwargs={})
        prune = outbox.enqueue_task("retail.tasks.outbox_prune")
    prune.refresh_from_db()
    assert prune.state == OutboxState.DONE
    done.refresh_from_db()
    assert done.state == OutboxState.DONE


def test_prune_forgets_entries_done_long_ago(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue_task(f"{__name__}.record_call", kwargs={})
    with time_machine.travel(dt.timedelta(days=8)):
        assert outbox.prune() == 1


def test_no_personal_data_in_outbox_logs(caplog, django_capture_on_commit_callbacks, broker_down):
    customer = factories.CustomerFactory(name="Private Person", email="private@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue_task(f"{__name__}.record_call", kwargs={"customer_id": customer.pk})
    assert "Private" not in caplog.text and "private@" not in caplog.text
    assert not AuditLog.objects.exists()
