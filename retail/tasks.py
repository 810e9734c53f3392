"""Celery tasks of the core. A task takes ids, loads rows, calls a service, returns.

The tasks call the outbox; the outbox publishes `outbox_run` by its name and never
imports this module."""

from celery import shared_task

from retail import outbox


@shared_task(name=outbox.RUN_TASK, acks_late=True, ignore_result=True)
def outbox_run(entry_id: int) -> None:
    outbox.run(entry_id)


@shared_task(name="retail.tasks.outbox_republish", ignore_result=True)
def outbox_republish() -> int:
    """Beat: publish what a broker outage, a lost queue or a dead worker left waiting."""
    return outbox.republish_due()


@shared_task(name="retail.tasks.outbox_prune", ignore_result=True)
def outbox_prune() -> int:
    """Beat: forget entries done long ago."""
    return outbox.prune()
