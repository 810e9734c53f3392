"""`{% load dates %}`: `{{ value|when:"day_time" }}`, a date or time in the reader's
language by a named style (`retail.dates.STYLES`), never a hand-built pattern."""

from __future__ import annotations

from django import template

from retail.dates import STYLES, when_text

register = template.Library()


@register.filter
def when(value, style: str = "date") -> str:
    if style not in STYLES:
        raise template.TemplateSyntaxError(f"Unknown date style {style!r}")
    return when_text(value, style)
