"""Running an import: validate the whole file, then apply it, or try it and roll back.

    report = runner.run("stock", source, by=user, dry_run=True, progress=callback)

1. **Header.** Every required column is there, no column is unknown or given twice
   (a renamed column is refused by name, never silently ignored).
2. **Validation**, over every row: each row is parsed (`Kind.parse`), checked against
   the rows before it (the same key twice, rows of one product that disagree) and
   looked up in batches (`Kind.check`: unknown stores, locations, SKUs…). Nothing is
   written. Any error and the file is refused: nothing is applied, and every error is
   reported by row and column (the first `ERRORS_LISTED` in the report, all of them to
   `error_sink`).
3. **Apply**, in batches (`Kind.apply`). A kind whose `whole_file` is true (catalog,
   categories, stores, staff, locations) applies the whole file in one transaction:
   all or nothing. Stock applies each batch in its own transaction through the
   ledger, so a 200,000-line file never holds stock rows locked for minutes; its
   references are made from the file's hash, so running the same file again skips the
   batches already applied and finishes the job.
4. **Dry run**: step 3 runs as it would, inside transactions that are rolled back
   (per file or per batch, as the apply would), so it shows exactly what applying
   would change, row by row.

`progress(done_rows, total_rows)` is called after each batch of the validation and
of the apply pass; `on_step("validating" | "applying")` when a pass starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from retail.imports import base, formats
from retail.imports.base import CREATED, UNCHANGED, UPDATED, Batch, Errors, Row, RowChange

ERRORS_LISTED = 1000
CHANGES_KEPT = 500

REFUSED = "refused"
CHECKED = "checked"
APPLIED = "applied"

VALIDATING = "validating"
APPLYING = "applying"

Progress = Callable[[int, int], None]


class ErrorList:
    """Errors by row and column: the first `limit` kept, every one counted (and handed
    to `sink(row, column, message)` when given)."""

    def __init__(self, limit: int = ERRORS_LISTED, sink=None):
        self.errors: Errors = {}
        self.count = 0
        self.limit = limit
        self.sink = sink

    def add(self, row: int, column: str, message: str) -> None:
        self.count += 1
        if self.sink is not None:
            self.sink(row, column, str(message))
        if self.count <= self.limit:
            self.errors.setdefault(row, {}).setdefault(column, []).append(str(message))

    def add_all(self, errors: Errors) -> None:
        for row in sorted(errors):
            for column, messages in errors[row].items():
                for message in messages:
                    self.add(row, column, message)

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass
class Report:
    """What a run did (or, dry, would do)."""

    kind: str
    file_name: str
    dry_run: bool
    state: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Rows applied and committed (a stock file refused at a later batch keeps these).
    applied_rows: int = 0
    changes: list[RowChange] = field(default_factory=list)
    errors: Errors = field(default_factory=dict)
    error_count: int = 0
    file_digest: str = ""

    def count(self, changes: list[RowChange]) -> None:
        for change in changes:
            if change.action == CREATED:
                self.created += 1
            elif change.action == UPDATED:
                self.updated += 1
            else:
                self.unchanged += 1
            if change.action != UNCHANGED and len(self.changes) < CHANGES_KEPT:
                self.changes.append(change)

    def forget_changes(self) -> None:
        self.created = self.updated = self.unchanged = 0
        self.changes = []

    @property
    def refused(self) -> bool:
        return self.state == REFUSED

    def summary(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def error_lines(self) -> Iterator[tuple[int, str, str]]:
        """(row, column, message) of the errors listed, by row."""
        for row in sorted(self.errors):
            for column, messages in self.errors[row].items():
                for message in messages:
                    yield row, column, message


def _header_columns(kind: base.Kind, header: list[str], errors: ErrorList) -> dict[str, int]:
    """Column name -> index in the file's rows; problems go to row 1."""
    known = {formats.normal_name(c.name): c for c in kind.columns}
    index: dict[str, int] = {}
    names = ", ".join(c.name for c in kind.columns)
    for i, name in enumerate(header):
        if not name:
            continue
        column = known.get(formats.normal_name(name))
        if column is None:
            errors.add(
                1,
                name,
                _("Unknown column “%(name)s”: a %(kind)s file has the columns %(columns)s.")
                % {"name": name, "kind": kind.code, "columns": names},
            )
        elif column.name in index:
            errors.add(1, name, _("The column “%(name)s” is there twice.") % {"name": name})
        else:
            index[column.name] = i
    given = ", ".join(h for h in header if h) or _("no named column")
    for column in kind.columns:
        if column.required and column.name not in index:
            errors.add(
                1,
                column.name,
                _("The column “%(name)s” is missing; the file has: %(header)s.")
                % {"name": column.name, "header": given},
            )
    return index


