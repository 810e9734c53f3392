"""HQ's list of receiving discrepancies (`/hq/ship/discrepancies/`): every ship-to-store
parcel a store received short or damaged — store, order, SKU, sent, short, damaged,
what happened to the order, when and who — with filters, pages and a CSV of the
filtered rows, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from orders.models import ReceivingDiscrepancy
from retail import access
from retail.access import Area, area_required
from retail.csv_export import csv_stream
from retail.db_router import replica_reads
from retail.forms import PeriodFilterForm, day_start
from retail.models import Store

PAGE_SIZE = 50
CSV_MAX_ROWS = 50_000


class DiscrepancyFilterForm(PeriodFilterForm):
    """The list's filters; anything forged is a form error (400), never a guess."""

    field_order = ["store", "kind", "order", "start", "end"]
    KINDS = (
        ("", gettext_lazy("Short or damaged")),
        ("short", gettext_lazy("Short")),
        ("damaged", gettext_lazy("Damaged")),
    )

    store = forms.ModelChoiceField(
        label=gettext_lazy("Store"),
        queryset=Store.objects.order_by("code"),
        to_field_name="code",
        required=False,
        error_messages={"invalid_choice": gettext_lazy("That store code is unknown.")},
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Found"),
        choices=KINDS,
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose short, damaged or both.")},
    )
    order = forms.CharField(label=gettext_lazy("Order or SKU"), max_length=64, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["store"].queryset = access.stores_for(user).order_by("code")


def filtered_rows(user, data: dict) -> QuerySet[ReceivingDiscrepancy]:
    rows = ReceivingDiscrepancy.objects.filter(store__in=access.stores_for(user)).select_related(
        "store", "order", "order_line", "from_location", "by"
    )
    if data.get("store"):
        rows = rows.filter(store=data["store"])
    if data.get("kind") == "short":
        rows = rows.filter(short__gt=0)
    elif data.get("kind") == "damaged":
        rows = rows.filter(damaged__gt=0)
    text = (data.get("order") or "").strip()
    if text:
        rows = rows.filter(Q(order__order_ref__iexact=text) | Q(order_line__sku__iexact=text))
    if data.get("start"):
        rows = rows.filter(at__gte=day_start(data["start"]))
    if data.get("end"):
        rows = rows.filter(at__lt=day_start(data["end"] + dt.timedelta(days=1)))
    return rows.order_by("-at", "-pk")


def _form(request: HttpRequest) -> DiscrepancyFilterForm:
    params = {k: v for k, v in request.GET.items() if k != "page" and v != ""}
    return DiscrepancyFilterForm(params, user=request.user)


def _refused(request: HttpRequest, form) -> HttpResponse:
    context = {"form": form, "page": None, "title": _("Receiving discrepancies")}
    return render(request, "orders/ship/hq_discrepancies.html", context, status=400)


@area_required(Area.HQ)
@require_GET
@replica_reads
def hq_discrepancies(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        return _refused(request, form)
    page = Paginator(filtered_rows(request.user, form.cleaned_data), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "title": _("Receiving discrepancies"),
    }
    return render(request, "orders/ship/hq_discrepancies.html", context)


@area_required(Area.HQ)
@require_GET
@replica_reads
def hq_discrepancies_csv(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        return _refused(request, form)
    rows = filtered_rows(request.user, form.cleaned_data)[:CSV_MAX_ROWS]
    header = [
        _("When (UTC)"),
        _("Store"),
        _("Order"),
        _("SKU"),
        _("Sent from"),
        _("Sent"),
        _("Good"),
        _("Short"),
        _("Damaged"),
        _("Re-sourced"),
        _("Cancelled and refunded"),
        _("Who"),
        _("Note"),
    ]
    lines = (
        [
            row.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            row.store.code,
            row.order.order_ref,
            row.order_line.sku,
            row.from_location.code,
            row.sent,
            row.good,
            row.short,
            row.damaged,
            row.resourced,
            row.cancelled,
            row.by.email if row.by else "",
            row.note,
        ]
        for row in rows.iterator(chunk_size=1000)
    )
    return csv_stream("aisle-receiving-discrepancies.csv", header, lines)
