"""Charts as server-rendered SVG: no dependency, no script, nothing from the internet.

Each function returns the markup of one `<svg role="img">` with a `<title>` and an
`aria-label`, its text in the page's font (so Chinese labels render with the fonts on
the machine) and its colours from CSS classes (`insights/charts.css`: `.series-0` …).
Values are numbers (Decimal, int or float); `fmt` turns one into the text shown beside
it (e.g. `figures.money_text`). Every chart on a page sits beside a table of the same
numbers, so the picture is never the only way to read them.

- `bars`: one horizontal bar per label (returns by reason, segment sizes).
- `grouped_bars`: several horizontal bars per label (p50 and p90 per store).
- `stacked_columns`: columns split by series (positive parts only).
- `lines`: one line per series over ordered labels (revenue by channel over time).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 110
BAR_HEIGHT = 18
GAP = 10
LEGEND_HEIGHT = 26
PLOT_HEIGHT = 220
AXIS_LEFT = 80
AXIS_BOTTOM = 30
MAX_X_LABELS = 8

_ids = itertools.count(1)


def _number(value) -> float:
    return float(value or 0)


def _text(value) -> str:
    return escape(str(value))


def _svg(title: str, height: float, body: list[str]) -> SafeString:
    chart_id = f"chart-{next(_ids)}"
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" '
        'role="img" aria-labelledby="{id}" aria-label="{title}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}">{title}</title>{body}</svg>',
        w=WIDTH,
        h=round(height),
        id=chart_id,
        title=title,
        body=mark_safe("".join(body)),  # noqa: S308 — every piece escaped where built
    )


def _legend(names: Sequence[str]) -> list[str]:
    parts, x = [], 0.0
    for i, name in enumerate(names):
        parts.append(
            f'<rect class="series-{i}" x="{x:.0f}" y="6" width="12" height="12" rx="2"/>'
            f'<text class="chart-label" x="{x + 17:.0f}" y="17">{_text(name)}</text>'
        )
        x += 30 + 9 * len(str(name))
    return parts


def _empty(title: str, message: str) -> SafeString:
    return _svg(
        title,
        40,
        [f'<text class="chart-label chart-empty" x="0" y="24">{_text(message)}</text>'],
    )


def bars(
    title: str, labels: Sequence[str], values: Sequence, *, fmt: Callable = str, empty: str = ""
) -> SafeString:
    """One horizontal bar per label, its value written after it."""
    return grouped_bars(title, labels, [("", values)], fmt=fmt, empty=empty)


def grouped_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence]],
    *,
    fmt: Callable = str,
    empty: str = "",
) -> SafeString:
    """For each label, one horizontal bar per series (a legend above when several)."""
    if not labels:
        return _empty(title, empty)
    named = len(series) > 1 or bool(series[0][0])
    top = LEGEND_HEIGHT if named else 0
    group = len(series) * BAR_HEIGHT + GAP
    largest = max((abs(_number(v)) for _n, vs in series for v in vs), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = _legend([name for name, _v in series]) if named else []
    for row, label in enumerate(labels):
        y0 = top + row * group
        middle = y0 + BAR_HEIGHT * len(series) / 2 + 5
        body.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{middle:.0f}" '
            f'text-anchor="end">{_text(label)}</text>'
        )
        for i, (_name, values) in enumerate(series):
            value = values[row]
            width = abs(_number(value)) / largest * span
            y = y0 + i * BAR_HEIGHT
            text = _text(fmt(value))
            body.append(
                f'<rect class="series-{i}" x="{LABEL_WIDTH}" y="{y + 2}" width="{width:.1f}" '
                f'height="{BAR_HEIGHT - 4}"><title>{_text(label)}: {text}</title></rect>'
                f'<text class="chart-value" x="{LABEL_WIDTH + width + 6:.1f}" '
                f'y="{y + BAR_HEIGHT - 4}">{text}</text>'
            )
    return _svg(title, top + len(labels) * group, body)


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering [low, high] (0 included)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = [round(start, 10)]
    while ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _plot_frame(ticks: list[float], fmt: Callable) -> tuple[list[str], Callable[[float], float]]:
    bottom = LEGEND_HEIGHT + 6 + PLOT_HEIGHT
    low, high = ticks[0], ticks[-1]

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * PLOT_HEIGHT

    body = []
    for tick in ticks:
        y = y_of(tick)
        body.append(
            f'<line class="chart-grid{" chart-zero" if tick == 0 else ""}" x1="{AXIS_LEFT}" '
            f'x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-axis" x="{AXIS_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_text(fmt(tick))}</text>"
        )
    return body, y_of


def _x_labels(labels: Sequence[str], x_of: Callable[[int], float]) -> list[str]:
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    y = LEGEND_HEIGHT + 6 + PLOT_HEIGHT + 20
    return [
        f'<text class="chart-axis" x="{x_of(i):.1f}" y="{y}" text-anchor="middle">'
        f"{_text(label)}</text>"
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def lines(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence]],
    *,
    fmt: Callable = str,
    axis_fmt: Callable | None = None,
    empty: str = "",
) -> SafeString:
    """One line per series across `labels` (in order), a dot at each point."""
    if not labels or not series:
        return _empty(title, empty)
    values = [_number(v) for _n, vs in series for v in vs]
    ticks = _ticks(min(values), max(values))
    body, y_of = _plot_frame(ticks, axis_fmt or fmt)
    span = WIDTH - AXIS_LEFT - 20
    step = span / max(1, len(labels) - 1)

    def x_of(i: int) -> float:
        return AXIS_LEFT + 10 + i * step

    body += _legend([name for name, _v in series])
    for s, (name, points) in enumerate(series):
        path = " ".join(f"{x_of(i):.1f},{y_of(_number(v)):.1f}" for i, v in enumerate(points))
        body.append(f'<polyline class="chart-line series-{s}" points="{path}"/>')
        for i, v in enumerate(points):
            body.append(
                f'<circle class="series-{s}" cx="{x_of(i):.1f}" cy="{y_of(_number(v)):.1f}" r="3">'
                f"<title>{_text(name)}, {_text(labels[i])}: {_text(fmt(v))}</title></circle>"
            )
    body += _x_labels(labels, x_of)
    return _svg(title, LEGEND_HEIGHT + 6 + PLOT_HEIGHT + AXIS_BOTTOM, body)


def stacked_columns(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence]],
    *,
    fmt: Callable = str,
    axis_fmt: Callable | None = None,
    empty: str = "",
) -> SafeString:
    """One column per label, split by series; negative parts are left out of the
    picture (the table beside it has them)."""
    if not labels or not series:
        return _empty(title, empty)
    totals = [
        sum(max(0.0, _number(values[i])) for _n, values in series) for i in range(len(labels))
    ]
    ticks = _ticks(0.0, max(totals))
    body, y_of = _plot_frame(ticks, axis_fmt or fmt)
    span = WIDTH - AXIS_LEFT - 10
    slot = span / len(labels)
    width = max(2.0, slot * 0.7)

    def x_of(i: int) -> float:
        return AXIS_LEFT + 5 + slot * (i + 0.5)

    body += _legend([name for name, _v in series])
    for i, label in enumerate(labels):
        base = 0.0
        for s, (name, values) in enumerate(series):
            part = max(0.0, _number(values[i]))
            if not part:
                continue
            top, bottom = y_of(base + part), y_of(base)
            body.append(
                f'<rect class="series-{s}" x="{x_of(i) - width / 2:.1f}" y="{top:.1f}" '
                f'width="{width:.1f}" height="{bottom - top:.1f}"><title>{_text(name)}, '
                f"{_text(label)}: {_text(fmt(values[i]))}</title></rect>"
            )
            base += part
    body += _x_labels(labels, x_of)
    return _svg(title, LEGEND_HEIGHT + 6 + PLOT_HEIGHT + AXIS_BOTTOM, body)
