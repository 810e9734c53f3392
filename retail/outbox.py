"""The transactional outbox: side effects recorded with the change that caused them.

    outbox.enqueue_task("retail.messaging.message_deliver", kwargs={"message_id": 7})
    outbox.record_event("customer_merged", payload={"survivor_id": 1, "duplicate_id": 2})

Both write an `OutboxEntry` in the caller's transaction. After commit the entry
is published to Celery at once (`outbox_run`); if the broker is down the
publish fails quietly and the entry waits. The beat task `outbox_republish`
publishes what is due again. Running an entry is idempotent: an entry is locked,
done once, and a second delivery finds it done. A failure is retried with
exponential backoff, then left `failed` (visible in admin, with a retry action).

A task target is called as ``target(**kwargs)`` and must be idempotent. It may
carry an ``outbox_failed(error=..., final=..., **kwargs)`` function attribute:
called after each failed attempt (``final`` once no retry is left), in its own
savepoint, so the target can record the failure on its own rows (as
`retail.messaging` does on the message log).

Logs name entries by id and task only, never by their payload (it may hold
personal data).
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from retail import events
from retail.models import OutboxEntry, OutboxKind, OutboxState

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
REPUBLISH_AFTER = dt.timedelta(seconds=30)
PRUNE_AFTER = dt.timedelta(days=7)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the n-th failed attempt: 10 s, 20 s, 40 s … up to an hour."""
    return dt.timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


class OutboxError(ValueError):
    """A side effect that cannot be recorded (raised before anything is written)."""


def enqueue_task(name: str, *, kwargs: dict | None = None, key: str | None = None) -> OutboxEntry:
    """Record a task (a dotted path to a function or Celery task, called with `kwargs`).
    With a `key`, recording the same task twice records it once."""
    try:
        target = import_string(name)
    except ImportError as exc:
        raise OutboxError(f"There is no task {name!r} to record.") from exc
    if not callable(target):
        raise OutboxError(f"{name!r} is not a function or task.")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise OutboxError("A task's arguments are a dict of keyword arguments.")
    return _record(OutboxKind.TASK, name, kwargs or {}, key=key)


def record_event(name: str, *, payload: dict, key: str | None = None) -> OutboxEntry:
    """Record a domain event for the receivers registered in `retail.events`."""
    if not name:
        raise OutboxError("An event needs a name.")
    if not isinstance(payload, dict):
        raise OutboxError("An event's payload is a dict.")
    return _record(OutboxKind.EVENT, name, payload, key=key)


def _record(
    kind: str, name: str, payload: dict, *, key: str | None, receiver: str = ""
) -> OutboxEntry:
    if key is not None:
        entry, created = OutboxEntry.objects.get_or_create(
            key=key, defaults={"kind": kind, "name": name, "payload": payload, "receiver": receiver}
        )
        if not created:
            return entry
    else:
        entry = OutboxEntry.objects.create(kind=kind, name=name, payload=payload, receiver=receiver)
    transaction.on_commit(lambda: publish(entry.pk))
    return entry


def publish(entry_id: int) -> bool:
    """Hand the entry to Celery. Never raises: with the broker down it stays pending."""
    from retail.tasks import outbox_run

    marked = OutboxEntry.objects.filter(
        pk=entry_id, state__in=(OutboxState.PENDING, OutboxState.PUBLISHED)
    ).update(state=OutboxState.PUBLISHED, published_at=timezone.now())
    if not marked:
        return False
    try:
        outbox_run.apply_async(args=[entry_id], retry=False)
    except Exception as exc:  # the broker is unreachable: the beat task publishes it later
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


def run(entry_id: int) -> None:
    """Run one entry once (the body of the `outbox_run` task)."""
    with transaction.atomic():
        entry = OutboxEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None or entry.state in (OutboxState.DONE, OutboxState.FAILED):
            return
        try:
            with transaction.atomic():
                _execute(entry)
        except Exception as exc:
            entry.attempts += 1
            entry.last_error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
            final = entry.attempts >= MAX_ATTEMPTS
            if final:
                entry.state = OutboxState.FAILED
            else:
                entry.state = OutboxState.PENDING
                entry.available_at = timezone.now() + backoff(entry.attempts)
            logger.warning(
                "outbox: entry %s (%s) failed with %s, attempt %s%s",
                entry.pk,
                entry.name,
                type(exc).__name__,
                entry.attempts,
                " (no retry left)" if final else "",
            )
            _report_failure(entry, final=final)
        else:
            entry.state = OutboxState.DONE
            entry.done_at = timezone.now()
            entry.attempts += 1
        entry.save(update_fields=["state", "attempts", "last_error", "available_at", "done_at"])


def _execute(entry: OutboxEntry) -> None:
    if entry.kind == OutboxKind.TASK:
        import_string(entry.name)(**entry.payload)
    elif entry.kind == OutboxKind.EVENT:
        # Fan out: one delivery per receiver, each its own entry and task.
        for receiver in events.receivers_for(entry.name):
            _record(
                OutboxKind.DELIVERY,
                entry.name,
                entry.payload,
                key=f"event:{entry.pk}:{receiver}",
                receiver=receiver,
            )
    elif entry.kind == OutboxKind.DELIVERY:
        import_string(entry.receiver)(entry.payload)


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


def republish_due(now: dt.datetime | None = None) -> int:
    """Publish entries that are due: pending ones (after a broker outage or a failed
    attempt's backoff) and published ones that no worker ran in time."""
    now = now or timezone.now()
    due = list(
        OutboxEntry.objects.filter(state=OutboxState.PENDING, available_at__lte=now)
        .filter(created_at__lte=now - dt.timedelta(seconds=1))
        .values_list("pk", flat=True)[:1000]
    )
    stale = list(
        OutboxEntry.objects.filter(
            state=OutboxState.PUBLISHED, published_at__lte=now - REPUBLISH_AFTER * 10
        ).values_list("pk", flat=True)[:1000]
    )
    published = 0
    for entry_id in due + stale:
        published += publish(entry_id)
    return published


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
        state=OutboxState.PENDING, attempts=0, available_at=timezone.now(), last_error=""
    )
    transaction.on_commit(lambda: publish(entry.pk))
