"""The SVG charts (`insights.charts`): accessible, escaped, scaled, never a script."""

from __future__ import annotations

import re
from decimal import Decimal as D

from insights import charts


def test_bars_are_scaled_to_the_largest_value_and_labelled():
    svg = charts.bars("Returns <by> reason", ["Wrong size", "尺码不对"], [D(4), D(2)], fmt=str)
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg
    assert 'aria-label="Returns &lt;by&gt; reason"' in svg
    assert "<title" in svg and "Returns &lt;by&gt; reason</title>" in svg
    assert "尺码不对" in svg
    widths = [float(w) for w in re.findall(r'<rect class="series-0"[^>]* width="([\d.]+)"', svg)]
    assert widths[0] == charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_WIDTH
    assert widths[1] == widths[0] / 2
    assert "<script" not in svg and "onclick" not in svg


def test_grouped_bars_have_a_legend_and_a_bar_per_series():
    svg = charts.grouped_bars("Hours", ["S01", "S02"], [("p50", [1, 2]), ("p90", [3, 4])])
    assert svg.count('<rect class="series-1"') == 3  # two bars and the legend's swatch
    assert ">p90</text>" in svg


def test_lines_take_negative_values_and_a_zero_line():
    svg = charts.lines("Revenue", ["1 Dec", "2 Dec"], [("Web", [D("-30"), D("120")])])
    assert svg.count("<circle") == 2
    assert "chart-zero" in svg
    assert "Web, 1 Dec: -30" in svg


def test_stacked_columns_and_empty_charts():
    svg = charts.stacked_columns("Mix", ["Jan"], [("A", [2]), ("B", [3])])
    assert svg.count("<rect class=") == 4  # two parts and two legend swatches
    empty = charts.lines("Revenue", [], [], empty="No sales.")
    assert "No sales." in empty and "<polyline" not in empty


def test_ticks_are_round_and_cover_the_values():
    assert charts._ticks(0, 95) == [0, 25, 50, 75, 100]
    ticks = charts._ticks(-30, 170)
    assert ticks[0] <= -30 and ticks[-1] >= 170 and 0 in ticks
