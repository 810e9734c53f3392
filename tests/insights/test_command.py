"""`manage.py kpis`: one JSON document, bad input refused with a clear message."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def run(*args) -> dict:
    out = io.StringIO()
    call_command("kpis", *args, stdout=out)
    return json.loads(out.getvalue())


def test_kpis_prints_every_kpi_and_segment_as_json(world):
    doc = run("--from", "2026-12-01", "--to", "2026-12-03", "--refresh")
    assert doc["period"] == {"from": "2026-12-01", "to": "2026-12-03"}
    assert doc["currency"] == "EUR"
    # Worked out in test_kpis.py: 450 kept − 30 refunded for a return.
    assert doc["revenue"]["total"] == "420.00"
    assert doc["revenue"]["by_channel"] == {"app": "0.00", "store": "230.00", "web": "190.00"}
    assert doc["revenue"]["by_store"] == {"NY": "30.00", "SH": "280.00"}
    assert doc["returns"]["refunded"] == "30.00"
    assert doc["returns"]["rate"] == 0.1
    assert doc["segments"] == {
        "webroomers": 1,
        "showroomers": 1,
        "web_only": 1,
        "store_only": 1,
        "omnichannel": 2,
        "browsers": 1,
    }
    for name in (
        "store_influenced_online",
        "fulfilment_mix",
        "webrooming",
        "showrooming",
        "conversion",
        "clv",
        "loyalty",
        "fulfilment",
        "people",
        "incentives",
    ):
        assert name in doc, name
    assert doc["clv"]["historic"] == "91.67"
    assert doc["fulfilment"]["SH"]["ready_hours_p50"] == 3.0


def test_kpis_for_one_store(world):
    doc = run("--from", "2026-12-01", "--to", "2026-12-03", "--store", "sh", "--refresh")
    assert doc["store"] == "SH"
    assert doc["revenue"]["total"] == "280.00"
    assert doc["revenue"]["by_store"] == {"SH": "280.00"}


def test_kpis_defaults_to_today(world):
    from insights.dates import today

    doc = run()
    assert doc["period"] == {"from": today().isoformat(), "to": today().isoformat()}
    assert doc["revenue"]["total"] == "0.00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-12-03", "--to", "2026-12-01"], "The period is reversed"),
        (["--from", "2999-01-01"], "The period is in the future"),
        (["--to", "2999-01-01"], "The period is in the future"),
        (["--store", "NOPE"], "There is no store with the code NOPE."),
        (["--from", "1 Dec"], "--from must be a date written YYYY-MM-DD"),
    ],
)
def test_bad_input_is_a_clear_command_error(world, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_bad_input_exits_non_zero():
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "manage.py", "kpis", "--from", "2026-12-03", "--to", "2026-12-01"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )
    assert result.returncode != 0
    assert "The period is reversed" in result.stderr
    assert result.stdout == ""


def test_a_bad_reporting_time_zone_or_window_fails_the_system_check(settings):
    from insights.checks import reporting_settings

    assert reporting_settings() == []
    settings.AISLE_REPORTING_TIME_ZONE = "Mars/Olympus"
    settings.AISLE_INSIGHTS_WINDOW_DAYS = 0
    assert [e.id for e in reporting_settings()] == ["aisle.E101", "aisle.E102"]


def test_the_first_refresh_builds_everything_and_says_so_on_stderr(world):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "kpis", "--from", "2026-12-01", "--to", "2026-12-03", "--refresh", stdout=out, stderr=err
    )
    assert json.loads(out.getvalue())["revenue"]["total"] == "420.00"
    assert "customers: 8/8" in err.getvalue()
