"""Incentives on the tablet and at HQ, every figure from `insights.incentives`:

- `/store/incentives/mine/` — the associate's own figure and its make-up, a fragment
  that "My sales" loads (`hx-get`); only the signed-in person's own figures;
- `/store/incentives/` — the manager's team in the store they are working in (and its
  CSV); associates are refused;
- `/hq/incentives/` — every store's team total and every associate, filtered by period
  and store, paginated, with its CSV (streamed) and HQ's current weights.

Periods are store-local days on the tablet and the reporting time zone's days at HQ
(`insights.dates`), as the rollups are.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from insights import dates, incentives
from insights.kpis import Scope
from insights.models import IncentiveWeights
from retail import access
from retail.access import Area, area_required
from retail.csv_export import csv_stream
from retail.db_router import replica_reads
from retail.forms import PeriodFilterForm
from retail.models import Store, User
from retail.money import money_heading
from retail.views import store_or_choose

PAGE_SIZE = 50
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

THIS_MONTH, LAST_MONTH, LAST_30_DAYS = "this_month", "last_month", "last_30_days"
PERIODS = [
    (THIS_MONTH, gettext_lazy("This month")),
    (LAST_MONTH, gettext_lazy("Last month")),
    (LAST_30_DAYS, gettext_lazy("Last 30 days")),
]

# (part, label, basis is money, how its weight applies)
PERCENT, EACH, DEDUCT = "percent", "each", "deduct"
PARTS = (
    ("own_store_sales", gettext_lazy("Own store sales credited"), True, PERCENT),
    ("attributed_online", gettext_lazy("Online sales credited (attributed)"), True, PERCENT),
    ("pickups_handed", gettext_lazy("Pickups handed over"), False, EACH),
    ("followups_converted", gettext_lazy("Follow-ups converted"), False, EACH),
    ("returns_deducted", gettext_lazy("Credit reversed by returns"), True, DEDUCT),
)


def preset_period(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of a named period ending no later than `today`."""
    if name == LAST_MONTH:
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if name == LAST_30_DAYS:
        return today - dt.timedelta(days=29), today
    return today.replace(day=1), today


def _period_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=PERIODS,
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a period from the list.")},
    )


class IncentivePeriodForm(forms.Form):
    """This month (the default), last month or the last 30 days."""

    period = _period_field()

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def dates(self) -> tuple[dt.date, dt.date]:
        return preset_period(self.cleaned_data.get("period") or THIS_MONTH, self.today)


class IncentiveFilterForm(PeriodFilterForm):
    """A named period, or one's own first and last day (both, not after today, at most
    a year: `retail.forms.PeriodFilterForm`)."""

    field_order = ["period", "start", "end"]
    period = _period_field()

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if bool(start) != bool(end):
            raise forms.ValidationError(
                _("Give both the first and the last day, or choose a period.")
            )
        if end and end > self.today:
            raise forms.ValidationError(
                _("The period cannot end after today (%(today)s).") % {"today": self.today}
            )
        return data

    def dates(self) -> tuple[dt.date, dt.date]:
        data = self.cleaned_data
        if data.get("start") and data.get("end"):
            return data["start"], data["end"]
        return preset_period(data.get("period") or THIS_MONTH, self.today)


class HQIncentiveForm(IncentiveFilterForm):
    field_order = ["period", "start", "end", "store"]
    store = forms.ModelChoiceField(
        label=gettext_lazy("Store"),
        queryset=Store.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("Every store"),
        error_messages={"invalid_choice": gettext_lazy("That store code is unknown.")},
    )


# --- Presenting figures ---------------------------------------------------------------


def part_rows(item: incentives.Incentive) -> list[dict]:
    """The make-up of one figure, in PARTS order: label, basis, weight and amount."""
    rows = []
    for name, label, money, kind in PARTS:
        part = item.parts[name]
        rows.append(
            {
                "name": name,
                "label": label,
                "basis": part["basis"],
                "money": money,
                "kind": kind,
                "weight": part["weight"],
                "share": part["weight"] / HUNDRED,
                "amount": part["amount"],
            }
        )
    return rows


def _with_names(items: list[incentives.Incentive]) -> list[incentives.Incentive]:
    """Each item with its associate's name and make-up (one query for the names)."""
    names = {
        pk: f"{first} {last}".strip()
        for pk, first, last in User.objects.filter(
            pk__in={i.associate_id for i in items}
        ).values_list("pk", "first_name", "last_name")
    }
    for item in items:
        item.name = names.get(item.associate_id) or item.email
        item.rows = part_rows(item)
    return items


def weights_context(weights: IncentiveWeights) -> dict:
    return {
        "weights": weights,
        "own_share": weights.own_store_sales / HUNDRED,
        "online_share": weights.attributed_online / HUNDRED,
        "returns_share": weights.returns_deducted / HUNDRED,
    }


def _cents(value) -> str:
    return f"{Decimal(value or 0).quantize(CENT):.2f}"


def _total(items) -> Decimal:
    return sum((i.total for i in items), Decimal("0.00"))


