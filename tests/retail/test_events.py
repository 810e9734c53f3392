"""Domain events: one outbox delivery per receiver, each retried on its own, each run once."""

import datetime as dt

import pytest
import time_machine

from retail import events, outbox
from retail.models import OutboxEntry, OutboxKind, OutboxState
from retail.tasks import outbox_republish

pytestmark = pytest.mark.django_db

CALLS: list = []


def flaky_receiver(payload):
    """Fails on its first two deliveries, then succeeds."""
    CALLS.append(("flaky", payload["n"]))
    if CALLS.count(("flaky", payload["n"])) <= 2:
        raise RuntimeError("receiver down")


def steady_receiver(payload):
    CALLS.append(("steady", payload["n"]))


def broken_receiver(payload):
    CALLS.append(("broken", payload["n"]))
    raise RuntimeError("always broken")


@pytest.fixture
def receivers():
    """Register receivers for `test_happened` for one test only."""
    registered = []

    def register(*functions):
        for function in functions:
            events.register("test_happened", function)
            registered.append(function)

    CALLS.clear()
    yield register
    for function in registered:
        events.unregister("test_happened", function)
    CALLS.clear()


def deliveries():
    return OutboxEntry.objects.filter(kind=OutboxKind.DELIVERY, name="test_happened")


def test_event_with_two_receivers_one_failing_twice_ends_with_both_run_once(
    receivers, django_capture_on_commit_callbacks
):
    receivers(f"{__name__}.flaky_receiver", f"{__name__}.steady_receiver")
    with django_capture_on_commit_callbacks(execute=True):
        event = outbox.record_event("test_happened", payload={"n": 7})
        assert CALLS == []  # nothing is delivered before commit
    assert deliveries().count() == 2  # one entry (and task) per receiver
    flaky = deliveries().get(receiver=f"{__name__}.flaky_receiver")
    steady = deliveries().get(receiver=f"{__name__}.steady_receiver")
    assert (flaky.state, flaky.attempts) == (OutboxState.PENDING, 1)
    assert "receiver down" in flaky.last_error
    steady.refresh_from_db()
    assert steady.state == OutboxState.DONE  # not held up by the failing one
    # Beat retries the failing delivery after its backoff, and only it.
    for later in (11, 60, 120):
        with time_machine.travel(dt.timedelta(seconds=later)):
            outbox_republish()
    flaky.refresh_from_db()
    assert (flaky.state, flaky.attempts) == (OutboxState.DONE, 3)
    assert CALLS.count(("steady", 7)) == 1
    assert CALLS.count(("flaky", 7)) == 3  # two failures, then its one successful run
    event.refresh_from_db()
    assert event.state == OutboxState.DONE


def test_an_event_delivered_twice_fans_out_once(receivers, django_capture_on_commit_callbacks):
    receivers(steady_receiver)  # the function itself, not its path
    with django_capture_on_commit_callbacks(execute=True):
        event = outbox.record_event("test_happened", payload={"n": 8})
    # The event's task arrives again (a redelivery), even after HQ's retry of it.
    outbox.run(event.pk)
    OutboxEntry.objects.filter(pk=event.pk).update(state=OutboxState.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.run(event.pk)
    assert deliveries().count() == 1
    assert CALLS == [("steady", 8)]


def test_a_receiver_failing_every_time_is_left_failed_and_the_others_done(
    receivers, django_capture_on_commit_callbacks
):
    receivers(broken_receiver, steady_receiver)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.record_event("test_happened", payload={"n": 9})
    broken = deliveries().get(receiver__endswith="broken_receiver")
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.run(broken.pk)
    broken.refresh_from_db()
    assert (broken.state, broken.attempts) == (OutboxState.FAILED, outbox.MAX_ATTEMPTS)
    assert "always broken" in broken.last_error
    assert deliveries().get(receiver__endswith="steady_receiver").state == OutboxState.DONE
    assert CALLS.count(("steady", 9)) == 1


def test_an_event_nobody_listens_to_is_done():
    event = outbox.record_event("nobody_listens", payload={})
    outbox.run(event.pk)
    event.refresh_from_db()
    assert event.state == OutboxState.DONE
    assert not OutboxEntry.objects.filter(kind=OutboxKind.DELIVERY).exists()


def test_only_module_level_functions_can_be_receivers():
    with pytest.raises(ValueError):
        events.register("test_happened", lambda payload: None)
    with pytest.raises(ValueError):
        events.register("test_happened", "not_a_path")
    assert events.receivers_for("test_happened") == []
