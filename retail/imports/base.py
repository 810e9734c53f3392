"""What a kind of import is, and the registry of kinds.

A kind (`catalog`, `stock`, `staff`, …) is a class registered with `register`: it
names its columns, turns one row of text into an item (`parse`), looks its rows up
without writing (`check`), applies a batch of items (`apply`) and lists what Aisle
holds in the same columns (`export`). The runner (`retail.imports.runner`) drives
it; a kind never reads a file itself. A fresh instance serves each run, so a kind
may keep look-ups on `self` for the length of one file.

Apps above `retail` register their kinds in their `AppConfig.ready()` and may
follow a kind of another app (`follow`): inventory gives each store a stores file
creates its stock location, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

#: Errors of a file: row number (as a spreadsheet shows it; the header is row 1,
#: 0 is the file as a whole) -> column ("" for the row as a whole) -> messages.
Errors = dict[int, dict[str, list[str]]]

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Column:
    """A column of a kind's files. A required column must be in the header (its cells
    may still be empty where the kind allows); an optional one may be left out, and
    then what it would set is kept."""

    name: str
    required: bool = True
    help: str | Promise = ""


@dataclass
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    item: Any


@dataclass
class Batch:
    """Rows applied together (`number` counts from 1 in the file). `file_digest` is the
    SHA-256 of the whole file, in hex: what makes a kind's references repeatable."""

    number: int
    rows: list[Row]
    file_digest: str = ""

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class RowChange:
    """What applying one row did (or, in a dry run, would do): `created`, `updated`
    with each changed column's old and new text, or `unchanged`."""

    row: int
    label: str
    action: str
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "row": self.row,
            "label": self.label,
            "action": self.action,
            "changes": {k: [old, new] for k, old, new in _texts(self.changes)},
        }


def _texts(changes: dict[str, tuple[Any, Any]]):
    for key, (old, new) in changes.items():
        yield key, as_text(old), as_text(new)


def as_text(value: Any) -> str:
    """A value as an import file writes it."""
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def row_updated(row: Row, label: str, target, changed: dict, *, by, action: str) -> RowChange:
    """The change of a row that found its record: `updated` (and an audit row naming the
    columns) when `changed` holds anything, else `unchanged`."""
    if not changed:
        return RowChange(row.number, label, UNCHANGED)
    from retail.services import audit_record

    audit_record(actor=by, action=action, target=target, detail={"columns": sorted(changed)})
    return RowChange(row.number, label, UPDATED, changed)


class RowErrors(Exception):
    """Raised by `apply` when it refuses rows: the batch's transaction is rolled back
    and the rows are reported by row and column."""

    def __init__(self, errors: Errors):
        super().__init__(f"{sum(len(c) for c in errors.values())} refused cells")
        self.errors = errors


class Kind:
    """One kind of import file. Subclasses set the class attributes and methods."""

    code: str = ""
    verbose_name: str | Promise = ""
    columns: tuple[Column, ...] = ()
    #: True: the whole file is applied in one transaction (all or nothing). False: each
    #: batch in its own transaction (a refused batch leaves the ones before it applied;
    #: the kind must make a re-run of the same file finish the job).
    whole_file: bool = True
    #: Rows per batch handed to `apply`.
    batch_size: int = 500
    #: Rows per batch handed to `check` while the file is validated.
    check_batch_size: int = 1000

    def parse(self, cells: dict[str, str]) -> tuple[Any, dict[str, list[str]]]:
        """The item a row stands for and its errors by column (no database access)."""
        raise NotImplementedError

    def identity(self, item: Any) -> tuple[str, Hashable, str] | None:
        """(column, key, key as text): what no two rows of one file may share."""
        return None

    def cross_check(self, row: Row, memo: dict) -> dict[str, list[str]]:
        """Errors of this row against the rows before it (`memo` is kept for the file)."""
        return {}

    def check(self, batch: Batch) -> Errors:
        """Errors found by looking the batch up (unknown stores, categories…); writes
        nothing. Called once per batch of the validation pass."""
        return {}

    def apply(self, batch: Batch, *, by, dry_run: bool) -> list[RowChange]:
        """Apply the batch (inside the runner's transaction); one change per row.
        Raises `RowErrors` to refuse rows."""
        raise NotImplementedError

    def export(self) -> Iterator[dict[str, str]]:
        """What Aisle holds, one dict of column -> text per row, in the columns' shape."""
        raise NotImplementedError

    @classmethod
    def column_names(cls) -> list[str]:
        return [c.name for c in cls.columns]


# --- The registry ---------------------------------------------------------------------

_kinds: dict[str, type[Kind]] = {}
#: kind code -> functions called after each applied batch, in its transaction:
#: follower(batch, changes, by=..., dry_run=...).
_followers: dict[str, list[Callable[..., None]]] = {}


class UnknownKind(KeyError):
    pass


def register(kind: type[Kind]) -> type[Kind]:
    """Make a kind importable and exportable by its code (usable as a decorator)."""
    if not kind.code or not kind.columns:
        raise ValueError("A kind needs a code and columns.")
    known = _kinds.get(kind.code)
    if known is not None and known is not kind:
        raise ValueError(f"Another kind is registered as {kind.code!r}.")
    _kinds[kind.code] = kind
    return kind


def follow(code: str, follower: Callable[..., None]) -> None:
    """Call `follower(batch, changes, by=..., dry_run=...)` after each applied batch of
    the kind `code`, in the same transaction (an app above retail plugs in this way)."""
    followers = _followers.setdefault(code, [])
    if follower not in followers:
        followers.append(follower)


def followers_of(code: str) -> list[Callable[..., None]]:
    return list(_followers.get(code, ()))


def get(code: str) -> Kind:
    """A fresh instance of the kind registered as `code`."""
    try:
        return _kinds[code]()
    except KeyError:
        raise UnknownKind(code) from None


def codes() -> list[str]:
    return sorted(_kinds)


def kinds() -> list[type[Kind]]:
    return [_kinds[code] for code in codes()]
