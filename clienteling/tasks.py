"""Clienteling's Celery tasks (beat): retention, the events' monthly partitions and the
recommendation rebuild."""

from celery import shared_task


@shared_task(name="clienteling.tasks.browsing_purge", ignore_result=True)
def browsing_purge() -> int:
    """Beat, nightly: delete browsing older than HQ's retention period."""
    from clienteling import services

    return services.browsing_purge()


@shared_task(name="clienteling.tasks.browsing_partitions_ahead", ignore_result=True)
def browsing_partitions_ahead() -> list[str]:
    """Beat, daily: the events table's partitions for this month and the next ones
    (PostgreSQL; idempotent, nothing on SQLite)."""
    from clienteling import partitions

    return partitions.partitions_create_ahead()


@shared_task(
    name="clienteling.tasks.recommendations_rebuild",
    ignore_result=True,
    soft_time_limit=900,
    time_limit=1000,
)
def recommendations_rebuild() -> int:
    """Beat, and after large ingests: rebuild the product affinities."""
    from clienteling import recommendations

    return recommendations.rebuild()


@shared_task(name="clienteling.tasks.appointments_release_ended", ignore_result=True)
def appointments_release_ended() -> int:
    """Beat, every five minutes: units set aside for appointments that have ended go
    back to the shelf (idempotent: each is released once)."""
    from clienteling.appointments import services

    return services.appointments_release_ended()


@shared_task(name="clienteling.tasks.appointments_remind", ignore_result=True)
def appointments_remind() -> int:
    """Beat, every ten minutes: the customers' reminders the day before their
    appointment, inside the store's opening hours (each once)."""
    from clienteling.appointments import mail

    return mail.appointments_remind()


@shared_task(name="clienteling.tasks.appointments_prepare", ignore_result=True)
def appointments_prepare() -> int:
    """Beat, hourly: a follow-up task for the assigned associate to prepare each
    appointment of tomorrow (once per appointment)."""
    from clienteling.appointments import associate

    return associate.appointments_prepare()
