"""The transactional outbox: side effects recorded with the change that caused them.

    outbox.enqueue_task("retail.messaging.message_deliver", kwargs={"message_id": 7})
    outbox.enqueue_task("retail.webhooks.webhooks_send", kwargs={...}, queue="webhooks")
    outbox.record_event("customer_merged", payload={"survivor_id": 1, "duplicate_id": 2})

Each writes an `OutboxEntry` in the caller's transaction. After commit the entry
is published to Celery at once, on its queue (the default one unless `queue` is
given). Publishing never holds a request up: the broker gets a short connect and
socket timeout and no retries, and once a publish fails this process stops trying
for `BROKER_PAUSE` (so a change that queued ten tasks pays for one failed attempt,
not ten); the entries stay `pending` and the beat task `outbox_republish` (every
5 s) publishes them when the broker is back. It also publishes again entries the
broker accepted but no worker took within `REPUBLISH_AFTER` (the broker lost its
queue), and entries whose worker died mid-run (their lease ran out).

**Running an entry** is three steps, so that no call out of the process (SMTP,
HTTP) ever happens inside a database transaction or under a row lock:
1. claim it in a short transaction: `running`, with a lease (`leased_until`) as
   long as the task may run; a second delivery of the same entry finds it leased
   or done and does nothing;
2. call the target outside any transaction (targets open their own: services are
   atomic; a target that calls out does so with no transaction open);
3. record the outcome in another short transaction.
A worker killed during step 2 leaves the entry leased; when the lease ends the beat
task publishes it again. Entries therefore run at least once, and every target is
idempotent. A failure is retried with exponential backoff, then left `failed`
(visible in admin, with a retry action).

A task target is called as ``target(**kwargs)``. It may carry an
``outbox_failed(error=..., final=..., **kwargs)`` function attribute: called after
each failed attempt (``final`` once no retry is left), in its own transaction, so
the target can record the failure on its own rows (as `retail.messaging` does on
the message log).

This module never imports `retail.tasks` (the tasks call the outbox): it publishes
the `outbox_run` task by name, or runs the entry in place when Celery is eager.

Logs name entries by id and task only, never by their payload (it may hold
personal data).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import traceback

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from retail import counters, events
from retail.celery import app as celery_app
from retail.models import OutboxEntry, OutboxKind, OutboxState

logger = logging.getLogger(__name__)

RUN_TASK = "retail.tasks.outbox_run"
# Entries the relay publishes per round and kind (a long outage drains in a few rounds).
RELAY_BATCH = 5000
MAX_ATTEMPTS = 8
# An entry the broker took but no worker claimed in this long is published again.
REPUBLISH_AFTER = dt.timedelta(seconds=60)
PRUNE_AFTER = dt.timedelta(days=7)
# After a failed publish, this process leaves publishing to the beat for this long.
BROKER_PAUSE = 5.0
# How much longer than its hard time limit a claimed entry stays leased.
LEASE_MARGIN = dt.timedelta(seconds=30)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the n-th failed attempt: 10 s, 20 s, 40 s … up to an hour."""
    return dt.timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


class OutboxError(ValueError):
    """A side effect that cannot be recorded (raised before anything is written)."""


def enqueue_task(
    name: str, *, kwargs: dict | None = None, key: str | None = None, queue: str | None = None
) -> OutboxEntry:
    """Record a task (a dotted path to a function or Celery task, called with `kwargs`),
    run on the Celery `queue` given (default: the default queue). With a `key`,
    recording the same task twice records it once."""
    try:
        target = import_string(name)
    except ImportError as exc:
        raise OutboxError(f"There is no task {name!r} to record.") from exc
    if not callable(target):
        raise OutboxError(f"{name!r} is not a function or task.")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise OutboxError("A task's arguments are a dict of keyword arguments.")
    return _record(OutboxKind.TASK, name, kwargs or {}, key=key, queue=queue or "")


def record_event(name: str, *, payload: dict, key: str | None = None) -> OutboxEntry:
    """Record a domain event for the receivers registered in `retail.events`."""
    if not name:
        raise OutboxError("An event needs a name.")
    if not isinstance(payload, dict):
        raise OutboxError("An event's payload is a dict.")
    return _record(OutboxKind.EVENT, name, payload, key=key)


def _record(
    kind: str, name: str, payload: dict, *, key: str | None, receiver: str = "", queue: str = ""
) -> OutboxEntry:
    fields = {"kind": kind, "name": name, "payload": payload, "receiver": receiver, "queue": queue}
    if key is not None:
        entry, created = OutboxEntry.objects.get_or_create(key=key, defaults=fields)
        if not created:
            return entry
    else:
        entry = OutboxEntry.objects.create(**fields)
    # Robust: the change has committed whatever happens next; a publish that fails
    # (the broker, or the database gone right after the commit) leaves the entry to
    # the relay and never turns the committed change into an error.
    transaction.on_commit(lambda: publish(entry.pk, queue=entry.queue), robust=True)
    return entry


