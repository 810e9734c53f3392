"""Template tags for training's grids: the heatmap and the network table have one
cell per person and skill (or store and area), so their cells are built here in
one pass rather than node by node in the template."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def heat_cells(row) -> SafeString:
    """A heatmap row's skill cells: the level, coloured against what the role needs."""
    title = gettext("level %(level)s, needs %(required)s")
    parts = []
    for cell in row.cells:
        need = f'<span class="muted small">/{cell.required}</span>' if cell.required else ""
        label = escape(title % {"level": cell.level, "required": cell.required})
        parts.append(
            f'<td class="heat-{cell.state}" data-level="{cell.level}" title="{label}">'
            f"{cell.level}{need}</td>"
        )
    return mark_safe("".join(parts))  # noqa: S308 - built from ints, fixed words and escaped text


@register.simple_tag
def area_cells(row) -> SafeString:
    """A network row's area cells: the share of requirements met and its trend."""
    parts = []
    for cell in row.cells:
        percent = cell.percent
        if percent is None:
            parts.append('<td class="heat-none">—</td>')
            continue
        css = "heat-met" if percent >= 80 else "heat-near" if percent >= 50 else "heat-far"
        trend = cell.trend
        arrow = ""
        if trend:
            direction, sign = ("trend-up", "▲") if trend > 0 else ("trend-down", "▼")
            arrow = f' <span class="small {direction}">{sign}{abs(trend)}</span>'
        parts.append(
            f'<td class="{css}" data-area="{escape(cell.area.code)}" '
            f'title="{cell.met}/{cell.required}">{percent}%{arrow}</td>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - built from ints, fixed words and escaped text
