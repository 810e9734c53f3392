"""The dashboards' pages: HQ's network dashboard (`/hq/`, every store), a store
manager's (`/store/insights/`, their current store only) with the panel on the store's
home, and every table of both as CSV with the same filters."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from insights.dashboard.board import Dashboard, cache_key, kept
from insights.dashboard.filters import DashboardForm, RegionScope, form_for, quick_periods
from insights.dashboard.tables import CHANNEL_LABELS, table_keys
from retail import access
from retail.access import Area, area_required
from retail.csv_export import csv_stream
from retail.db_router import replica_reads
from retail.views import store_or_choose


def region_of(scope) -> str:
    return scope.region if isinstance(scope, RegionScope) else ""


PANEL_FIGURES = ("revenue", "influenced_online", "ready_p50")


def scope_params(board: Dashboard) -> dict[str, str]:
    """The board's filters as the form cleaned them: the links on the page (CSV, quick
    periods) ask for exactly the figures shown, whatever else the URL carried."""
    scope = board.scope
    params = {"start": scope.start.isoformat(), "end": scope.end.isoformat()}
    if board.network and scope.store:
        params["store"] = scope.store.code
    if board.network and region_of(scope):
        params["region"] = region_of(scope)
    if scope.channel:
        params["channel"] = scope.channel
    return params


def _figures_html(request, form: DashboardForm, board: Dashboard, context: dict) -> str:
    """The filters, headlines and tables, drawn once per scope, language, day and rollup
    generation: a second look at the same figures renders only the page around them.
    (A valid form shows exactly its scope, so the scope is the key.)"""
    params = scope_params(board)
    today = form.today(board.scope.store)
    parts = {
        **context,
        "form": form,
        "board": board,
        "scope": board.scope,
        "query": urlencode(params),
        "quick": [
            (label, urlencode({**params, "start": start.isoformat(), "end": end.isoformat()}))
            for label, start, end in quick_periods(today)
        ],
        "channel_label": CHANNEL_LABELS.get(board.scope.channel, ""),
        "store_filtered": bool(board.network and (board.scope.store or region_of(board.scope))),
    }
    key = cache_key(
        "board",
        context["csv_url"],
        board.scope,
        today,
        getattr(board.scope.store, "name", ""),
        [(s.code, s.name, s.country) for s in form.stores],
    )
    html = kept(
        key,
        lambda: render_to_string(
            "insights/dashboard.html#board", {**parts, "tables": board.tables()}, request
        ),
    )
    return mark_safe(html)  # noqa: S308 - rendered by the template above, escaped there


def _page(request, form: DashboardForm, board: Dashboard | None, **context) -> HttpResponse:
    if board is None:
        return render(request, "insights/dashboard.html", {**context, "form": form}, status=400)
    html = _figures_html(request, form, board, context)
    context.update(form=form, scope=board.scope, board_html=html)
    return render(request, "insights/dashboard.html", context)


def _csv(board: Dashboard, table: str, prefix: str) -> HttpResponse:
    result = board.table(table)
    scope = board.scope
    name = f"{prefix}-{table}-{scope.start:%Y%m%d}-{scope.end:%Y%m%d}.csv"
    return csv_stream(name, result.csv_headings, result.csv_rows())


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


def _hq_context() -> dict:
    return {
        "title": _("Network dashboard"),
        "base": "hq/base.html",
        "csv_url": "insights_hq:csv",
        "network": True,
    }


@area_required(Area.HQ)
@require_GET
@replica_reads
def dashboard(request: HttpRequest) -> HttpResponse:
    form, board = _hq_board(request)
    return _page(request, form, board, **_hq_context())


@area_required(Area.HQ)
@require_GET
@replica_reads
def table_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in table_keys(network=True):
        raise Http404
    form, board = _hq_board(request)
    if board is None:
        return _page(request, form, None, **_hq_context())
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
