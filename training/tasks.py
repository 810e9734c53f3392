"""Training's Celery tasks. Each takes ids, calls a service and returns; running
one twice changes nothing the second time."""

from celery import shared_task

from training import services


@shared_task(name="training.tasks.reminder_deliver", acks_late=True, ignore_result=True)
def reminder_deliver(reminder_id: int) -> None:
    """Outbox task: send one certificate reminder e-mail, once."""
    services.reminder_deliver(reminder_id=reminder_id)


def _reminder_failed(*, reminder_id: int, error: str, final: bool) -> None:
    services.certificates.reminder_failed(reminder_id=reminder_id, error=error, final=final)


# The outbox tells a task target about failed attempts through this attribute.
reminder_deliver.outbox_failed = _reminder_failed


@shared_task(name="training.tasks.certification_reminders", ignore_result=True)
def certification_reminders() -> int:
    """Beat: queue reminders for certificates expiring within 30 days (each once)."""
    return services.reminders_queue()


@shared_task(name="training.tasks.certifications_lapse", ignore_result=True)
def certifications_lapse() -> int:
    """Beat: lapse expired certificates and lower the levels they held up."""
    return services.certifications_lapse_due()


@shared_task(name="training.tasks.onboard_new_staff", ignore_result=True)
def onboard_new_staff() -> int:
    """Beat: put new starters on the onboarding path."""
    return services.onboard_new_staff()


@shared_task(name="training.tasks.skills_snapshot", ignore_result=True)
def skills_snapshot() -> int:
    """Beat: record the last completed quarter's skills snapshot for the network trend."""
    return services.snapshot_due()
