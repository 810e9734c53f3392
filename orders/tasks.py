"""Celery tasks of orders. A task takes ids, loads rows, calls a service, returns."""

from celery import shared_task

from orders import pickup


@shared_task(name="orders.tasks.pickups_sweep", ignore_result=True)
def pickups_sweep() -> dict[str, int]:
    """Beat: remind customers a day before their pickup's hold ends (in store hours),
    then expire the pickups whose hold has ended. Idempotent; catches up after a
    missed beat."""
    return pickup.pickups_sweep()
