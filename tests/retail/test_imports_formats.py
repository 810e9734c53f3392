"""Reading and writing import files: encodings, separators, headers, formulas, sizes."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from retail.imports import formats
from retail.models import Category
from tests import factories
from tests.retail.import_files import csv_file, exported, exported_rows, run, xlsx_file

pytestmark = pytest.mark.django_db

HEADER = ["code", "name", "name_zh", "tax_rate"]


def test_a_file_with_a_byte_order_mark_and_semicolons_is_read(tmp_path):
    path = csv_file(
        tmp_path,
        [HEADER, ["knit", "Knitwear", "针织", "20.00"]],
        delimiter=";",
        bom=True,
    )
    report = run("categories", path)
    assert report.state == "applied", report.errors
    category = Category.objects.get(code="knit")
    assert (category.name, category.tax_rate) == ("Knitwear", Decimal("20.00"))
    assert category.translations.get().name == "针织"


def test_a_file_not_in_utf8_is_refused_naming_the_line(tmp_path):
    path = csv_file(
        tmp_path,
        [HEADER, ["knit", "Knitwear", "", "20"], ["home", "Maison décor", "", "10"]],
        encoding="latin-1",
    )
    report = run("categories", path)
    assert report.state == "refused"
    [(row, columns)] = report.errors.items()
    assert row == 3
    [message] = columns[""]
    assert "not in UTF-8" in message and "line 3" in message and "0xE9" in message
    assert not Category.objects.exists()


def test_a_utf16_file_is_refused_in_words(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("code,name,tax_rate\r\nknit,Knit,20\r\n".encode("utf-16"))
    report = run("categories", path)
    assert report.state == "refused"
    assert "UTF-16" in report.errors[1][""][0]


def test_header_is_matched_trimmed_and_in_any_case(tmp_path):
    path = csv_file(tmp_path, [[" Code ", "NAME", "Tax_Rate"], ["knit", "Knitwear", "20"]])
    assert run("categories", path).state == "applied"


def test_a_missing_or_renamed_column_is_reported_by_name(tmp_path):
    path = csv_file(tmp_path, [["code", "title", "tax_rate"], ["knit", "Knitwear", "20"]])
    report = run("categories", path)
    assert report.state == "refused"
    header = report.errors[1]
    assert "The column “name” is missing; the file has: code, title, tax_rate." in header["name"]
    assert header["title"][0].startswith("Unknown column “title”")
    assert not Category.objects.exists()


def test_a_column_given_twice_is_refused(tmp_path):
    path = csv_file(tmp_path, [["code", "name", "name", "tax_rate"], ["k", "K", "K", "20"]])
    report = run("categories", path)
    assert "is there twice" in report.errors[1]["name"][0]


def test_empty_rows_are_skipped_and_rows_numbered_as_a_spreadsheet_shows_them(tmp_path):
    path = csv_file(
        tmp_path,
        [
            HEADER,
            ["knit", "Knitwear", "", "20"],
            ["", "", "", ""],
            ["home", "Home", "", "abc"],
            [],
            [],
        ],
    )
    report = run("categories", path)
    assert report.rows == 2
    assert report.errors == {4: {"tax_rate": ["“abc” is not a number."]}}


def test_a_value_outside_the_header_is_refused(tmp_path):
    path = csv_file(tmp_path, [HEADER, ["knit", "Knitwear", "", "20", "stray"]])
    report = run("categories", path)
    assert "Cell E2 has a value" in report.errors[2][""][0]


def test_a_file_over_the_size_limit_is_refused_by_its_size_before_reading(tmp_path, settings):
    settings.AISLE_IMPORT_MAX_BYTES = 100
    path = csv_file(tmp_path, [HEADER] + [[f"c{i}", "Name", "", "20"] for i in range(20)])
    source = formats.source_from_path(path)
    source.opener = lambda: pytest.fail("the file was read")  # refused by its size alone
    with pytest.raises(formats.FileRefused, match="up to 100"):
        formats.Table(source)


def test_a_two_gigabyte_file_is_refused_without_reading_it(settings):
    source = formats.Source(name="huge.csv", format="csv", size=2 * 1024**3, opener=None)
    with pytest.raises(formats.FileRefused, match=r"2\.0"):
        formats.check_size(source)


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused(tmp_path):
    path = tmp_path / "catalog.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(formats.FileRefused, match="CSV and XLSX"):
        formats.source_from_path(path)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(formats.FileRefused, match="not an XLSX"):
        run("categories", broken)


def test_xlsx_is_read_with_numbers_as_text(tmp_path):
    path = xlsx_file(
        tmp_path, [HEADER, ["knit", "Knitwear", None, 20], ["home", "Home", "家居", 5.5]]
    )
    report = run("categories", path)
    assert report.state == "applied", report.errors
    assert Category.objects.get(code="home").tax_rate == Decimal("5.50")


def test_a_formula_in_an_xlsx_cell_is_refused_by_row_and_column(tmp_path):
    path = xlsx_file(
        tmp_path,
        [
            ["Code", "Name", "name_zh", " Tax_Rate "],
            ["knit", "Knitwear", None, 20],
            ["home", '=A2&"x"', None, "=10+10"],
        ],
    )
    report = run("categories", path)
    assert report.state == "refused"
    assert set(report.errors) == {3}
    assert "formula" in report.errors[3]["name"][0]
    assert "formula" in report.errors[3]["tax_rate"][0]
    assert not Category.objects.exists()


def test_csv_export_is_formula_safe_and_reads_back_as_it_was(tmp_path):
    factories.CategoryFactory(code="evil", name='=HYPERLINK("http://x.invalid","click")')
    factories.CategoryFactory(code="minus", name="-Sale", tax_rate=Decimal("5.00"))
    data = exported("categories")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = exported_rows("categories")
    names = {r[0]: r[1] for r in rows[1:]}
    assert names["evil"].startswith("'=")
    assert names["minus"] == "'-Sale"
    path = tmp_path / "back.csv"
    path.write_bytes(data)
    report = run("categories", path)
    assert report.summary() == {"created": 0, "updated": 0, "unchanged": 2}


def test_xlsx_export_writes_text_never_a_formula(tmp_path):
    factories.CategoryFactory(code="evil", name="=1+1")
    factories.CategoryFactory(code="at", name="@SUM(A1)")
    workbook = openpyxl.load_workbook(io.BytesIO(exported("categories", "xlsx")))
    cells = [c for row in workbook.active.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert {c.value for c in cells} >= {"=1+1", "@SUM(A1)"}
    path = tmp_path / "back.xlsx"
    path.write_bytes(exported("categories", "xlsx"))
    assert run("categories", path).summary()["unchanged"] == 2


def test_write_csv_makes_each_cell_safe():
    out = io.BytesIO()
    formats.write_csv(out, ["a", "b"], [["=cmd|' /C calc'!A0", "-30.00"], ["+1", "@x"]])
    text = out.getvalue().decode("utf-8-sig")
    assert text.splitlines() == ["a,b", "'=cmd|' /C calc'!A0,-30.00", "'+1,'@x"]
