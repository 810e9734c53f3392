"""HQ's audit page (`/hq/audit/`): who looked at whose data, when, from which store and
why, with filters, pages and a CSV of the filtered rows; and the alerts
(`/hq/audit/alerts/`). Reading either is itself audited (`retail.audit`)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncHour
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retail import access, audit
from retail.access import Area, area_required
from retail.csv_export import csv_stream
from retail.db_router import replica_reads
from retail.forms import PeriodFilterForm, day_start
from retail.models import AuditLog, Store, User

PAGE_SIZE = 50
CSV_MAX_ROWS = 50_000
ALERT_DAYS = 7
ALERT_ROWS = 200

ACTION_LABELS = {
    "customer.view": gettext_lazy("Opened the profile"),
    "customer.search": gettext_lazy("Searched customers"),
    "customer.campaign_export": gettext_lazy("Exported a customer list for a campaign"),
    "customer.match": gettext_lazy("Found by a whole e-mail or phone (walk-in guest)"),
    "customer.admin_list": gettext_lazy("Listed customers in administration"),
    "customer.admin_view": gettext_lazy("Opened the profile in administration"),
    "customer.api_read": gettext_lazy("Read through the API"),
    "auditlog.view": gettext_lazy("Read the audit page"),
    "auditlog.csv": gettext_lazy("Downloaded the audit log"),
    "auditlog.alerts": gettext_lazy("Read the audit alerts"),
    "auditlog.admin_list": gettext_lazy("Listed the audit log in administration"),
    "auditlog.admin_view": gettext_lazy("Opened an audit entry in administration"),
}


class AuditFilterForm(PeriodFilterForm):
    """The page's filters; anything forged is a form error (400), never a guess."""

    field_order = ["staff", "customer", "store", "start", "end"]

    staff = forms.ModelChoiceField(
        label=gettext_lazy("Staff"),
        queryset=User.objects.all(),
        required=False,
        widget=forms.NumberInput,
        error_messages={"invalid_choice": gettext_lazy("There is no staff account with this id.")},
    )
    customer = forms.IntegerField(
        label=gettext_lazy("Customer id"), required=False, min_value=1, max_value=2**63 - 1
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Store"),
        queryset=Store.objects.order_by("code"),
        to_field_name="code",
        required=False,
        error_messages={"invalid_choice": gettext_lazy("That store code is unknown.")},
    )

    def as_detail(self) -> dict:
        """The filters for the audit row of this reading (ids and dates only)."""
        data = self.cleaned_data
        detail = {
            "staff": data["staff"].pk if data.get("staff") else None,
            "customer": data.get("customer"),
            "store": data["store"].pk if data.get("store") else None,
            "start": data["start"].isoformat() if data.get("start") else None,
            "end": data["end"].isoformat() if data.get("end") else None,
        }
        return {k: v for k, v in detail.items() if v is not None}


def _shown(customer: int) -> Q:
    """Searches and lists whose `detail.shown` holds the customer's id. PostgreSQL asks
    the JSON field directly; SQLite has no JSON `contains`, so it reads the list with
    `json_each` (the embedded default)."""
    if connection.vendor == "postgresql":
        return Q(detail__shown__contains=[customer])
    table = connection.ops.quote_name(AuditLog._meta.db_table)
    return Q(
        pk__in=RawSQL(  # noqa: S611 - the table's name from the model, the id a parameter
            f"SELECT a.id FROM {table} AS a, json_each(a.detail, '$.shown') AS j "  # noqa: S608 - the model's table
            "WHERE j.value = %s",
            [int(customer)],
        )
    )


def filtered_rows(user, data: dict) -> QuerySet[AuditLog]:
    rows = access.audit_logs_for(user).select_related("actor", "store")
    if data.get("staff"):
        rows = rows.filter(actor=data["staff"])
    if data.get("customer"):
        # Rows about the customer, and searches and lists that showed them.
        customer = data["customer"]
        about = Q(target_type="retail.customer", target_id=str(customer))
        rows = rows.filter(about | _shown(customer))
    if data.get("store"):
        rows = rows.filter(store=data["store"])
    if data.get("start"):
        rows = rows.filter(at__gte=day_start(data["start"]))
    if data.get("end"):
        rows = rows.filter(at__lt=day_start(data["end"] + dt.timedelta(days=1)))
    return rows.order_by("-at", "-pk")


def why(row: AuditLog) -> str:
    """The row's reason in words: its action, and a search's kind and result count."""
    label = str(ACTION_LABELS.get(row.action, row.action))
    detail = row.detail or {}
    if "results" in detail:
        label += " · " + _("%(n)s results") % {"n": detail["results"]}
    if detail.get("query"):
        label += f" · “{detail['query']}”"
    elif detail.get("query_hash"):
        label += " · " + _("(e-mail or phone, hashed)")
    if detail.get("api_client"):
        label += " · " + _("API client #%(n)s") % {"n": detail["api_client"]}
    return label


