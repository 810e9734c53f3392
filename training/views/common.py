"""What every training page shares: the current store, refusals as pages, CSV."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from retail import access
from training.services.errors import TrainingError

#: A CSV cell that a spreadsheet would read as a formula is written as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def current_store_or_choose(request: HttpRequest):
    """(store, None), or (None, a redirect to choose the store first)."""
    store = access.current_store(request)
    if store is None:
        return None, redirect("retail:store_choose")
    return store, None


def refuse(
    request: HttpRequest, error: TrainingError, *, title: str | None = None, back: str = ""
) -> HttpResponse:
    """A refusal as a page (or as a fragment for htmx), with its status; nothing was written."""
    context = {"message": error.message, "title": title or _("That did not work"), "back": back}
    template = "training/error.html"
    if getattr(request, "htmx", False):
        template += "#message"
    return render(request, template, context, status=error.status)


def csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8 (Chinese names, accents)
    writer = csv.writer(response)
    writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return response


def gaps_csv_response(filename: str, rows) -> HttpResponse:
    """A person's skills gaps (`training.services.person_gaps`) as a CSV download."""
    return csv_response(
        filename,
        [
            _("Area"),
            _("Skill"),
            _("Required"),
            _("Current"),
            _("Self-assessed"),
            _("Gap"),
            _("Courses that close it"),
        ],
        (
            [
                r.skill.area.label,
                r.skill.label,
                r.required,
                r.current,
                "" if r.self_level is None else r.self_level,
                r.gap,
                "; ".join((c.text_for().title if c.text_for() else c.code) for c in r.courses),
            ]
            for r in rows
        ),
    )
