"""Dates and times in the reader's language by a named style, never a hand-built
pattern: "Thu 3 Dec 14:05" in English, "12月3日 星期四 14:05" in Chinese. Values are
shown in the active time zone (the store's, where the page activates it). Templates
use the `when` filter (`{% load dates %}`)."""

from __future__ import annotations

import datetime as dt

from django.utils import dateformat, timezone, translation
from django.utils.translation import get_language

#: style -> (English pattern, Chinese pattern), in Django's date format letters.
STYLES = {
    "date": ("j M Y", "Y年n月j日"),
    "long_date": ("j F Y", "Y年n月j日"),
    "day": ("j M", "n月j日"),
    "weekday": ("D j M", "n月j日 D"),
    "day_time": ("D j M H:i", "n月j日 D H:i"),
    "short_day_time": ("j M H:i", "n月j日 H:i"),
    "date_time": ("j M Y, H:i", "Y年n月j日 H:i"),
    "weekday_date_time": ("D j M Y H:i", "Y年n月j日 D H:i"),
    "full_day_time": ("l j F, H:i", "n月j日 l H:i"),
    "weekday_name": ("l", "l"),
    "long_day": ("j F", "n月j日"),
    "long_weekday": ("l j F", "n月j日 l"),
    "long_weekday_date": ("l j F Y", "Y年n月j日 l"),
    "weekday_time": ("D H:i", "D H:i"),
    "time": ("H:i", "H:i"),
    "month": ("M Y", "Y年n月"),
    "long_month": ("F Y", "Y年n月"),
    "iso_date": ("Y-m-d", "Y-m-d"),
    "iso_date_time": ("Y-m-d H:i", "Y-m-d H:i"),
}


def pattern(style: str, language: str | None = None) -> str:
    english, chinese = STYLES[style]
    return chinese if (language or get_language() or "").lower().startswith("zh") else english


def when_text(value, style: str = "date", language: str | None = None) -> str:
    """`value` (a date or datetime) in `style`, in the active (or given) language."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    if language is None:
        return dateformat.format(value, pattern(style))
    with translation.override(language):
        return dateformat.format(value, pattern(style, language))