def _guard(request: HttpRequest) -> None:
    if not access.may_review_audit(request.user):
        raise PermissionDenied


def _form(request: HttpRequest) -> AuditFilterForm:
    params = {k: v for k, v in request.GET.items() if k != "page" and v != ""}
    return AuditFilterForm(params)


@area_required(Area.HQ)
@replica_reads
def audit_log(request: HttpRequest) -> HttpResponse:
    _guard(request)
    form = _form(request)
    if not form.is_valid():
        context = {"form": form, "page": None, "title": _("Audit log")}
        return render(request, "hq/audit.html", context, status=400)
    page = Paginator(filtered_rows(request.user, form.cleaned_data), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for row in page.object_list:
        row.why = why(row)
        row.customer_id = row.target_id if row.target_type == "retail.customer" else ""
    audit.record(
        actor=request.user,
        action="auditlog.view",
        target_type="retail.auditlog",
        detail={"filters": form.as_detail(), "page": page.number},
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "title": _("Audit log"),
    }
    return render(request, "hq/audit.html", context)


@area_required(Area.HQ)
@replica_reads
def audit_csv(request: HttpRequest) -> HttpResponse:
    _guard(request)
    form = _form(request)
    if not form.is_valid():
        context = {"form": form, "page": None, "title": _("Audit log")}
        return render(request, "hq/audit.html", context, status=400)
    rows = filtered_rows(request.user, form.cleaned_data)[:CSV_MAX_ROWS]
    audit.record(
        actor=request.user,
        action="auditlog.csv",
        target_type="retail.auditlog",
        detail={"filters": form.as_detail()},
    )
    header = [
        _("When (UTC)"),
        _("Staff"),
        _("Action"),
        _("Record type"),
        _("Record id"),
        _("Store"),
        _("Why"),
    ]
    lines = (
        [
            row.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            row.actor.email if row.actor else "",
            row.action,
            row.target_type,
            row.target_id,
            row.store.code if row.store else "",
            why(row),
        ]
        for row in rows.iterator(chunk_size=1000)
    )
    return csv_stream("aisle-audit.csv", header, lines)


# --- Alerts ---------------------------------------------------------------------------


def heavy_viewers(since: dt.datetime, threshold: int) -> list[dict]:
    """Staff who opened more than `threshold` different profiles within one clock hour."""
    rows = (
        AuditLog.objects.filter(
            action__in=audit.PROFILE_VIEW_ACTIONS,
            target_type="retail.customer",
            at__gte=since,
            actor__isnull=False,
        )
        .annotate(hour=TruncHour("at"))
        .values("actor", "actor__email", "hour")
        .annotate(profiles=Count("target_id", distinct=True))
        .filter(profiles__gt=threshold)
        .order_by("-hour", "-profiles")
    )
    return list(rows[:ALERT_ROWS])


def unserved_views(since: dt.datetime) -> list[dict]:
    """Profiles opened at a store where the customer was never served (no order,
    pickup, return, note… there, nor their preferred store)."""
    rows = list(
        AuditLog.objects.filter(
            action="customer.view",
            target_type="retail.customer",
            at__gte=since,
            store__isnull=False,
            actor__isnull=False,
        )
        .values("actor", "actor__email", "store", "store__code", "target_id")
        .annotate(views=Count("pk"), last=Max("at"))
        .order_by("-last")[: ALERT_ROWS * 5]
    )
    for row in rows:
        row["customer"] = int(row["target_id"]) if row["target_id"].isdigit() else None
    customers = {r["customer"] for r in rows if r["customer"] is not None}
    stores = {r["store"] for r in rows}
    served = audit.served_pairs(customers, stores) if rows else set()
    alerts = [r for r in rows if r["customer"] is not None]
    return [r for r in alerts if (r["customer"], r["store"]) not in served][:ALERT_ROWS]


@area_required(Area.HQ)
@replica_reads
def audit_alerts(request: HttpRequest) -> HttpResponse:
    _guard(request)
    threshold = settings.AISLE_AUDIT_VIEWS_PER_HOUR
    since = timezone.now() - dt.timedelta(days=ALERT_DAYS)
    context = {
        "title": _("Audit alerts"),
        "threshold": threshold,
        "days": ALERT_DAYS,
        "heavy": heavy_viewers(since, threshold),
        "unserved": unserved_views(since),
    }
    audit.record(actor=request.user, action="auditlog.alerts", target_type="retail.auditlog")
    return render(request, "hq/audit_alerts.html", context)
