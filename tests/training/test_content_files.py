"""The courses as data files: what they install, the errors a malformed file gets,
and `training_import` (idempotent, updates in place, a dry run writes nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.training.snapshot_content import program_snapshot

SNAPSHOT = Path(__file__).parent / "data" / "content_snapshot.json"


def test_files_install_exactly_the_program_the_python_modules_did(program):
    """The snapshot was taken from `content_sync()` before the courses became files."""
    installed = json.loads(json.dumps(program_snapshot()))
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert [c["code"] for c in installed["courses"]] == [c["code"] for c in expected["courses"]]
    for got, want in zip(installed["courses"], expected["courses"], strict=True):
        assert got == want, got["code"]
    assert installed == expected