class _File:
    """One file's rows as the kind's cells, for each pass."""

    def __init__(self, kind: base.Kind, table: formats.Table, header: list[str], index):
        self.kind, self.table, self.header, self.index = kind, table, header, index
        self.named = {i: name for name, i in index.items()}

    def cell_name(self, i: int) -> str:
        """The column of the cell at index i: the kind's name for it, else as the file
        names it, else its letter."""
        name = self.named.get(i) or (self.header[i] if i < len(self.header) else "")
        return name or get_column_letter(i + 1)

    def rows(self) -> Iterator[tuple[int, dict[str, str], dict[str, list[str]], list[str]]]:
        """(row number, cells by column, problems by column, raw cells)."""
        for number, raw, problems in self.table.rows():
            cells = {name: (raw[i] if i < len(raw) else "") for name, i in self.index.items()}
            found: dict[str, list[str]] = {}
            for i, message in problems.items():
                found.setdefault(self.cell_name(i), []).append(message)
            for i, value in enumerate(raw):
                if value and i not in self.named and i not in problems:
                    found.setdefault("", []).append(
                        _("Cell %(cell)s has a value, but its column is not one this file takes.")
                        % {"cell": f"{get_column_letter(i + 1)}{number}"}
                    )
            yield number, cells, found, raw


def run(
    code: str,
    source: formats.Source,
    *,
    by=None,
    dry_run: bool = False,
    progress: Progress | None = None,
    on_step: Callable[[str], None] | None = None,
    error_sink=None,
) -> Report:
    """Validate the file, then apply it (or, `dry_run`, try it and roll back).
    Raises `formats.FileRefused` when the file cannot be read at all."""
    kind = base.get(code)
    report = Report(kind=code, file_name=source.name, dry_run=dry_run)
    errors = ErrorList(sink=error_sink)
    table = formats.Table(source)

    def refuse() -> Report:
        report.state = REFUSED
        report.errors, report.error_count = dict(sorted(errors.errors.items())), errors.count
        report.forget_changes()
        return report

    try:
        header = table.header()
        index = _header_columns(kind, header, errors)
        if errors:
            return refuse()
        file = _File(kind, table, header, index)
        report.rows = sum(1 for _row in table.rows())
    except formats.RowUnreadable as exc:
        errors.add(exc.row, "", exc.message)
        return refuse()

    if on_step:
        on_step(VALIDATING)
    try:
        _validate(kind, file, errors, report.rows, progress)
    except formats.RowUnreadable as exc:
        errors.add(exc.row, "", exc.message)
    if errors:
        return refuse()

    report.file_digest = formats.digest(source)
    if on_step:
        on_step(APPLYING)
    try:
        _apply(kind, file, report, by=by, dry_run=dry_run, progress=progress)
    except base.RowErrors as exc:
        errors.add_all(exc.errors)
        return refuse()
    report.state = CHECKED if dry_run else APPLIED
    return report


