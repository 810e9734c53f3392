"""`manage.py demo_totp`: the demo HQ login's current TOTP code, for signing in to
`/hq/` without an authenticator app (the code `seed_demo` printed is stale after
30 seconds). It knows only the demo's fixed secret: it cannot make a code for any
real account."""

from __future__ import annotations

import time

from allauth.mfa import app_settings as mfa_settings
from django.core.management.base import BaseCommand

from retail.demo import HQ_EMAIL, hq_totp_code


class Command(BaseCommand):
    help = "Print the demo HQ login's current TOTP code and how long it stays valid."

    def handle(self, *args, **options):
        period = mfa_settings.TOTP_PERIOD
        now = time.time()
        left = period - int(now) % period
        self.stdout.write(f"{HQ_EMAIL}: {hq_totp_code(now)} (valid for {left} more s)")