# --- Publishing ------------------------------------------------------------------------

_paused_until = 0.0  # monotonic time until which this process does not try the broker


def _eager() -> bool:
    """Celery runs tasks in place (the embedded default, and tests)."""
    return bool(celery_app.conf.task_always_eager)


def broker_paused() -> bool:
    return time.monotonic() < _paused_until


def _pause_broker() -> None:
    global _paused_until
    _paused_until = time.monotonic() + BROKER_PAUSE


def _hand_to_broker(entry_id: int, queue: str) -> None:
    """Send the `outbox_run` message; raises when the broker cannot take it."""
    celery_app.send_task(RUN_TASK, args=[entry_id], queue=queue or None, retry=False)


def publish(entry_id: int, *, queue: str | None = None) -> bool:
    """Hand the entry to Celery (or run it here when Celery is eager). Never raises and
    never waits for a broker that is down: the entry then stays pending for the beat."""
    try:
        return _publish(entry_id, queue=queue)
    except DatabaseError as exc:  # the database went away after the commit: the relay's
        logger.warning(  # rules (pending, or published and never taken) bring it back
            "outbox: could not publish entry %s (%s)", entry_id, type(exc).__name__
        )
        return False


def _publish(entry_id: int, *, queue: str | None) -> bool:
    if _eager():
        run(entry_id)
        return True
    if broker_paused():
        return False
    if queue is None:
        queue = OutboxEntry.objects.filter(pk=entry_id).values_list("queue", flat=True).first()
        if queue is None:
            return False
    marked = OutboxEntry.objects.filter(
        pk=entry_id, state__in=(OutboxState.PENDING, OutboxState.PUBLISHED)
    ).update(state=OutboxState.PUBLISHED, published_at=timezone.now())
    if not marked:
        return False
    try:
        _hand_to_broker(entry_id, queue)
    except Exception as exc:  # the broker is unreachable: the beat task publishes it later
        _pause_broker()
        logger.warning(
            "outbox: could not publish entry %s (%s); it stays pending",
            entry_id,
            type(exc).__name__,
        )
        OutboxEntry.objects.filter(pk=entry_id, state=OutboxState.PUBLISHED).update(
            state=OutboxState.PENDING, published_at=None
        )
        return False
    return True


# --- Running ---------------------------------------------------------------------------


def lease_for(entry: OutboxEntry) -> dt.timedelta:
    """How long a claimed entry is held: its task's hard time limit and a margin."""
    limit = getattr(settings, "CELERY_TASK_TIME_LIMIT", None) or 300
    if entry.kind == OutboxKind.TASK:
        with contextlib.suppress(ImportError):
            limit = getattr(import_string(entry.name), "time_limit", None) or limit
    return dt.timedelta(seconds=limit) + LEASE_MARGIN


def _claim(entry_id: int) -> OutboxEntry | None:
    """Step 1: lease the entry to this worker, or None when it is done, failed, or
    leased to another worker that is still within its lease."""
    now = timezone.now()
    with transaction.atomic():
        entry = OutboxEntry.objects.select_for_update(skip_locked=True).filter(pk=entry_id).first()
        if entry is None or entry.state in (OutboxState.DONE, OutboxState.FAILED):
            return None
        if entry.state == OutboxState.RUNNING and entry.leased_until and entry.leased_until > now:
            return None
        entry.state = OutboxState.RUNNING
        entry.leased_until = now + lease_for(entry)
        entry.save(update_fields=["state", "leased_until"])
    return entry


def run(entry_id: int) -> None:
    """Run one entry once (the body of the `outbox_run` task): claim, call, record."""
    entry = _claim(entry_id)
    if entry is None:
        return
    try:
        _execute(entry)
    except Exception as exc:
        _record_failure(entry, exc)
    else:
        OutboxEntry.objects.filter(pk=entry.pk, state=OutboxState.RUNNING).update(
            state=OutboxState.DONE,
            done_at=timezone.now(),
            attempts=entry.attempts + 1,
            leased_until=None,
            last_error="",
        )


def _execute(entry: OutboxEntry) -> None:
    if entry.kind == OutboxKind.TASK:
        import_string(entry.name)(**entry.payload)
    elif entry.kind == OutboxKind.EVENT:
        # Fan out: one delivery per receiver, each its own entry and task.
        with transaction.atomic():
            for receiver in events.receivers_for(entry.name):
                _record(
                    OutboxKind.DELIVERY,
                    entry.name,
                    entry.payload,
                    key=f"event:{entry.pk}:{receiver}",
                    receiver=receiver,
                )
    elif entry.kind == OutboxKind.DELIVERY:
        # Receivers only change data through services; all or nothing.
        with transaction.atomic():
            import_string(entry.receiver)(entry.payload)


