"""Dates read right in Chinese (issue #21, finding 5): "12月3日 星期四 14:05", never
"星期四 3 十二月"; English keeps "Thu 3 Dec 14:05"."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

from retail.dates import STYLES, when_text

MOMENT = dt.datetime(2026, 12, 3, 14, 5)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(
    ("style", "english", "chinese"),
    [
        ("day_time", "Thu 3 Dec 14:05", "12月3日 星期四 14:05"),
        ("date", "3 Dec 2026", "2026年12月3日"),
        ("day", "3 Dec", "12月3日"),
        ("weekday", "Thu 3 Dec", "12月3日 星期四"),
        ("month", "Dec 2026", "2026年12月"),
        ("date_time", "3 Dec 2026, 14:05", "2026年12月3日 14:05"),
    ],
)
def test_each_style_in_both_languages(style, english, chinese):
    assert when_text(MOMENT, style, "en") == english
    assert when_text(MOMENT, style, "zh-hans") == chinese


def test_the_filter_follows_the_active_language():
    template = Template('{% load dates %}{{ moment|when:"day_time" }}')
    with translation.override("zh-hans"):
        assert template.render(Context({"moment": MOMENT})) == "12月3日 星期四 14:05"
    with translation.override("en"):
        assert template.render(Context({"moment": MOMENT})) == "Thu 3 Dec 14:05"


def test_every_style_has_a_chinese_pattern_with_month_and_day_in_order():
    for style, (_english, chinese) in STYLES.items():
        if "M" in _english or "F" in _english:
            assert "n月" in chinese and ("j日" in chinese or "month" in style), style


def test_templates_use_named_styles_not_hand_built_patterns():
    hand_built = []
    for path in TEMPLATES.rglob("*.html"):
        rel = path.relative_to(TEMPLATES).as_posix()
        if rel.startswith("admin/"):
            continue  # Django admin's own look
        for pattern in re.findall(r'\|date:"([^"]*)"', path.read_text(encoding="utf-8")):
            if re.search(r"[DlMFN]", pattern):
                hand_built.append(f"{rel}: {pattern}")
    assert hand_built == []
