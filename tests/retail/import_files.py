"""Files for the import tests: CSV and XLSX written from rows, runs and exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl

from retail.imports import formats, runner


def csv_file(tmp_path: Path, rows, name="file.csv", *, delimiter=",", bom=False, encoding="utf-8"):
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = text.getvalue().encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path = tmp_path / name
    path.write_bytes(data)
    return path


def xlsx_file(tmp_path: Path, rows, name="file.xlsx"):
    """A workbook as a spreadsheet program saves it: a text starting with = is a formula."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    path = tmp_path / name
    workbook.save(path)
    return path


def run(kind: str, path: Path, **kwargs) -> runner.Report:
    return runner.run(kind, formats.source_from_path(path), **kwargs)


def exported(kind: str, fmt: str = "csv") -> bytes:
    out = io.BytesIO()
    runner.export(kind, out, fmt)
    return out.getvalue()


def exported_rows(kind: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(exported(kind).decode("utf-8-sig"))))


def export_to(tmp_path: Path, kind: str, name: str | None = None, edit=None) -> Path:
    """Export `kind` to a CSV file; `edit(rows)` may change the rows first."""
    rows = exported_rows(kind)
    if edit is not None:
        edit(rows)
    return csv_file(tmp_path, rows, name or f"{kind}.csv", bom=True)


def column(rows, name: str) -> int:
    return rows[0].index(name)


def errors_of(report: runner.Report) -> dict:
    return {row: dict(cols) for row, cols in report.errors.items()}
