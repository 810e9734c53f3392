"""The console says one line per 403 (issue #21, finding 7): no PermissionDenied
traceback, no second access line; a server error keeps its traceback."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from retail.logs import OneLinePerRefusal

pytestmark = pytest.mark.django_db


@pytest.fixture
def console():
    """What Aisle's console handler writes, captured."""
    [handler] = [h for h in logging.getLogger("django").handlers if h.name == "console"]
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


def test_an_associate_opening_hq_logs_one_line_without_a_traceback(client, associate, console):
    client.force_login(associate)
    response = client.get("/hq/")
    assert response.status_code == 403
    lines = [line for line in console.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Forbidden" in lines[0] and "/hq/" in lines[0]
    assert "Traceback" not in console.getvalue()


def record(name: str, status: int, exc: bool) -> logging.LogRecord:
    try:
        raise PermissionError("refused")
    except PermissionError:
        info = sys.exc_info() if exc else None
    rec = logging.LogRecord(name, logging.WARNING, __file__, 1, "msg", (), info)
    rec.status_code = status
    return rec


def test_the_access_line_of_a_403_is_dropped_and_others_kept():
    f = OneLinePerRefusal()
    assert f.filter(record("django.server", 403, False)) is False
    assert f.filter(record("django.server", 404, False)) is True
    assert f.filter(record("django.server", 200, False)) is True


def test_a_403_loses_its_traceback_and_a_500_keeps_it():
    f = OneLinePerRefusal()
    refused = record("django.request", 403, True)
    assert f.filter(refused) is True and refused.exc_info is None
    failed = record("django.request", 500, True)
    assert f.filter(failed) is True and failed.exc_info is not None
