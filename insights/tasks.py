"""Insights' Celery task (beat): bring the rollups up to date."""

from celery import shared_task


@shared_task(
    name="insights.tasks.rollups_refresh", ignore_result=True, soft_time_limit=600, time_limit=660
)
def rollups_refresh() -> dict:
    """Beat, every five minutes: today's keys, customers with new browsing or sessions,
    and every key and customer that domain events marked dirty."""
    from insights import rollups

    return rollups.refresh()
