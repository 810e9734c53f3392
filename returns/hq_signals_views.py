"""HQ's return-risk page (`/hq/returns/risk/`): customers sorted by their abuse signals
over a period, with filters (signal, store, period, minimum signals), pages and a
search by customer reference; each row explains its signals with the figures behind
them. Names are masked (the reference identifies the customer; opening the profile is
audited), and reading the list is audited with the customers it showed. A POST
clears a customer's flag with a reason (audited).

Fixed number of queries whatever the data: the settings, the page's grouped tallies
and their count, the page's customers and clearances, the store filter, the audit row.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from retail import access, audit
from retail.access import Area, area_required
from retail.models import Store
from returns.risk import assess, tally
from returns.risk import services as risk_services
from returns.risk.models import CustomerSignalMonth, SignalClearance, SignalSettings
from returns.services import ReturnError

PAGE_SIZE = 25
PERIODS = (
    (12, gettext_lazy("Last 12 months")),
    (6, gettext_lazy("Last 6 months")),
    (3, gettext_lazy("Last 3 months")),
)


class RiskFilterForm(forms.Form):
    """The list's filters; anything forged is a form error (400), never a guess."""

    q = forms.CharField(label=gettext_lazy("Customer reference"), max_length=64, required=False)
    signal = forms.ChoiceField(
        label=gettext_lazy("Signal"),
        choices=[("", gettext_lazy("Any signal")), *assess.SIGNALS.items()],
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a signal from the list.")},
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Returned at store"),
        queryset=Store.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("Any store"),
        error_messages={"invalid_choice": gettext_lazy("There is no store with this code.")},
    )
    months = forms.TypedChoiceField(
        label=gettext_lazy("Period"),
        choices=PERIODS,
        coerce=int,
        required=False,
        empty_value=12,
        error_messages={"invalid_choice": gettext_lazy("Choose a period from the list.")},
    )
    min_score = forms.IntegerField(
        label=gettext_lazy("At least this many signals"),
        min_value=0,
        max_value=len(assess.SIGNALS),
        required=False,
        error_messages={
            "min_value": gettext_lazy("The number of signals cannot be below 0."),
            "max_value": gettext_lazy("There are only %(limit_value)s signals."),
            "invalid": gettext_lazy("The number of signals is a whole number."),
        },
    )

    def clean_q(self) -> str:
        value = "".join(ch for ch in self.cleaned_data.get("q", "") if ch >= " ").strip()
        return value

    def as_detail(self) -> dict:
        data = self.cleaned_data
        detail = {
            "signal": data.get("signal") or "",
            "store": data["store"].code if data.get("store") else "",
            "months": data.get("months") or 12,
            "min_score": self.score_floor,
        }
        if data.get("q"):
            detail.update(audit.safe_text(data["q"]))
        return detail

    @property
    def score_floor(self) -> int:
        value = self.cleaned_data.get("min_score")
        return 1 if value is None else value


def mask_name(name: str) -> str:
    """`Ada Lovelace` → `A••• L•••`: enough to tell two rows apart, not to name anyone."""
    parts = (name or "").split()
    return " ".join(f"{p[:1]}{audit.MASK}" for p in parts) or audit.MASK


def risk_rows(form: RiskFilterForm, rules: SignalSettings):
    """The customers with their grouped tallies and signals, sorted by risk (a queryset
    of dicts: one row per customer)."""
    data = form.cleaned_data
    months = data.get("months") or tally.WINDOW_MONTHS
    rows = CustomerSignalMonth.objects.filter(
        month__gte=tally.window_start(months),
        customer__merged_into__isnull=True,
        customer__erased_at__isnull=True,
    )
    if data.get("q"):
        rows = rows.filter(customer__customer_ref__iexact=data["q"])
    rows = (
        rows.values("customer_id")
        .annotate(**tally.aggregates())
        .annotate(**assess.score_annotations(rules))
        .annotate(
            score=assess.score_expression(),
            value_back=F("returned_value_sum") + F("receiptless_value_sum"),
        )
        .filter(score__gte=form.score_floor)
    )
    if data.get("signal"):
        rows = rows.filter(**{f"sig_{data['signal']}": 1})
    if data.get("store"):
        rows = rows.annotate(
            at_store=Count("pk", filter=Q(store=data["store"], returns__gt=0))
        ).filter(at_store__gt=0)
    return rows.order_by("-score", "-value_back", "-customer_id")


def _clearances(customer_ids) -> dict[int, SignalClearance]:
    found: dict[int, SignalClearance] = {}
    for c in (
        SignalClearance.objects.filter(customer_id__in=customer_ids, valid_until__gt=timezone.now())
        .select_related("cleared_by")
        .order_by("customer_id", "-created_at", "-pk")
    ):
        found.setdefault(c.customer_id, c)
    return found


def _list(request: HttpRequest, *, status: int = 200, message: str = "") -> HttpResponse:
    params = {k: v for k, v in request.GET.items() if k != "page" and v != ""}
    form = RiskFilterForm(params)
    context = {"form": form, "page": None, "message": message, "title": _("Return risk")}
    if not form.is_valid():
        return render(request, "returns/hq_risk.html", context, status=400)
    rules = SignalSettings.load()
    months = form.cleaned_data.get("months") or tally.WINDOW_MONTHS
    page = Paginator(risk_rows(form, rules), PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [row["customer_id"] for row in page.object_list]
    customers = access.customers_for(request.user).in_bulk(ids)
    clearances = _clearances(ids)
    shown = []
    for row in page.object_list:
        customer = customers.get(row["customer_id"])
        row["customer"] = customer
        row["masked_name"] = mask_name(customer.name if customer else "")
        row["assessment"] = assess.assess(
            tally.Figures.from_row(row),
            rules,
            clearance=clearances.get(row["customer_id"]),
            months=months,
        )
        shown.append(row["customer_id"])
    audit.record(
        actor=request.user,
        action="returns.risk_list",
        target_type="returns.risk",
        detail={"filters": form.as_detail(), "page": page.number, "shown": shown},
    )
    query = request.GET.copy()
    query.pop("page", None)
    context.update({"page": page, "query": query.urlencode(), "rules": rules, "months": months})
    return render(request, "returns/hq_risk.html", context, status=status)


@area_required(Area.HQ)
@require_http_methods(["GET", "POST"])
def risk(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list(request)
    customer_id = request.POST.get("customer", "")
    customer = (
        access.customers_for(request.user).filter(pk=int(customer_id)).first()
        if customer_id.isdigit() and len(customer_id) < 19
        else None
    )
    if customer is None:
        return _list(request, status=400, message=_("There is no such customer."))
    try:
        risk_services.signals_clear(
            customer=customer, by=request.user, reason=request.POST.get("reason", "")
        )
    except ReturnError as exc:
        return _list(request, status=exc.status, message=exc.detail)
    messages.success(
        request,
        _("The flag of customer %(ref)s is cleared. The reason is kept.")
        % {"ref": customer.customer_ref or f"#{customer.pk}"},
    )
    return redirect(request.get_full_path())
