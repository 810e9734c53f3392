"""The dashboards' pages: HQ's network dashboard (`/hq/`, every store), a store
manager's (`/store/insights/`, their current store only) with the panel on the store's
home, and every table of both as CSV with the same filters."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from insights.dashboard.board import Dashboard
from insights.dashboard.filters import DashboardForm, RegionScope, form_for, quick_periods
from insights.dashboard.tables import CHANNEL_LABELS, table_keys
from retail import access
from retail.access import Area, area_required
from retail.csv_export import csv_stream
from retail.views import store_or_choose


def region_of(scope) -> str:
    return scope.region if isinstance(scope, RegionScope) else ""


PANEL_FIGURES = ("revenue", "influenced_online", "ready_p50")


def _query(request: HttpRequest, **changes) -> str:
    query = request.GET.copy()
    query.pop("format", None)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


def _page(request, form: DashboardForm, board: Dashboard | None, **context) -> HttpResponse:
    status = 200
    if board is None:
        status = 400
    else:
        today = form.today(board.scope.store)
        context["quick"] = [
            (label, _query(request, start=start.isoformat(), end=end.isoformat()))
            for label, start, end in quick_periods(today)
        ]
        context.update(
            board=board,
            scope=board.scope,
            tables=board.tables(),
            query=_query(request),
            channel_label=CHANNEL_LABELS.get(board.scope.channel, ""),
            store_filtered=bool(board.network and (board.scope.store or region_of(board.scope))),
        )
    context["form"] = form
    return render(request, "insights/dashboard.html", context, status=status)


def _csv(board: Dashboard, table: str, prefix: str) -> HttpResponse:
    result = board.table(table)
    scope = board.scope
    name = f"{prefix}-{table}-{scope.start:%Y%m%d}-{scope.end:%Y%m%d}.csv"
    return csv_stream(name, result.headings, result.csv_rows())


# --- HQ -------------------------------------------------------------------------------------


def _hq_board(request: HttpRequest) -> tuple[DashboardForm, Dashboard | None]:
    form = form_for(request, stores=access.stores_for(request.user))
    if not form.is_valid():
        return form, None
    scope = form.cleaned_data["scope"]
    stores = form.stores
    if isinstance(scope, RegionScope):
        stores = [s for s in stores if s.pk in scope.stores]
    names = {s.code: s.name for s in stores}
    return form, Dashboard(scope, network=True, store_names=names)


@area_required(Area.HQ)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form, board = _hq_board(request)
    return _page(
        request,
        form,
        board,
        title=_("Network dashboard"),
        base="hq/base.html",
        csv_url="insights_hq:csv",
        network=True,
    )


@area_required(Area.HQ)
@require_GET
def table_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in table_keys(network=True):
        raise Http404
    form, board = _hq_board(request)
    if board is None:
        return _page(request, form, None, title=_("Network dashboard"), base="hq/base.html")
    return _csv(board, table, "aisle-network")


# --- A store manager's --------------------------------------------------------------------------


def _store_board(request: HttpRequest):
    """(store, form, board) of a manager's current store, or (None, response)."""
    store, choose = store_or_choose(request)
    if choose:
        return None, choose, None
    if not access.may_lead_team(request.user, store):
        raise PermissionDenied
    asked = request.GET.get("store")
    if asked and asked != store.code:
        raise PermissionDenied  # another store's numbers: never, whatever the URL says
    form = form_for(request, store=store)
    if not form.is_valid():
        return store, form, None
    return store, form, Dashboard(form.cleaned_data["scope"], network=False)


def _store_context(store) -> dict:
    return {
        "title": _("%(store)s: dashboard") % {"store": store.name},
        "base": "store/base.html",
        "csv_url": "insights_store:csv",
        "network": False,
        "store": store,
    }


@area_required(Area.STORE)
@require_GET
def store_dashboard(request: HttpRequest) -> HttpResponse:
    store, form, board = _store_board(request)
    if store is None:
        return form  # the redirect to choose a store
    return _page(request, form, board, **_store_context(store))


@area_required(Area.STORE)
@require_GET
def store_table_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in table_keys(network=False):
        raise Http404
    store, form, board = _store_board(request)
    if store is None:
        return form
    if board is None:
        return _page(request, form, None, **_store_context(store))
    return _csv(board, table, f"aisle-{store.code}")


@area_required(Area.STORE)
@require_GET
def store_panel(request: HttpRequest) -> HttpResponse:
    """The store home's panel for its managers: a few headline figures of the last
    30 days and the way to the dashboard."""
    store, form, board = _store_board(request)
    if store is None:
        return form
    figures = []
    if board is not None:
        figures = [h for h in board.headlines if h.key in PANEL_FIGURES]
    context = {
        "store": store,
        "figures": figures,
        "scope": board.scope if board else None,
        "url": reverse("insights_store:dashboard"),
    }
    return render(request, "insights/panel.html", context)
