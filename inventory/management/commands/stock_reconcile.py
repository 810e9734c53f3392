"""`manage.py stock_reconcile`: recompute every stock figure from the ledger."""

import sys

from django.core.management.base import BaseCommand

from inventory.reconcile import ledger_drift


class Command(BaseCommand):
    help = "Recomputes on-hand and reserved figures from the stock ledger; exits 1 on any drift."

    def handle(self, *args, **options):
        drift = ledger_drift()
        if not drift:
            self.stdout.write(self.style.SUCCESS("The stock ledger reconciles: no drift."))
            return
        self.stdout.write(self.style.ERROR(f"{len(drift)} stock figure(s) drift from the ledger:"))
        for d in drift[:200]:
            self.stdout.write(
                f"  {d.location} {d.sku}: on hand {d.on_hand} (ledger {d.ledger_on_hand}), "
                f"reserved {d.reserved} (ledger {d.ledger_reserved})"
            )
        sys.exit(1)
