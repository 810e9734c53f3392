"""Celery tasks of returns. A task takes ids, loads rows, calls a service, returns."""

from celery import shared_task

from returns import kiosk


@shared_task(name="returns.tasks.kiosk_returns_expire", ignore_result=True)
def kiosk_returns_expire() -> int:
    """Beat: cancel the kiosk returns not finished at the counter on the local day they
    were started, freeing their units. Idempotent; catches up after a missed beat."""
    return kiosk.kiosk_returns_expire()
