"""Import and export files: CSV and XLSX read as rows of text, and written safely.

Reading (`Table`): a file is opened afresh for each pass over it (the runner counts,
validates, then applies), and rows are produced one at a time, never the whole file
as Python objects.

- CSV is UTF-8, with or without a byte-order mark, separated by `,` or `;` (or a tab),
  whichever the header line uses most. A file in another encoding is refused by the
  line where the first byte that is not UTF-8 stands. A cell that starts with an
  apostrophe and then `=`, `+`, `-`, `@` (how Aisle's exports keep a spreadsheet from
  running a formula) is read without the apostrophe, so an export reads back as it was.
- XLSX is read with openpyxl in read-only mode, from the first worksheet. A formula in
  a cell is refused (by row and column), never evaluated; so is an error value (#N/A).
  Numbers are read as the shortest text that gives them back (59.9, 12).
- A file larger than `AISLE_IMPORT_MAX_BYTES` is refused by its size before it is read
  (an XLSX file also when it would unpack to more than ten times that).
- Header names are matched trimmed and case-insensitively; rows whose cells are all
  empty are skipped, and rows are numbered as a spreadsheet shows them (the header is
  row 1).

Writing (`write_csv`, `write_xlsx`): CSV in UTF-8 with a byte-order mark (so a
spreadsheet reads the accents), every cell made formula-safe as in
`retail.csv_export`; XLSX with every cell written as text, never as a formula.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from retail.csv_export import FORMULA_STARTS, safe_cell

FORMATS = ("csv", "xlsx")
XLSX_UNPACK_FACTOR = 10
CHUNK = 1024 * 1024


class FileRefused(Exception):
    """The file cannot be read at all (too large, not a spreadsheet): nothing in it was
    looked at. The message says why, in the active language."""


class RowUnreadable(Exception):
    """A row that cannot be read (bytes that are not UTF-8, a broken CSV quote): the
    file is refused at that row."""

    def __init__(self, row: int, message: str):
        super().__init__(message)
        self.row = row
        self.message = message


@dataclass
class Source:
    """A file to import: its name, format, size and how to open it (once per pass)."""

    name: str
    format: str
    size: int
    opener: Callable[[], IO[bytes]]

    def open(self) -> IO[bytes]:
        return self.opener()


def format_for(name: str, given: str | None = None) -> str:
    """The file's format: the one given, else its extension's."""
    fmt = (given or os.path.splitext(name)[1].lstrip(".")).lower()
    if fmt not in FORMATS:
        raise FileRefused(
            _("Aisle reads CSV and XLSX files; %(name)s is neither.") % {"name": name or "?"}
        )
    return fmt


def source_from_path(path: str | os.PathLike, fmt: str | None = None) -> Source:
    path = os.fspath(path)
    name = os.path.basename(path)
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise FileRefused(
            _("The file %(name)s cannot be read: %(reason)s")
            % {"name": name, "reason": exc.strerror}
        ) from None
    return Source(
        name=name, format=format_for(name, fmt), size=size, opener=lambda: open(path, "rb")
    )


def source_from_storage(storage, stored_name: str, name: str, fmt: str | None = None) -> Source:
    """A file kept in a Django storage (an import job's upload)."""
    return Source(
        name=name,
        format=format_for(name, fmt),
        size=storage.size(stored_name),
        opener=lambda: storage.open(stored_name, "rb"),
    )


def max_bytes() -> int:
    return int(getattr(settings, "AISLE_IMPORT_MAX_BYTES", 200 * 1024 * 1024))


def check_size(source: Source) -> None:
    """Refuse a file over the size limit, by its size alone."""
    limit = max_bytes()
    if source.size > limit:
        raise FileRefused(
            _("The file is %(size)s; an import takes files up to %(limit)s. Split it.")
            % {"size": filesizeformat(source.size), "limit": filesizeformat(limit)}
        )


def digest(source: Source) -> str:
    """The SHA-256 of the file's bytes, in hex."""
    sha = hashlib.sha256()
    with source.open() as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


# --- Reading --------------------------------------------------------------------------


def _normal(name: str) -> str:
    return " ".join(str(name).split()).casefold()


class Table:
    """The rows of a file. `header()` reads the header; `rows()` yields
    (row number, cells, problems) for each non-empty row after it, where cells are
    texts in header order and problems maps a cell's index to why it was refused."""

    def __init__(self, source: Source):
        check_size(source)
        self.source = source

    @contextlib.contextmanager
    def _records(self) -> Iterator[Iterator[tuple[list[str], dict[int, str]]]]:
        if self.source.format == "csv":
            with self.source.open() as f:
                yield _csv_records(f)
        else:
            with self.source.open() as f:
                workbook = _open_workbook(f)
                try:
                    yield _xlsx_records(workbook)
                finally:
                    workbook.close()

    def header(self) -> list[str]:
        """The header's cells: the first row that is not empty."""
        with self._records() as records:
            for cells, _problems in records:
                if any(cells):
                    return [" ".join(c.split()) for c in cells]
        raise FileRefused(_("The file is empty: it has no header row."))

    def rows(self) -> Iterator[tuple[int, list[str], dict[int, str]]]:
        """The rows after the header, as (row number, cells, problems by cell index)."""
        with self._records() as records:
            number, seen_header = 0, False
            for cells, problems in records:
                number += 1
                empty = not problems and not any(cells)
                if not seen_header:
                    seen_header = not empty
                    continue
                if not empty:
                    yield number, cells, problems


def _csv_lines(f: IO[bytes]) -> Iterator[str]:
    """The file's lines as text, each checked to be UTF-8 (the first without its BOM)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    first = True
    for number, raw in enumerate(f, start=1):
        if first:
            first = False
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise RowUnreadable(
                    1,
                    _(
                        "The file is in UTF-16, not UTF-8. Save it as “CSV UTF-8” "
                        "and import it again."
                    ),
                )
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield decoder.decode(raw)
        except UnicodeDecodeError as exc:
            raise RowUnreadable(
                number,
                _(
                    "The file is not in UTF-8: line %(line)s has the byte 0x%(byte)02X at "
                    "character %(position)s, which UTF-8 does not allow (the file may be in "
                    "Latin-1 or Windows-1252). Save it as “CSV UTF-8” and import it again."
                )
                % {"line": number, "byte": raw[exc.start], "position": exc.start + 1},
            ) from None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise RowUnreadable(
            number, _("The file is not in UTF-8: it ends in the middle of a character.")
        ) from None


def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _unescape(text: str) -> str:
    """A cell Aisle's export made formula-safe ('=…) reads back as it was (=…)."""
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
        return text[1:]
    return text


def _csv_records(f: IO[bytes]) -> Iterator[tuple[list[str], dict[int, str]]]:
    lines = _csv_lines(f)
    try:
        first = next(lines)
    except StopIteration:
        return

    def all_lines():
        yield first
        yield from lines

    reader = csv.reader(all_lines(), delimiter=_delimiter(first), strict=False)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RowUnreadable(
                reader.line_num,
                _("Line %(line)s cannot be read as CSV (%(reason)s).")
                % {"line": reader.line_num, "reason": exc},
            ) from None
        yield [_unescape(c.strip()) for c in record], {}


def _open_workbook(f: IO[bytes]):
    import openpyxl

    data = f if f.seekable() else io.BytesIO(f.read())
    try:
        with zipfile.ZipFile(data) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise FileRefused(
            _("This is not an XLSX workbook Aisle can read. Save it as .xlsx (Excel Workbook).")
        ) from None
    if unpacked > max_bytes() * XLSX_UNPACK_FACTOR:
        raise FileRefused(
            _("The workbook unpacks to %(size)s; an import takes up to %(limit)s. Split it.")
            % {
                "size": filesizeformat(unpacked),
                "limit": filesizeformat(max_bytes() * XLSX_UNPACK_FACTOR),
            }
        )
    data.seek(0)
    try:
        return openpyxl.load_workbook(data, read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise FileRefused(
            _("This is not an XLSX workbook Aisle can read. Save it as .xlsx (Excel Workbook).")
        ) from None


def _xlsx_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _xlsx_records(workbook) -> Iterator[tuple[list[str], dict[int, str]]]:
    if not workbook.worksheets:
        return
    for row in workbook.worksheets[0].iter_rows():
        cells, problems = [], {}
        for index, cell in enumerate(row):
            kind = getattr(cell, "data_type", "n")
            if kind == "f":
                problems[index] = _(
                    "This cell holds a formula (%(formula)s); an import takes values only. "
                    "Paste the values instead."
                ) % {"formula": str(cell.value)[:60]}
                cells.append("")
            elif kind == "e":
                problems[index] = _("This cell holds an error value (%(value)s).") % {
                    "value": cell.value
                }
                cells.append("")
            else:
                cells.append(_xlsx_text(cell.value))
        yield cells, problems


# --- Writing --------------------------------------------------------------------------


def write_csv(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write a CSV file (UTF-8 with a byte-order mark); returns the rows written."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow([safe_cell(c) for c in header])
        count = 0
        for row in rows:
            writer.writerow([safe_cell(c) for c in row])
            count += 1
        text.flush()
    finally:
        text.detach()
    return count


def write_xlsx(
    out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[str]], title: str = ""
) -> int:
    """Write an XLSX workbook of one sheet, every cell as text (a cell starting with =
    is text, never a formula); returns the rows written."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(title or "Aisle")[:31])

    def text_cells(values: Sequence[str]):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
            cell.data_type = "s"  # openpyxl would make "=…" a formula
            cells.append(cell)
        return cells

    sheet.append(text_cells(header))
    count = 0
    for row in rows:
        sheet.append(text_cells(row))
        count += 1
    workbook.save(out)
    return count


def header_index(header: Sequence[str]) -> dict[str, int]:
    """Normalised header name -> its first index."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(_normal(name), i)
    return index


normal_name = _normal
