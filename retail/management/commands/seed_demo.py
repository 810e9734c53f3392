"""`manage.py seed_demo [--scale small|large] [--force]`: one coherent demo network.

Each Aisle app seeds its own part in `<app>/demo.py`; this command finds those
modules at run time, in layer order, so retail never imports a higher app.
"""

from __future__ import annotations

import importlib
import importlib.util
import time

from allauth.mfa import app_settings as mfa_settings
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from retail.bulk import analyze_tables
from retail.demo import (
    DEMO_PASSWORD,
    HQ_EMAIL,
    HQ_TOTP_SECRET,
    SCALES,
    DemoContext,
    demo_logins_stores,
    hq_totp_code,
    staff_email,
)
from retail.roles import AISLE_APPS

# How many stores' logins the large scale prints before "… and N more".
SHOWN_STORES = 3


class Command(BaseCommand):
    help = (
        "Builds the demo network (stores, catalog, customers, staff and every app's own "
        "demo data) and prints the demo logins. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=SCALES,
            default="small",
            help="small: a few hundred SKUs and a year of history, about a minute to build "
            "(most of it the KPI rollups); large: 50 stores, 20,000+ SKUs, 100,000 "
            "customers, for benchmarks.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though DEBUG is off (for a benchmark or a staging database).",
        )

    def handle(self, *args, scale: str = "small", force: bool = False, **options):
        # call_command(scale=...) skips argparse's choices, so check here too.
        if scale not in SCALES:
            raise CommandError(
                _("Unknown scale %(scale)s: choose one of %(choices)s.")
                % {"scale": scale, "choices": ", ".join(SCALES)}
            )
        if not settings.DEBUG and not force:
            raise CommandError(
                _(
                    "Refusing to seed demo data while DEBUG is off: this may be a real "
                    "database. Run with --force if you are sure."
                )
            )
        ctx = DemoContext(scale=scale, stdout=self.stdout, style=self.style)
        started = time.monotonic()
        self.stdout.write(self.style.MIGRATE_HEADING(f"Seeding the {scale} demo network"))
        for name, module in self._demo_modules():
            step_started = time.monotonic()
            self.stdout.write(self.style.MIGRATE_LABEL(f"{name}.demo"))
            with transaction.atomic():
                module.seed(ctx)
            self.stdout.write(f"  done in {time.monotonic() - step_started:.1f} s")
        # Fresh planner statistics after a bulk load, so the first queries use the indexes.
        analyze_tables()
        self.stdout.write(
            self.style.SUCCESS(f"Demo network ready in {time.monotonic() - started:.1f} s.")
        )
        self._print_logins()

    def _demo_modules(self):
        """Each installed Aisle app's `demo` module, lowest layer first."""
        installed = {config.name: config for config in apps.get_app_configs()}
        for name in AISLE_APPS:
            if name in installed and importlib.util.find_spec(f"{name}.demo") is not None:
                module = importlib.import_module(f"{name}.demo")
                if callable(getattr(module, "seed", None)):
                    yield name, module

    def _print_logins(self) -> None:
        write, style = self.stdout.write, self.style
        write("")
        write(style.MIGRATE_HEADING(f"Demo logins (password for all: {DEMO_PASSWORD})"))
        write(f"  HQ admin     {HQ_EMAIL}")
        write(f"               TOTP secret (base32): {HQ_TOTP_SECRET}")
        period = mfa_settings.TOTP_PERIOD
        write(f"               current code: {hq_totp_code()} (changes every {period} s;")
        write("               a fresh one any time: .venv/bin/python manage.py demo_totp)")
        stores = demo_logins_stores()
        for store in stores[:SHOWN_STORES] if len(stores) > 5 else stores:
            write(f"  {store.code} {store.name}")
            for kind in ("manager", "associate", "starter", "kiosk"):
                write(f"      {kind:<10} {staff_email(kind, store.code)}")
        if len(stores) > 5:
            more = len(stores) - SHOWN_STORES
            write(f"  … and {more} more stores, same pattern (up to {stores[-1].code})")
            write(f"      extra associates: {staff_email('associate', 'S01', 2)}, …")