def _csv(filename: str, items, start: dt.date, end: dt.date) -> HttpResponse:
    """One line per associate and store: the period, the total and each part's basis
    and amount (streamed). Money stays a plain number a spreadsheet sums ("5.70");
    its column's header names the currency ("Total (€)")."""
    header = [
        pgettext("first day of a period", "From"),
        pgettext("last day of a period", "To"),
        _("Store"),
        _("Associate"),
        _("Name"),
        money_heading(_("Total")),
    ]
    for _name, label, money, _kind in PARTS:
        basis = _("%(part)s: basis") % {"part": label}
        header += [
            money_heading(basis) if money else basis,
            money_heading(_("%(part)s: amount") % {"part": label}),
        ]

    def lines():
        for item in _with_names(items):
            line = [start, end, item.store, item.email, item.name, _cents(item.total)]
            for row in item.rows:
                basis = _cents(row["basis"]) if row["money"] else row["basis"]
                line += [basis, _cents(row["amount"])]
            yield line

    response = csv_stream(filename, header, lines())
    response["Cache-Control"] = "no-store"
    return response


# --- The associate's own figure ----------------------------------------------------------


@area_required(Area.STORE)
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The signed-in associate's own figure (per store they worked in), never anyone
    else's: no parameter names a person."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    form = IncentivePeriodForm(request.GET, today=store.local_now().date())
    context = {"form": form, "may_lead": access.may_lead_team(request.user, store)}
    if not form.is_valid():
        return render(request, "insights/incentives_mine.html", context, status=400)
    start, end = form.dates()
    weights = IncentiveWeights.current()
    items = _with_names(
        incentives.incentives(Scope(start, end), associate=request.user, weights=weights)
    )
    context.update(
        {"items": items, "total": _total(items), "start": start, "end": end},
        **weights_context(weights),
    )
    return render(request, "insights/incentives_mine.html", context)


# --- The manager's team ------------------------------------------------------------------


def _lead(request: HttpRequest):
    """(store, None) for a manager of the store they are working in, else (None, answer);
    an associate is refused."""
    store, choose = store_or_choose(request)
    if choose:
        return None, choose
    if not access.may_lead_team(request.user, store):
        raise PermissionDenied(_("Only the store's managers see its team's incentives."))
    return store, None


def _team_scope(request: HttpRequest, store):
    form = IncentiveFilterForm(request.GET, today=store.local_now().date())
    if not form.is_valid():
        return form, None
    start, end = form.dates()
    return form, Scope(start, end, store=store)


@area_required(Area.STORE)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    store, answer = _lead(request)
    if answer:
        return answer
    form, scope = _team_scope(request, store)
    context = {"store": store, "nav": "sales", "form": form, "query": request.GET.urlencode()}
    if scope is None:
        return render(request, "insights/incentives_team.html", context, status=400)
    weights = IncentiveWeights.current()
    items = _with_names(incentives.incentives(scope, weights=weights))
    context.update(
        {"items": items, "total": _total(items), "start": scope.start, "end": scope.end},
        **weights_context(weights),
    )
    return render(request, "insights/incentives_team.html", context)


@area_required(Area.STORE)
@require_GET
def team_csv(request: HttpRequest) -> HttpResponse:
    store, answer = _lead(request)
    if answer:
        return answer
    form, scope = _team_scope(request, store)
    if scope is None:
        context = {"store": store, "nav": "sales", "form": form}
        return render(request, "insights/incentives_team.html", context, status=400)
    items = incentives.incentives(scope)
    return _csv(f"aisle-incentives-{store.code}.csv", items, scope.start, scope.end)


# --- HQ: the network ---------------------------------------------------------------------


def _hq_scope(request: HttpRequest):
    params = {k: v for k, v in request.GET.items() if k != "page" and v != ""}
    form = HQIncentiveForm(params, today=dates.today())
    if not form.is_valid():
        return form, None
    start, end = form.dates()
    return form, Scope(start, end, store=form.cleaned_data.get("store"))


def _weights_url(weights: IncentiveWeights) -> str:
    if weights.pk:
        return reverse("admin:insights_incentiveweights_change", args=[weights.pk])
    return reverse("admin:insights_incentiveweights_add")


@area_required(Area.HQ)
@require_GET
@replica_reads
def network(request: HttpRequest) -> HttpResponse:
    form, scope = _hq_scope(request)
    weights = IncentiveWeights.current()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "title": _("Incentives"),
        "query": query.urlencode(),
        "weights_url": _weights_url(weights),
        "page": None,
        **weights_context(weights),
    }
    if scope is None:
        return render(request, "insights/incentives_hq.html", context, status=400)
    items = incentives.incentives(scope, weights=weights)
    people = {}
    for item in items:
        people[item.store] = people.get(item.store, 0) + 1
    stores = [
        {"store": code, "total": total, "people": people[code]}
        for code, total in incentives.by_store(items).items()
    ]
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_names(page.object_list)
    context.update(
        {
            "stores": stores,
            "total": _total(items),
            "page": page,
            "start": scope.start,
            "end": scope.end,
        }
    )
    return render(request, "insights/incentives_hq.html", context)


@area_required(Area.HQ)
@require_GET
@replica_reads
def network_csv(request: HttpRequest) -> HttpResponse:
    form, scope = _hq_scope(request)
    if scope is None:
        weights = IncentiveWeights.current()
        context = {
            "form": form,
            "title": _("Incentives"),
            "weights_url": _weights_url(weights),
            "page": None,
            **weights_context(weights),
        }
        return render(request, "insights/incentives_hq.html", context, status=400)
    code = scope.store.code if scope.store is not None else "network"
    items = incentives.incentives(scope)
    return _csv(f"aisle-incentives-{code}.csv", items, scope.start, scope.end)
