"""CSV downloads for HQ (audit log, receiving discrepancies, returns figures): streamed
row by row, so a large export never sits in memory, and every cell safe to open in a
spreadsheet (a cell starting with =, +, -, @ or a control character is not run as a
formula)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


#: A plain number ("-30.00", "12"): a spreadsheet reads it as a number, never a formula.
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a negative amount stays a
    number; anything else starting like a formula is quoted)."""
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_STARTS and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line (for csv.writer in a stream)."""

    def write(self, value):
        return value


def csv_stream(filename: str, header: Sequence, rows: Iterable[Sequence]) -> StreamingHttpResponse:
    """A download of `header` then `rows` (iterated lazily), each cell made safe."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([safe_cell(c) for c in header])
        for row in rows:
            yield writer.writerow([safe_cell(c) for c in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
