"""What a dashboard shows, built from the KPI functions (`insights.kpis`) for one scope:
the headline figures with their change against the previous period of the same
length, and the tables — each also a chart, and a CSV with the same rows.

Every figure comes from a KPI function (or `insights.series`, which adds up to them),
so the dashboards show the same numbers as `manage.py kpis`; they read rollups only,
in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from insights import charts, kpis, series
from insights import segments as segment_rules
from insights.dashboard.filters import RegionScope, previous
from insights.models import FulfilmentFact
from insights.templatetags.figures import currency_symbol, hours, money_text, number, percent
from orders.models import Channel
from retail.dates import when_text

#: The most rows a bar chart draws (the table beside it has them all).
CHART_ROWS = 20
#: The KPIs a store's dashboard leaves out: customers belong to the network, not a store.
NETWORK_ONLY = ("conversion", "clv", "loyalty", "segments")


# --- Formatting -----------------------------------------------------------------------------

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
        return f"{Decimal(value).quantize(Decimal('0.01')):.2f}"
    if kind == "month":
        return value.strftime("%Y-%m")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- Ready hours over several stores ----------------------------------------------------------


def ready_hours(scope: kpis.Scope) -> dict:
    """BOPIS hours from order to ready over every store in the scope (the network, a
    region or one store), as `kpis.fulfilment` defines them per store: p50 and p90 of
    `FulfilmentFact.hours_to_ready` of pickup and ship-to-store fulfilments of orders
    placed in the period that became ready. One query."""
    q = Q(day__gte=scope.start, day__lte=scope.end, method__in=("pickup", "ship_to_store"))
    q &= Q(hours_to_ready__isnull=False)
    if scope.store is not None:
        q &= Q(fulfilled_at=scope.store)
    elif isinstance(scope, RegionScope):
        q &= Q(fulfilled_at__in=scope.stores)
    if scope.channel:
        q &= Q(channel=scope.channel)
    values = list(FulfilmentFact.objects.filter(q).values_list("hours_to_ready", flat=True))
    return {"p50": kpis._percentile(values, 50), "p90": kpis._percentile(values, 90)}


# --- Headlines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadlineSpec:
    key: str
    label: object
    kind: str
    kpi: str  # whose definition explains it
    value: Callable[[dict], object]
    network_wide: bool = False


SPECS = (
    HeadlineSpec(
        "revenue", gettext_lazy("Net revenue"), "money", "revenue", lambda f: f["revenue"]["total"]
    ),
    HeadlineSpec(
        "influenced_online",
        gettext_lazy("Store-influenced online revenue"),
        "money",
        "store_influenced_online",
        lambda f: f["store_influenced_online"]["influenced_online"],
    ),
    HeadlineSpec(
        "bopis_share",
        gettext_lazy("BOPIS share of online orders"),
        "percent",
        "fulfilment_mix",
        lambda f: f["fulfilment_mix"]["bopis_share"],
    ),
    HeadlineSpec(
        "conversion",
        gettext_lazy("Cross-channel conversion"),
        "percent",
        "conversion",
        lambda f: f["conversion"]["rate"],
        network_wide=True,
    ),
    HeadlineSpec(
        "clv",
        gettext_lazy("Customer lifetime value (12 months)"),
        "money",
        "clv",
        lambda f: f["clv"]["historic"],
        network_wide=True,
    ),
    HeadlineSpec(
        "repeat_rate",
        gettext_lazy("Repeat-purchase rate"),
        "percent",
        "loyalty",
        lambda f: f["loyalty"]["repeat_rate"],
        network_wide=True,
    ),
    HeadlineSpec(
        "active_90d",
        gettext_lazy("Customers active in the last 90 days"),
        "percent",
        "loyalty",
        lambda f: f["loyalty"]["active_90d"],
        network_wide=True,
    ),
    HeadlineSpec(
        "ready_p50",
        gettext_lazy("BOPIS time to ready (median)"),
        "hours",
        "fulfilment",
        lambda f: f["ready"]["p50"],
    ),
    HeadlineSpec(
        "return_rate",
        gettext_lazy("Return rate"),
        "percent",
        "returns",
        lambda f: f["returns"]["rate"],
    ),
    HeadlineSpec(
        "webrooming",
        gettext_lazy("Webrooming (store orders after an online view)"),
        "percent",
        "webrooming",
        lambda f: f["webrooming"]["share"],
    ),
    HeadlineSpec(
        "showrooming",
        gettext_lazy("Showrooming (online orders after a store visit)"),
        "percent",
        "showrooming",
        lambda f: f["showrooming"]["share"],
    ),
)


@dataclass
class Headline:
    key: str
    label: str
    kind: str
    value: object
    previous: object
    definition: str
    network_wide: bool
    note: str = ""

    @property
    def value_text(self) -> str:
        return shown(self.value, self.kind)

    @property
    def previous_text(self) -> str:
        return shown(self.previous, self.kind)

    @property
    def change(self):
        """Shares: the difference in points; the rest: the relative change (None
        when there is nothing to compare with)."""
        if self.value is None or self.previous is None:
            return None
        if self.kind == "percent":
            return round((float(self.value) - float(self.previous)) * 100, 1)
        if not self.previous:
            return None
        return round((float(self.value) / float(self.previous) - 1) * 100, 1)

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return _("no comparison")
        sign = "+" if change > 0 else ("−" if change < 0 else "±")
        amount = number(abs(Decimal(str(change))))
        if self.kind == "percent":
            return _("%(sign)s%(n)s pts") % {"sign": sign, "n": amount}
        return f"{sign}{amount}%"

    @property
    def direction(self) -> str:
        change = self.change
        return "" if not change else ("up" if change > 0 else "down")


def _figures(scope: kpis.Scope, names: list[str]) -> dict:
    result = {name: kpis.KPIS[name](scope) for name in names}
    result["ready"] = ready_hours(scope)
    return result


def _notes(figures: dict) -> dict[str, str]:
    influenced = figures["store_influenced_online"]
    notes = {
        "influenced_online": _("%(share)s of online revenue; store revenue %(store)s")
        % {
            "share": percent(influenced["influenced_share"]),
            "store": money_text(influenced["store_revenue"]),
        },
        "ready_p50": _("p90: %(p90)s") % {"p90": hours(figures["ready"]["p90"])},
        "webrooming": _("%(n)s of %(total)s store orders")
        % {
            "n": number(figures["webrooming"]["webroomed_orders"]),
            "total": number(figures["webrooming"]["store_orders"]),
        },
        "showrooming": _("%(n)s of %(total)s online orders")
        % {
            "n": number(figures["showrooming"]["showroomed_orders"]),
            "total": number(figures["showrooming"]["online_orders"]),
        },
        "return_rate": _("%(units)s units returned; %(refunded)s refunded")
        % {
            "units": number(figures["returns"]["units_returned"]),
            "refunded": money_text(figures["returns"]["refunded"]),
        },
    }
    if "clv" in figures:
        notes["clv"] = _("Multichannel customers %(multi)s; single-channel %(single)s") % {
            "multi": money_text(figures["clv"]["multichannel"]["historic"]),
            "single": money_text(figures["clv"]["single_channel"]["historic"]),
        }
    return notes


# --- Tables ---------------------------------------------------------------------------------


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
}


def table_keys(*, network: bool) -> list[str]:
    return [key for key, (_b, in_store) in TABLES.items() if network or in_store]


# --- The dashboard ------------------------------------------------------------------------------


class Dashboard:
    """The figures of one scope (and its previous period), computed once, for the
    page and the CSVs. `network`: HQ's version (with the customers' figures)."""

    def __init__(self, scope: kpis.Scope, *, network: bool, store_names: dict | None = None):
        self.scope = scope
        self.network = network
        self.store_names = store_names or {}
        self.names = [n for n in kpis.KPIS if network or n not in NETWORK_ONLY]
        self.names = [n for n in self.names if n not in ("people",)]
        self._figures: dict | None = None
        self._headlines: list[Headline] | None = None

    @property
    def figures(self) -> dict:
        if self._figures is None:
            self._figures = _figures(self.scope, self.names)
        return self._figures

    @property
    def headlines(self) -> list[Headline]:
        if self._headlines is None:
            names = [n for n in self.names if n not in ("fulfilment", "segments")]
            before = _figures(previous(self.scope), names)
            notes = _notes(self.figures)
            self._headlines = [
                Headline(
                    key=spec.key,
                    label=str(spec.label),
                    kind=spec.kind,
                    value=spec.value(self.figures),
                    previous=spec.value(before),
                    definition=str(kpis.DEFINITIONS[spec.kpi]),
                    network_wide=spec.network_wide,
                    note=notes.get(spec.key, ""),
                )
                for spec in SPECS
                if spec.kpi in self.names
            ]
        return self._headlines

    def per_store_fulfilment(self) -> dict:
        per_store = self.figures["fulfilment"]
        if isinstance(self.scope, RegionScope):
            per_store = {c: f for c, f in per_store.items() if c in self.store_names}
        return per_store

    def table(self, key: str) -> Table:
        return TABLES[key][0](self)

    def tables(self) -> list[Table]:
        return [self.table(key) for key in table_keys(network=self.network) if key != "headlines"]
