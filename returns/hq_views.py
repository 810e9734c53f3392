"""HQ's view of what comes back (`/hq/returns/`): the figures of `returns.figures` for a
period, a store and a channel of purchase, one table per figure with its totals and its
definition, and each table as CSV with the same filters."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET

from orders.models import Channel
from retail.access import Area, area_required
from retail.csv_export import csv_stream
from retail.db_router import replica_reads
from retail.models import Store
from retail.money import money_cell, money_heading
from returns import figures
from returns.figures import Filters, Period

DEFAULT_DAYS = 30
#: The period's totals, computed once when a table asks for them.
Summary = Callable[[], dict]
MAX_PERIOD_DAYS = 366


class PeriodForm(forms.Form):
    """The page's filters; anything forged or reversed is a form error (400)."""

    start = forms.DateField(
        label=pgettext_lazy("first day of a period", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=pgettext_lazy("last day of a period", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Store"),
        queryset=Store.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("Every store"),
        error_messages={"invalid_choice": gettext_lazy("That store code is unknown.")},
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Bought in"),
        choices=[("", gettext_lazy("Every channel")), *Channel.choices],
        required=False,
        error_messages={"invalid_choice": gettext_lazy("That channel is unknown.")},
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        today = timezone.now().astimezone(dt.UTC).date()
        start, end = data.get("start"), data.get("end")
        if start is None and end is None:
            end = today
        if end is None:
            end = max(start, today)
        if start is None:
            start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The period ends before it starts."))
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise forms.ValidationError(
                _("Choose a period of at most %(n)s days.") % {"n": MAX_PERIOD_DAYS}
            )
        data["period"] = Period(start, end)
        data["filters"] = Filters(store=data.get("store"), channel=data.get("channel") or None)
        return data


def _form(request: HttpRequest) -> PeriodForm:
    params = {k: v for k, v in request.GET.items() if v != ""}
    if "start" not in params and "end" not in params:
        # The default period, shown in the fields: the last 30 days, today included.
        default = Period.last_days(DEFAULT_DAYS)
        params.update(start=default.start.isoformat(), end=default.end.isoformat())
    return PeriodForm(params)


# --- Tables -----------------------------------------------------------------------------


@dataclass
class Table:
    """A figure's rows and totals as raw values; `money` holds the indexes of the money
    columns (shown with the currency symbol on the page; plain numbers in the CSV, under
    a header that names the currency)."""

    key: str
    title: str
    definition: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    totals: list[list] = field(default_factory=list)
    note: str = ""
    money: frozenset[int] = frozenset()

    def csv_header(self) -> list[str]:
        return [money_heading(c) if i in self.money else c for i, c in enumerate(self.columns)]

    def csv_rows(self) -> list[list]:
        return [
            [money_cell(v) if i in self.money else v for i, v in enumerate(row)]
            for row in [*self.rows, *self.totals]
        ]


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value} %"


def _dimension(key: str, title, heading, rows: list[dict], summary: dict, note="") -> Table:
    return Table(
        key=key,
        title=str(title),
        definition=str(figures.DEFINITIONS[key]),
        columns=[str(heading), _("Code"), _("Returns"), _("Units"), _("Refunded")],
        rows=[[r["label"], r["key"], r["returns"], r["units"], r["refunded"]] for r in rows],
        totals=[[_("Total"), "", summary["returns"], summary["units"], summary["refunded"]]]
        if rows
        else [],
        note=note,
        money=frozenset({4}),
    )


def _by(name: str, title, heading, fn: Callable, **kwargs) -> Callable:
    def build(period: Period, filters: Filters, summary: Summary, *, full: bool) -> Table:
        extra = {} if full or "limit" not in kwargs else {"limit": kwargs["limit"]}
        note = ""
        if "limit" in kwargs and not full:
            note = _("The first %(n)s products; the CSV has all of them.") % {"n": kwargs["limit"]}
        return _dimension(name, title, heading, fn(period, filters, **extra), summary(), note)

    return build


def _boris(period: Period, filters: Filters, summary: Summary, *, full: bool) -> Table:
    share = figures.boris_share(period, filters)
    rows = [
        [
            r["label"],
            r["key"],
            r["returns"],
            r["units"],
            r["refunded"],
            _percent(r["units_share"]),
            _percent(r["value_share"]),
        ]
        for r in share["rows"]
    ]
    stores, total = share["in_stores"], share["total"]
    totals = []
    if share["rows"]:
        totals = [
            [
                _("Returned in stores (BORIS)"),
                "",
                stores["returns"],
                stores["units"],
                stores["refunded"],
                _percent(share["share_units"]),
                _percent(share["share_value"]),
            ],
            [
                _("All returns of online orders"),
                "",
                total["returns"],
                total["units"],
                total["refunded"],
                _percent(Decimal(100) if total["units"] else None),
                _percent(Decimal(100) if total["refunded"] else None),
            ],
        ]
    return Table(
        key="boris",
        title=_("Bought online, returned in store"),
        definition=str(figures.DEFINITIONS["boris"]),
        columns=[
            _("Received at"),
            _("Code"),
            _("Returns"),
            _("Units"),
            _("Refunded"),
            _("Share of units"),
            _("Share of value"),
        ],
        rows=rows,
        totals=totals,
        money=frozenset({4}),
    )


def _exchanges(period: Period, filters: Filters, summary: Summary, *, full: bool) -> Table:
    result = figures.exchange_rate(period, filters)
    total = result["total"]
    return Table(
        key="exchanges",
        title=_("Returns turned into sales"),
        definition=str(figures.DEFINITIONS["exchanges"]),
        columns=[
            _("Store"),
            _("Code"),
            _("Returns"),
            _("Exchanges"),
            _("Exchange rate"),
            _("Value saved"),
        ],
        rows=[
            [r["label"], r["key"], r["returns"], r["exchanges"], _percent(r["rate"]), r["saved"]]
            for r in result["rows"]
        ],
        totals=[
            [
                _("Total"),
                "",
                total["returns"],
                total["exchanges"],
                _percent(total["rate"]),
                total["saved"],
            ]
        ]
        if result["rows"]
        else [],
        money=frozenset({5}),
    )


def _tenders(period: Period, filters: Filters, summary: Summary, *, full: bool) -> Table:
    rows = figures.refunds_by_tender(period, filters)
    yes, no = _("yes"), _("no")
    return Table(
        key="tenders",
        title=_("Refunds by tender"),
        definition=str(figures.DEFINITIONS["tenders"]),
        columns=[_("Tender"), _("As store credit"), _("Refunds"), _("Amount"), _("Tax included")],
        rows=[
            [
                r["label"],
                yes if r["to_store_credit"] else no,
                r["refunds"],
                r["amount"],
                "—" if r["tax"] is None else r["tax"],
            ]
            for r in rows
        ],
        totals=[
            [
                _("Total"),
                "",
                sum(r["refunds"] for r in rows),
                sum((r["amount"] for r in rows), Decimal("0.00")),
                sum((r["tax"] or Decimal("0.00") for r in rows), Decimal("0.00")),
            ]
        ]
        if rows
        else [],
        money=frozenset({3, 4}),
    )


def _hold(period: Period, filters: Filters, summary: Summary, *, full: bool) -> Table:
    rows = figures.hold_stock(filters)
    units = sum(r["units"] for r in rows)
    average = round(sum(r["average_days"] * r["units"] for r in rows) / units, 1) if units else None
    return Table(
        key="hold",
        title=_("Returned stock waiting for a decision"),
        definition=str(figures.DEFINITIONS["hold"]),
        columns=[
            _("Store"),
            _("Hold"),
            _("Units"),
            _("Damaged"),
            _("For the vendor"),
            _("To donate"),
            _("Oldest (days)"),
            _("Average age (days)"),
        ],
        rows=[
            [
                r["label"],
                r["hold"],
                r["units"],
                r["damaged"],
                r["vendor"],
                r["donate"],
                r["oldest_days"],
                r["average_days"],
            ]
            for r in rows
        ],
        totals=[
            [
                _("Total"),
                "",
                units,
                sum(r["damaged"] for r in rows),
                sum(r["vendor"] for r in rows),
                sum(r["donate"] for r in rows),
                max(r["oldest_days"] for r in rows),
                average,
            ]
        ]
        if rows
        else [],
    )


#: Every table, in page order: key -> builder(period, filters, summary, full=...), where
#: `summary()` gives the period's totals (`figures.returns_summary`).
TABLES: dict[str, Callable[..., Table]] = {
    "by_store": _by(
        "by_store", gettext_lazy("By store"), gettext_lazy("Store"), figures.returns_by_store
    ),
    "by_reason": _by(
        "by_reason", gettext_lazy("By reason"), gettext_lazy("Reason"), figures.returns_by_reason
    ),
    "by_category": _by(
        "by_category",
        gettext_lazy("By category"),
        gettext_lazy("Category"),
        figures.returns_by_category,
    ),
    "by_product": _by(
        "by_product",
        gettext_lazy("By product"),
        gettext_lazy("Product"),
        figures.returns_by_product,
        limit=figures.TOP_PRODUCTS,
    ),
    "by_channel": _by(
        "by_channel",
        gettext_lazy("By channel of purchase"),
        gettext_lazy("Bought in"),
        figures.returns_by_channel,
    ),
    "by_disposition": _by(
        "by_disposition",
        gettext_lazy("By disposition"),
        gettext_lazy("Disposition"),
        figures.returns_by_disposition,
    ),
    "boris": _boris,
    "exchanges": _exchanges,
    "tenders": _tenders,
    "hold": _hold,
}


def _summary(period: Period, filters: Filters) -> Summary:
    """The period's totals, computed once and only for the tables that show them."""
    return functools.cache(lambda: figures.returns_summary(period, filters))


# --- Pages ------------------------------------------------------------------------------


def _refused(request: HttpRequest, form: PeriodForm) -> HttpResponse:
    """Bad filters: the reason on the page, 400, nothing computed."""
    context = {"title": _("Returns"), "form": form, "tables": None}
    return render(request, "hq/returns.html", context, status=400)


@area_required(Area.HQ)
@require_GET
@replica_reads
def overview(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        return _refused(request, form)
    period, filters = form.cleaned_data["period"], form.cleaned_data["filters"]
    summary = _summary(period, filters)
    tables = [build(period, filters, summary, full=False) for build in TABLES.values()]
    boris = next(t for t in tables if t.key == "boris")
    exchanges = next(t for t in tables if t.key == "exchanges")
    query = request.GET.copy()
    context = {
        "title": _("Returns"),
        "form": form,
        "period": period,
        "summary": summary(),
        "boris_share": boris.totals[0][5] if boris.totals else "—",
        "exchange_rate": exchanges.totals[0][4] if exchanges.totals else "—",
        "tables": tables,
        "query": query.urlencode(),
    }
    return render(request, "hq/returns.html", context)


@area_required(Area.HQ)
@require_GET
@replica_reads
def table_csv(request: HttpRequest, table: str) -> HttpResponse:
    build = TABLES.get(table)
    if build is None:
        raise Http404
    form = _form(request)
    if not form.is_valid():
        return _refused(request, form)
    period, filters = form.cleaned_data["period"], form.cleaned_data["filters"]
    result = build(period, filters, _summary(period, filters), full=True)
    name = f"aisle-returns-{table}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return csv_stream(name, result.csv_header(), result.csv_rows())
