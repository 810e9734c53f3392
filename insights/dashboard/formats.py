"""How a dashboard shows a value (per language) and how its CSV writes it (plain)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from insights.templatetags.figures import hours, number, percent
from retail.dates import when_text
from retail.money import money_cell, money_text

FORMATS: dict[str, Callable] = {
    "text": lambda v: "" if v is None else str(v),
    "money": money_text,
    "percent": percent,
    "number": number,
    "hours": hours,
    "day": lambda v: when_text(v, "day"),
    "month": lambda v: when_text(v, "month"),
}


def shown(value, kind: str) -> str:
    return FORMATS[kind](value)


def raw(value, kind: str) -> str:
    """A CSV cell: money with two decimals, shares as fractions, days in ISO."""
    if value is None:
        return ""
    if kind == "money":
        return money_cell(value)
    if kind == "month":
        return value.strftime("%Y-%m")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
