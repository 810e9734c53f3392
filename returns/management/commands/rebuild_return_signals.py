"""`manage.py rebuild_return_signals`: recount the abuse signals' tallies from history."""

import time

from django.core.management.base import BaseCommand

from returns.risk import tally


class Command(BaseCommand):
    help = (
        "Recounts every customer's monthly return tallies (the abuse signals) from the "
        "orders and completed returns in the database, replacing what is there."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch", type=int, default=500, help="Orders or returns read at a time."
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        done = tally.rebuild(batch=max(1, options["batch"]), write=self.stdout.write)
        self.stdout.write(
            f"{done['orders']} orders and {done['returns']} returns counted in "
            f"{time.monotonic() - started:.1f} s"
        )
