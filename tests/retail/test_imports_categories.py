"""Categories in bulk: round trip, idempotent re-run, duplicates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retail.models import AuditLog, Category
from tests import factories
from tests.retail.import_files import column, csv_file, export_to, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def categories():
    knit = factories.CategoryFactory(code="knit", name="Knitwear", tax_rate=Decimal("20.00"))
    factories.CategoryTranslationFactory(category=knit, language="zh-hans", name="针织")
    factories.CategoryFactory(code="books", name="Books", tax_rate=Decimal("5.50"))
    return knit


def test_round_trip_changes_exactly_the_edited_cell(tmp_path, categories):
    def edit(rows):
        [books] = [r for r in rows if r[0] == "books"]
        books[column(rows, "tax_rate")] = "7.00"

    path = export_to(tmp_path, "categories", edit=edit)
    report = run("categories", path)
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 1}
    [change] = report.changes
    assert (change.label, change.changes) == (
        "books",
        {"tax_rate": (Decimal("5.50"), Decimal("7.00"))},
    )
    assert Category.objects.get(code="books").tax_rate == Decimal("7.00")
    assert Category.objects.get(code="knit").translations.get().name == "针织"
    assert AuditLog.objects.filter(action="category.import_update").count() == 1


def test_the_same_file_twice_changes_nothing_the_second_time(tmp_path, categories):
    path = csv_file(
        tmp_path,
        [
            ["code", "name", "name_zh", "tax_rate"],
            ["home", "Home", "家居", "10"],
            ["knit", "Knits", "", "20"],
        ],
    )
    assert run("categories", path).summary() == {"created": 1, "updated": 1, "unchanged": 0}
    assert run("categories", path).summary() == {"created": 0, "updated": 0, "unchanged": 2}
    assert Category.objects.get(code="knit").translations.get().name == "针织"  # empty keeps


def test_dry_run_shows_the_changes_and_writes_nothing(tmp_path, categories):
    path = csv_file(tmp_path, [["code", "name", "tax_rate"], ["home", "Home", "10"]])
    report = run("categories", path, dry_run=True)
    assert report.state == "checked"
    assert report.summary() == {"created": 1, "updated": 0, "unchanged": 0}
    assert not Category.objects.filter(code="home").exists()


def test_duplicate_rows_are_refused_by_row(tmp_path, categories):
    path = csv_file(
        tmp_path,
        [
            ["code", "name", "tax_rate"],
            ["home", "Home", "10"],
            ["home", "Home", "10"],
            ["home", "Maison", "10"],
        ],
    )
    report = run("categories", path)
    assert report.state == "refused"
    assert report.errors == {
        3: {"code": ["This row repeats row 2; give each row once."]},
        4: {"code": ["home is also on row 2; give it once."]},
    }
    assert not Category.objects.filter(code="home").exists()


def test_a_bad_row_refuses_the_whole_file(tmp_path, categories):
    path = csv_file(
        tmp_path,
        [["code", "name", "tax_rate"], ["home", "Home", "10"], ["bad code!", "X", "120"]],
    )
    report = run("categories", path)
    assert report.state == "refused"
    assert set(report.errors[3]) == {"code", "tax_rate"}
    assert not Category.objects.filter(code="home").exists()
