"""Celery tasks of orders. A task takes ids, loads rows, calls a service, returns."""

from celery import shared_task

from orders import pickup, promises


@shared_task(name="orders.tasks.pickups_sweep", ignore_result=True)
def pickups_sweep() -> dict[str, int]:
    """Beat: remind customers a day before their pickup's hold ends (in store hours),
    then expire the pickups whose hold has ended. Idempotent; catches up after a
    missed beat."""
    return pickup.pickups_sweep()


@shared_task(name="orders.tasks.promises_watch", ignore_result=True)
def promises_watch() -> int:
    """Beat: tell customers, once and before the date passes, that a promise made to
    them will not be kept."""
    return promises.promises_watch()
