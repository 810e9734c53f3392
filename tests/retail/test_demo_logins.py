"""A newcomer can sign in with what `seed_demo` prints and the README lists (issue
#21, finding 7): every demo login of the printed list exists, the starter included,
and `demo_totp` prints a code HQ's TOTP check accepts now."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management import call_command

from retail.models import User

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def printed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        out = StringIO()
        call_command("seed_demo", force=True, stdout=out)
        yield out.getvalue()
        call_command("flush", interactive=False, verbosity=0)


def test_every_printed_login_exists_and_the_readme_lists_each_kind(printed):
    emails = set(re.findall(r"[\w.]+@demo\.aisle", printed))
    assert {"hq@demo.aisle", "starter.s01@demo.aisle", "kiosk.s05@demo.aisle"} <= emails
    assert set(User.objects.filter(email__in=emails).values_list("email", flat=True)) == emails
    readme = README.read_text(encoding="utf-8")
    for kind in ("hq@", "manager.s01@", "associate.s01@", "starter.s01@", "kiosk.s01@"):
        assert f"`{kind}demo.aisle`" in readme, kind
    assert "PORT=" in readme and "demo_totp" in readme


def test_demo_totp_prints_a_code_the_hq_login_accepts_now(printed):
    hq = User.objects.get(email="hq@demo.aisle")
    authenticator = Authenticator.objects.get(user=hq, type=Authenticator.Type.TOTP)
    # The clock stands still 10 s into a 30 s period: the check never straddles a change.
    with time_machine.travel(dt.datetime(2026, 12, 4, 9, 0, 10, tzinfo=dt.UTC), tick=False):
        out = StringIO()
        call_command("demo_totp", stdout=out)
        match = re.fullmatch(
            r"hq@demo\.aisle: (\d{6}) \(valid for (\d+) more s\)\n", out.getvalue()
        )
        assert match, out.getvalue()
        assert match.group(2) == "20"
        assert TOTP(authenticator).validate_code(match.group(1))
    assert "demo_totp" in printed