def _validate(kind: base.Kind, file: _File, errors: ErrorList, total: int, progress) -> None:
    seen: dict = {}
    memo: dict = {}
    batch: list[Row] = []
    done = 0
    number_of_batches = 0
    every = max(1, total // 100)

    def look_up():
        nonlocal batch, number_of_batches
        if batch:
            number_of_batches += 1
            errors.add_all(kind.check(Batch(number=number_of_batches, rows=batch)))
            batch = []

    for number, cells, problems, raw in file.rows():
        done += 1
        item, found = kind.parse(cells)
        for column in problems:
            found.pop(column, None)  # the cell's own problem says it better
        found = {c: list(m) for c, m in found.items() if m}
        for column, messages in problems.items():
            found.setdefault(column, []).extend(messages)
        if not found and item is not None:
            identity = kind.identity(item)
            if identity is not None:
                column, key, shown = identity
                fingerprint = hash(tuple(raw))
                first = seen.get(key)
                if first is None:
                    seen[key] = (number, fingerprint)
                elif first[1] == fingerprint:
                    found[column] = [
                        _("This row repeats row %(row)s; give each row once.") % {"row": first[0]}
                    ]
                else:
                    found[column] = [
                        _("%(value)s is also on row %(row)s; give it once.")
                        % {"value": shown, "row": first[0]}
                    ]
            if not found:
                found = kind.cross_check(Row(number, item), memo)
        for column, messages in found.items():
            for message in messages:
                errors.add(number, column, message)
        if not found:
            batch.append(Row(number, item))
        if len(batch) >= kind.check_batch_size:
            look_up()
        if progress and done % every == 0:
            progress(done, total)
    look_up()
    if progress:
        progress(done, total)


def _batches(kind: base.Kind, file: _File, digest: str) -> Iterator[Batch]:
    rows: list[Row] = []
    number = 0
    for row_number, cells, problems, _raw in file.rows():
        item, found = kind.parse(cells)
        if problems or any(found.values()):  # the file changed since it was validated
            raise base.RowErrors({row_number: {**found, **problems}})
        rows.append(Row(row_number, item))
        if len(rows) >= kind.batch_size:
            number += 1
            yield Batch(number=number, rows=rows, file_digest=digest)
            rows = []
    if rows:
        yield Batch(number=number + 1, rows=rows, file_digest=digest)


def _apply_batch(kind: base.Kind, batch: Batch, *, by, dry_run: bool) -> list[RowChange]:
    changes = kind.apply(batch, by=by, dry_run=dry_run)
    for follower in base.followers_of(kind.code):
        follower(batch, changes, by=by, dry_run=dry_run)
    return changes


def _apply(kind: base.Kind, file: _File, report: Report, *, by, dry_run: bool, progress) -> None:
    done = 0
    if kind.whole_file:
        with transaction.atomic():
            for batch in _batches(kind, file, report.file_digest):
                report.count(_apply_batch(kind, batch, by=by, dry_run=dry_run))
                done += len(batch)
                if progress:
                    progress(done, report.rows)
            if dry_run:
                transaction.set_rollback(True)
        if not dry_run:
            report.applied_rows = done
        return
    for batch in _batches(kind, file, report.file_digest):
        with transaction.atomic():
            changes = _apply_batch(kind, batch, by=by, dry_run=dry_run)
            if dry_run:
                transaction.set_rollback(True)
        report.count(changes)
        done += len(batch)
        if not dry_run:
            report.applied_rows = done
        if progress:
            progress(done, report.rows)


# --- Export ---------------------------------------------------------------------------


def export(code: str, out: IO[bytes], fmt: str = "csv") -> int:
    """Write what Aisle holds of a kind, in its import columns; returns the rows."""
    kind = base.get(code)
    header = kind.column_names()
    rows = ([row.get(name, "") for name in header] for row in kind.export())
    if fmt == "xlsx":
        return formats.write_xlsx(out, header, rows, title=kind.code)
    return formats.write_csv(out, header, rows)