def _record_failure(entry: OutboxEntry, exc: Exception) -> None:
    """Step 3 after a failure: back off and retry, or give up after MAX_ATTEMPTS."""
    attempts = entry.attempts + 1
    error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
    final = attempts >= MAX_ATTEMPTS
    changes = {"attempts": attempts, "last_error": error, "leased_until": None}
    if final:
        changes["state"] = OutboxState.FAILED
    else:
        changes["state"] = OutboxState.PENDING
        changes["available_at"] = timezone.now() + backoff(attempts)
    OutboxEntry.objects.filter(pk=entry.pk, state=OutboxState.RUNNING).update(**changes)
    counters.task_failures.labels(
        task=entry.name if entry.kind == OutboxKind.TASK else entry.kind
    ).inc()
    logger.warning(
        "outbox: entry %s (%s) failed with %s, attempt %s%s",
        entry.pk,
        entry.name,
        type(exc).__name__,
        attempts,
        " (no retry left)" if final else "",
    )
    entry.attempts, entry.last_error = attempts, error
    _report_failure(entry, final=final)


def _report_failure(entry: OutboxEntry, *, final: bool) -> None:
    """Tell a task target that an attempt failed, when it asks to know (`outbox_failed`)."""
    if entry.kind != OutboxKind.TASK:
        return
    try:
        hook = getattr(import_string(entry.name), "outbox_failed", None)
        if hook is not None:
            with transaction.atomic():
                hook(error=entry.last_error, final=final, **entry.payload)
    except Exception as exc:  # the entry's own failure is what counts; never mask it
        logger.warning(
            "outbox: failure report of entry %s failed with %s", entry.pk, type(exc).__name__
        )


# --- The relay (beat) ------------------------------------------------------------------


def republish_due(now: dt.datetime | None = None) -> int:
    """Publish entries that are due: pending ones (after a broker outage or a failed
    attempt's backoff), published ones that no worker took in time (the broker lost
    them), and running ones whose worker died (the lease ran out)."""
    now = now or timezone.now()
    due = list(
        OutboxEntry.objects.filter(state=OutboxState.PENDING, available_at__lte=now)
        .filter(created_at__lte=now - dt.timedelta(seconds=1))
        .order_by("available_at", "pk")
        .values_list("pk", "queue")[:RELAY_BATCH]
    )
    lost = list(
        OutboxEntry.objects.filter(
            state=OutboxState.PUBLISHED, published_at__lte=now - REPUBLISH_AFTER
        ).values_list("pk", "queue")[:RELAY_BATCH]
    )
    orphaned = list(
        OutboxEntry.objects.filter(state=OutboxState.RUNNING, leased_until__lte=now).values_list(
            "pk", "queue"
        )[:RELAY_BATCH]
    )
    if orphaned:
        OutboxEntry.objects.filter(
            pk__in=[pk for pk, _q in orphaned], state=OutboxState.RUNNING, leased_until__lte=now
        ).update(state=OutboxState.PENDING, leased_until=None)
    global _paused_until
    _paused_until = 0.0  # the relay tries the broker again; one failure stops this round
    published = 0
    for entry_id, queue in due + lost + orphaned:
        if broker_paused() and not _eager():
            break
        published += publish(entry_id, queue=queue)
    return published


def backlog() -> dict:
    """What waits (pending and published entries; `retrying` of them after a failed
    attempt), the oldest waiting one's age in seconds, running and failed counts:
    the outbox's figures in `/metrics`. One query."""
    waiting = Q(state__in=(OutboxState.PENDING, OutboxState.PUBLISHED))
    row = OutboxEntry.objects.aggregate(
        waiting=Count("pk", filter=waiting),
        retrying=Count("pk", filter=waiting & Q(attempts__gt=0)),
        running=Count("pk", filter=Q(state=OutboxState.RUNNING)),
        failed=Count("pk", filter=Q(state=OutboxState.FAILED)),
        oldest=Min("created_at", filter=waiting),
    )
    oldest = row.pop("oldest")
    row["oldest_seconds"] = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return row


def prune(now: dt.datetime | None = None) -> int:
    """Delete entries done long ago."""
    now = now or timezone.now()
    deleted, _ = OutboxEntry.objects.filter(
        state=OutboxState.DONE, done_at__lt=now - PRUNE_AFTER
    ).delete()
    return deleted


def retry(entry: OutboxEntry) -> None:
    """HQ's retry of a failed entry: a fresh set of attempts, published after commit."""
    OutboxEntry.objects.filter(pk=entry.pk).update(
        state=OutboxState.PENDING,
        attempts=0,
        available_at=timezone.now(),
        last_error="",
        leased_until=None,
    )
    transaction.on_commit(lambda: publish(entry.pk))
