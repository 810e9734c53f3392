"""Stores in bulk, with their opening hours in one cell."""

from __future__ import annotations

import datetime as dt

import pytest

from retail.imports.stores import HoursError, parse_week, week_text
from retail.models import OpeningHours, Store
from tests import factories
from tests.retail.import_files import column, csv_file, export_to, run

pytestmark = pytest.mark.django_db

T = dt.time


def test_a_week_reads_and_writes_back_the_same():
    week = parse_week("Mon-Fri 09:00-19:00; Sat 10:00-18:00; Sun closed")
    assert week == {d: (T(9), T(19)) for d in range(5)} | {5: (T(10), T(18))}
    assert week_text(week) == "Mon-Fri 09:00-19:00; Sat 10:00-18:00; Sun closed"
    assert parse_week(week_text(week)) == week
    assert week_text({}) == "Mon-Sun closed"
    assert parse_week("mon - wed 9:30–17:00;thu 09:00-12:00") == {
        0: (T(9, 30), T(17)),
        1: (T(9, 30), T(17)),
        2: (T(9, 30), T(17)),
        3: (T(9), T(12)),
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Mon-Fri 9-19", "is not opening hours"),
        ("Mon-Fri 19:00-09:00", "closes before it opens"),
        ("Mon-Fri 09:00-19:00; Fri 10:00-12:00", "Fri is given twice"),
        ("Fri-Mon 09:00-19:00", "runs backwards"),
        ("Mo 09:00-19:00", "is not a day"),
        ("Mon 25:00-26:00", "is not opening hours"),
        ("every day", "is not a day"),
        ("09:00-19:00", "is not days and hours"),
    ],
)
def test_hours_are_parsed_strictly(text, words):
    with pytest.raises(HoursError) as caught:
        parse_week(text)
    assert any(words in m for m in caught.value.messages), caught.value.messages


HEADER = [
    "code",
    "name",
    "address_line1",
    "city",
    "postcode",
    "country",
    "time_zone",
    "latitude",
    "longitude",
    "pickup",
    "opening_hours",
]


def test_a_new_store_comes_with_its_hours(tmp_path):
    path = csv_file(
        tmp_path,
        [
            HEADER,
            [
                "s09",
                "Lyon Part-Dieu",
                "1 Rue Servient",
                "Lyon",
                "69003",
                "fr",
                "Europe/Paris",
                "45.760600",
                "4.857500",
                "yes",
                "Mon-Sat 10:00-20:00; Sun closed",
            ],
        ],
    )
    report = run("stores", path)
    assert report.summary()["created"] == 1, report.errors
    store = Store.objects.get(code="S09")
    assert (store.country, store.pickup_enabled, store.pickup_hold_days) == ("FR", True, 7)
    assert sorted(OpeningHours.objects.filter(store=store).values_list("weekday", flat=True)) == [
        0,
        1,
        2,
        3,
        4,
        5,
    ]


def test_round_trip_changes_only_the_edited_hours(tmp_path):
    for code, name in (("S01", "Paris Rivoli"), ("S02", "Paris Opéra")):
        factories.store_location(
            factories.StoreFactory(code=code, name=name), time_zone="Europe/Paris"
        )

    def edit(rows):
        [s02] = [r for r in rows if r[0] == "S02"]
        s02[column(rows, "opening_hours")] = "Mon-Sat 09:00-20:00; Sun closed"

    report = run("stores", export_to(tmp_path, "stores", edit=edit))
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 1}
    [change] = report.changes
    assert change.changes == {
        "opening_hours": (
            "Mon-Sat 09:00-20:00; Sun 09:00-17:00",
            "Mon-Sat 09:00-20:00; Sun closed",
        )
    }
    assert not OpeningHours.objects.filter(store__code="S02", weekday=6).exists()
    assert OpeningHours.objects.filter(store__code="S01", weekday=6).exists()
    assert run("stores", export_to(tmp_path, "stores", "again.csv")).summary()["unchanged"] == 2


def test_bad_store_rows_are_reported_by_column(tmp_path):
    path = csv_file(
        tmp_path,
        [
            HEADER,
            [
                "S09",
                "Lyon",
                "1 Rue",
                "Lyon",
                "69003",
                "France",
                "Mars/Olympus",
                "95",
                "4.8",
                "maybe",
                "Mon-Fri 09:00",
            ],
        ],
    )
    report = run("stores", path)
    assert report.state == "refused"
    assert set(report.errors[2]) == {
        "country",
        "time_zone",
        "latitude",
        "pickup",
        "opening_hours",
    }
    assert not Store.objects.filter(code="S09").exists()
