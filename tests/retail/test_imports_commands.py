"""`import_data` and `export_data`: exit codes, progress and summary, idempotent re-runs."""

from __future__ import annotations

import io
import subprocess
import sys
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from retail.models import Category
from tests import factories
from tests.retail.import_files import csv_file

pytestmark = pytest.mark.django_db


def command(*args, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def good(tmp_path):
    return csv_file(
        tmp_path,
        [["code", "name", "tax_rate"], ["knit", "Knitwear", "20"], ["home", "Home", "10"]],
        "categories.csv",
    )


def test_import_prints_progress_and_a_summary_and_a_rerun_changes_nothing(good):
    out, err = command("import_data", "categories", str(good))
    assert out.strip() == "Imported categories.csv: 2 created, 0 updated, 0 unchanged (2 rows)."
    assert "validating: 2 of 2 rows (100%)" in err
    assert "applying: 2 of 2 rows (100%)" in err
    out, _err = command("import_data", "categories", str(good))
    assert out.strip() == "Imported categories.csv: 0 created, 0 updated, 2 unchanged (2 rows)."


def test_a_dry_run_applies_nothing(good):
    out, _err = command("import_data", "categories", str(good), "--dry-run", verbosity=2)
    assert "row 2, knit: created" in out
    assert out.strip().endswith(
        "Dry run of categories.csv: 2 to create, 0 to update, 0 unchanged (2 rows); "
        "nothing was applied."
    )
    assert not Category.objects.exists()


def test_a_refused_file_exits_1_listing_every_error(tmp_path):
    path = csv_file(
        tmp_path,
        [["code", "name", "tax_rate"], ["knit", "Knitwear", "20"], ["home", "Home", "-1.005"]],
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_data", "categories", str(path), stdout=out, stderr=err)
    assert caught.value.returncode == 1
    assert "row 3, tax_rate: “-1.005” has more than 2 decimals." in err.getvalue()
    assert out.getvalue().strip() == "Refused: 1 error; nothing was applied."
    assert not Category.objects.exists()


def test_file_errors_exit_2(tmp_path, settings):
    with pytest.raises(CommandError) as caught:
        command("import_data", "categories", str(tmp_path / "missing.csv"))
    assert caught.value.returncode == 2
    big = csv_file(tmp_path, [["code", "name", "tax_rate"], ["knit", "Knitwear", "20"]])
    settings.AISLE_IMPORT_MAX_BYTES = 10
    with pytest.raises(CommandError) as caught:
        command("import_data", "categories", str(big))
    assert caught.value.returncode == 2
    assert "up to 10" in str(caught.value)


def test_a_usage_error_exits_2_from_the_command_line():
    done = subprocess.run(
        [sys.executable, "manage.py", "import_data", "recipes", "x.csv"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "invalid choice: 'recipes'" in done.stderr


def test_export_writes_csv_to_stdout_and_xlsx_to_a_file(tmp_path):
    factories.CategoryFactory(code="knit", name="Knitwear", tax_rate=Decimal("20"))
    out, _err = command("export_data", "categories")
    assert out.splitlines() == ["code,name,name_zh,tax_rate", "knit,Knitwear,,20.00"]
    target = tmp_path / "categories.xlsx"
    _out, err = command("export_data", "categories", "-o", str(target))
    assert "Wrote 1 row to" in err
    sheet = openpyxl.load_workbook(target).active
    assert [c.value for c in sheet[2]] == ["knit", "Knitwear", None, "20.00"]
    out, _err = command("import_data", "categories", str(target))
    assert "0 created, 0 updated, 1 unchanged" in out
