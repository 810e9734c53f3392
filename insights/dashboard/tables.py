"""The dashboards' tables: rows of plain values with a kind per column (how to show and
export them), each drawn as a chart beside it and downloadable as CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from insights import charts, kpis, series
from insights import segments as segment_rules
from insights.dashboard.filters import RegionScope
from insights.dashboard.formats import raw, shown
from insights.templatetags.figures import hours, number
from orders.models import Channel
from retail.money import currency_symbol, money_heading, money_text

if TYPE_CHECKING:
    from insights.dashboard.board import Dashboard

#: The most rows a bar chart draws (the table beside it has them all).
CHART_ROWS = 20


@dataclass
class Table:
    """Rows of raw values, one kind per column (how to show and export it), with the
    chart of the same numbers."""

    key: str
    title: str
    definition: str
    columns: list[tuple[str, str]]  # (heading, kind)
    rows: list[list] = field(default_factory=list)
    chart: str = ""
    empty: str = ""
    note: str = ""

    @property
    def headings(self) -> list[str]:
        return [heading for heading, _kind in self.columns]

    @property
    def csv_headings(self) -> list[str]:
        """The CSV's header: a money column names the currency ("Net revenue (€)"),
        since its cells are plain numbers a spreadsheet can sum (`retail.money`)."""
        return [money_heading(h) if kind == "money" else h for h, kind in self.columns]

    def shown_rows(self) -> list[list[str]]:
        kinds = [kind for _h, kind in self.columns]
        return [[shown(v, k) for v, k in zip(row, kinds, strict=True)] for row in self.rows]

    def csv_rows(self) -> list[list[str]]:
        kinds = [kind for _h, kind in self.columns]
        return [[raw(v, k) for v, k in zip(row, kinds, strict=True)] for row in self.rows]


CHANNEL_LABELS = dict(Channel.choices)


def _revenue_table(ctx: Dashboard) -> Table:
    data = series.revenue_by_channel(ctx.scope)
    channels = list(data.values)
    kind = "day" if data.unit == series.DAY else "month"
    totals = data.totals()
    labels = [shown(day, kind) for day in data.buckets]
    names = [str(CHANNEL_LABELS.get(c, c)) for c in channels]
    title = (
        _("Net revenue by channel, per day")
        if kind == "day"
        else _("Net revenue by channel, per month")
    )
    return Table(
        key="revenue",
        title=title,
        definition=str(kpis.DEFINITIONS["revenue"]),
        columns=[(_("Day") if kind == "day" else _("Month"), kind)]
        + [(name, "money") for name in names]
        + [(_("Total"), "money")],
        rows=[
            [day, *(data.values[c][i] for c in channels), totals[i]]
            for i, day in enumerate(data.buckets)
        ]
        if channels
        else [],
        chart=charts.lines(
            title,
            labels,
            [(name, data.values[c]) for name, c in zip(names, channels, strict=True)],
            fmt=money_text,
            axis_fmt=_axis_money,
            empty=_("No sales in this period."),
        ),
        empty=_("No sales in this period for these filters."),
    )


def _axis_money(value) -> str:
    """An axis tick: the currency symbol and whole units ("€1,500")."""
    amount = Decimal(str(value)).quantize(Decimal(1))
    sign = "−" if amount < 0 else ""
    return f"{sign}{currency_symbol()}{number(abs(amount))}"


def _by_store_table(ctx: Dashboard) -> Table:
    by_store = ctx.figures["revenue"]["by_store"]
    rows = [[code, ctx.store_names.get(code, ""), amount] for code, amount in by_store.items()]
    title = _("Net revenue by store")
    drawn, note = _largest(rows, lambda r: r[2])
    return Table(
        key="stores",
        title=title,
        definition=str(kpis.DEFINITIONS["revenue"]),
        columns=[
            (_("Store"), "text"),
            (pgettext("a store's name", "Name"), "text"),
            (_("Net revenue"), "money"),
        ],
        rows=rows,
        chart=charts.bars(title, [r[0] for r in drawn], [r[2] for r in drawn], fmt=money_text),
        empty=_("No store sales in this period for these filters."),
        note=note,
    )


def _largest(rows: list[list], key: Callable) -> tuple[list[list], str]:
    """The rows a chart draws: every row, or the `CHART_ROWS` largest by `key` (with a
    note saying so; the table and the CSV keep every row)."""
    if len(rows) <= CHART_ROWS:
        return rows, ""
    drawn = sorted(rows, key=lambda r: key(r) or 0, reverse=True)[:CHART_ROWS]
    note = _("The chart draws the %(n)s largest; the table and the CSV have every store.")
    return drawn, note % {"n": CHART_ROWS}


def _fulfilment_table(ctx: Dashboard) -> Table:
    per_store = ctx.per_store_fulfilment()
    rows = [
        [
            code,
            f["ready_hours_p50"],
            f["ready_hours_p90"],
            f["pickups_ended"],
            f["pickup_rate"],
            f["no_show_rate"],
            f["hold_hours_p50"],
            f["short_lines"],
            f["ship_hours_p50"],
        ]
        for code, f in per_store.items()
    ]
    title = _("BOPIS time to ready per store")
    ready, note = _largest([r for r in rows if r[1] is not None], lambda r: r[2])
    return Table(
        key="fulfilment",
        title=title,
        definition=str(kpis.DEFINITIONS["fulfilment"]),
        columns=[
            (_("Store"), "text"),
            (_("Hours to ready (p50)"), "hours"),
            (_("Hours to ready (p90)"), "hours"),
            (_("Pickups ended"), "number"),
            (_("Pickup rate"), "percent"),
            (_("No-show rate"), "percent"),
            (_("Hours held until collected (p50)"), "hours"),
            (_("Lines short at picking"), "number"),
            (_("Ship-from-store hours to ship (p50)"), "hours"),
        ],
        rows=rows,
        chart=charts.grouped_bars(
            title,
            [r[0] for r in ready],
            [("p50", [r[1] for r in ready]), ("p90", [r[2] for r in ready])],
            fmt=hours,
            empty=_("No pickup became ready in this period."),
        ),
        empty=_("No orders to fulfil in this period for these filters."),
        note=note,
    )


def _reasons_table(ctx: Dashboard) -> Table:
    by_reason = ctx.figures["returns"].get("by_reason") or []
    empty = _("Nothing came back in this period for these filters.")
    if isinstance(ctx.scope, RegionScope):
        # `returns.figures` narrows to one store or none: never the network's returns
        # under a region's name.
        by_reason = []
        empty = _("Returns by reason are shown for the network or for one store, not a region.")
    rows = [[r["label"], r["returns"], r["units"], r["refunded"]] for r in by_reason]
    title = _("Returns by reason")
    return Table(
        key="reasons",
        title=title,
        definition=str(kpis.DEFINITIONS["returns"]),
        columns=[
            (_("Reason"), "text"),
            (_("Returns"), "number"),
            (_("Units"), "number"),
            (_("Refunded"), "money"),
        ],
        rows=rows,
        chart=charts.bars(title, [r[0] for r in rows], [r[2] for r in rows], fmt=number),
        empty=empty,
    )


def _segments_table(ctx: Dashboard) -> Table:
    figures = ctx.figures["segments"]
    rows = [
        [
            str(segment_rules.LABELS[name]),
            f["customers"],
            f["revenue"],
            f["clv"],
            f["return_rate"],
        ]
        for name, f in figures.items()
    ]
    title = _("Channel-usage segments")
    return Table(
        key="segments",
        title=title,
        definition=str(kpis.DEFINITIONS["segments"]),
        columns=[
            (_("Segment"), "text"),
            (_("Customers"), "number"),
            (_("Net revenue in the period"), "money"),
            (_("Revenue per customer"), "money"),
            (_("Return rate"), "percent"),
        ],
        rows=rows,
        chart=charts.bars(title, [r[0] for r in rows], [r[1] for r in rows], fmt=number),
        empty=_("No customers yet."),
    )


def _appointments_table(ctx: Dashboard) -> Table:
    figures = ctx.figures["appointments"]
    rows = [
        [
            code,
            ctx.store_names.get(code, ""),
            f["booked"],
            f["completed"],
            f["conversion"],
            f["value_per_appointment"],
            f["no_show_rate"],
            f["lead_time_hours"],
        ]
        for code, f in figures["by_store"].items()
        if not isinstance(ctx.scope, RegionScope) or code in ctx.store_names
    ]
    title = _("Appointments by store")
    drawn, note = _largest(rows, lambda r: r[2])
    return Table(
        key="appointments",
        title=title,
        definition=str(kpis.DEFINITIONS["appointments"]),
        columns=[
            (_("Store"), "text"),
            (pgettext("a store's name", "Name"), "text"),
            (_("Appointments"), "number"),
            (_("Completed"), "number"),
            (_("Conversion"), "percent"),
            (_("Value per appointment"), "money"),
            (_("No-show rate"), "percent"),
            (_("Booking lead time"), "hours"),
        ],
        rows=rows,
        chart=charts.bars(title, [r[0] for r in drawn], [r[2] for r in drawn], fmt=number),
        empty=_("No appointments in this period for these filters."),
        note=note,
    )


def _headlines_table(ctx: Dashboard) -> Table:
    return Table(
        key="headlines",
        title=_("Headline figures"),
        definition="",
        columns=[
            (_("Figure"), "text"),
            (_("This period"), "text"),
            (_("Previous period"), "text"),
            (pgettext("difference from the previous period", "Change"), "text"),
        ],
        rows=[[h.label, h.value_text, h.previous_text, h.change_text] for h in ctx.headlines],
    )


#: key -> (builder, shown on a store's dashboard too)
TABLES: dict[str, tuple[Callable[[Dashboard], Table], bool]] = {
    "headlines": (_headlines_table, True),
    "revenue": (_revenue_table, True),
    "stores": (_by_store_table, False),
    "fulfilment": (_fulfilment_table, True),
    "reasons": (_reasons_table, True),
    "segments": (_segments_table, False),
    "appointments": (_appointments_table, True),
}


def table_keys(*, network: bool) -> list[str]:
    return [key for key, (_b, in_store) in TABLES.items() if network or in_store]
