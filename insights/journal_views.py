"""Finance's daily journal: HQ's for every store (`/hq/journal/`) and a store
manager's for their current store (`/store/journal/`), each with its CSV.

The filters are a period (store-local days; by default the last seven) and, at HQ, a
store. A period reversed, in the future or too long, an unknown store, or a manager
asking for a store that is not their current one: the page says why (400, or 403 for
another store), with no figures."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from insights import journal
from insights.dates import today
from insights.kpis import Scope, revenue
from retail import access
from retail.access import Area, area_required
from retail.csv_export import csv_stream
from retail.db_router import replica_reads
from retail.forms import PeriodFilterForm
from retail.models import Store
from retail.views import store_or_choose

DEFAULT_DAYS = 7


class JournalFilterForm(PeriodFilterForm):
    """The journal's period (and, at HQ, store). Empty days default to the last
    `DEFAULT_DAYS` up to `latest` (today where the day is furthest on)."""

    field_order = ["store", "start", "end"]

    store = forms.ModelChoiceField(
        label=gettext_lazy("Store"),
        queryset=Store.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("Every store and online orders"),
        error_messages={"invalid_choice": gettext_lazy("That store code is unknown.")},
    )

    def __init__(self, *args, latest: dt.date, with_store: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.latest = latest
        if not with_store:
            del self.fields["store"]

    def clean(self):
        given = [d for d in (self.cleaned_data.get("start"), self.cleaned_data.get("end")) if d]
        if any(d > self.latest for d in given):
            raise forms.ValidationError(
                _("The period cannot reach into the future: the last day is %(day)s.")
                % {"day": self.latest.isoformat()}
            )
        data = super().clean()  # reversed, or too long
        end = data.get("end") or self.latest
        data["start"] = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        data["end"] = end
        return data


def _params(request: HttpRequest) -> dict:
    return {k: v for k, v in request.GET.items() if v != ""}


def _render(request, form, *, store=None, hq: bool, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "hq": hq,
        "store": store,
        "base": "hq/base.html" if hq else "store/base.html",
        "nav": "journal",
        "title": _("Finance journal"),
        "journal": None,
    }
    if status == 200:
        data = form.cleaned_data
        chosen = data.get("store") if hq else store
        context.update(
            journal=journal.summary(data["start"], data["end"], chosen),
            dashboard_net=revenue(Scope(data["start"], data["end"], store=chosen))["total"],
            start=data["start"],
            end=data["end"],
            query=request.GET.urlencode(),
        )
    return render(request, "insights/journal.html", context, status=status)


def _csv(form, store) -> HttpResponse:
    data = form.cleaned_data
    code = store.code if store is not None else "all"
    name = f"aisle-journal-{code}-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.csv"
    return csv_stream(
        name, journal.csv_header(), journal.csv_rows(data["start"], data["end"], store)
    )


# --- HQ ----------------------------------------------------------------------------------


def _hq_form(request: HttpRequest) -> JournalFilterForm:
    latest = max([today(), *(today(s) for s in Store.objects.all())])
    return JournalFilterForm(_params(request), latest=latest)


@area_required(Area.HQ)
@require_GET
@replica_reads
def hq_journal(request: HttpRequest) -> HttpResponse:
    form = _hq_form(request)
    if not form.is_valid():
        return _render(request, form, hq=True, status=400)
    return _render(request, form, hq=True)


@area_required(Area.HQ)
@require_GET
@replica_reads
def hq_journal_csv(request: HttpRequest) -> HttpResponse:
    form = _hq_form(request)
    if not form.is_valid():
        return _render(request, form, hq=True, status=400)
    return _csv(form, form.cleaned_data.get("store"))


# --- A store manager's -------------------------------------------------------------------


def _manager_form(request: HttpRequest):
    """(store, form, None) for a manager of the current store, else (…, answer)."""
    store, choose = store_or_choose(request)
    if choose:
        return None, None, choose
    form = JournalFilterForm(_params(request), latest=today(store), with_store=False)
    if not access.is_manager(request.user) or not access.can_act_in(request.user, store):
        form.add_error(None, _("Only the store's managers see its journal."))
        return store, form, _render(request, form, store=store, hq=False, status=403)
    asked = request.GET.get("store")
    if asked and asked != store.code:
        form.add_error(None, _("This is the journal of %(code)s only.") % {"code": store.code})
        return store, form, _render(request, form, store=store, hq=False, status=403)
    if not form.is_valid():
        return store, form, _render(request, form, store=store, hq=False, status=400)
    return store, form, None


@area_required(Area.STORE)
@require_GET
def store_journal(request: HttpRequest) -> HttpResponse:
    store, form, answer = _manager_form(request)
    return answer or _render(request, form, store=store, hq=False)


@area_required(Area.STORE)
@require_GET
def store_journal_csv(request: HttpRequest) -> HttpResponse:
    store, form, answer = _manager_form(request)
    return answer or _csv(form, store)
