"""Celery tasks of the core. A task takes ids, loads rows, calls a service, returns.

The tasks call the outbox; the outbox publishes `outbox_run` by its name and never
imports this module."""

from celery import shared_task
from django.conf import settings

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


@shared_task(
    name="retail.tasks.import_job_run",
    ignore_result=True,
    time_limit=settings.AISLE_IMPORT_TIME_LIMIT,
)
def import_job_run(job_id: int, apply: bool = False) -> None:
    """Check (a dry run) or apply one import job; queued through the outbox on the
    imports queue (`retail.imports.jobs`). A job already applied is left alone."""
    from retail.imports import jobs

    jobs.job_run(job_id=job_id, apply=apply)
