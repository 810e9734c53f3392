"""Customer data rights in HQ (`/hq/customers/`) and the public unsubscribe page.

HQ finds a customer (three characters at least), opens their page (audited), downloads
the export (audited) or erases them (a reason and a confirmation; blockers shown, nothing
erased while any). Access: `retail.access` (HQ with the second factor); the unsubscribe
page is public (`access.PUBLIC_PAGES`): its signed token is the key.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from retail import (
    access,
    audit,
    customer_filters,
    data_rights,
    retention,
    services,
    unsubscribe,
    views,
)
from retail.access import Area, area_required
from retail.csv_export import csv_stream
from retail.db_router import replica_reads

SEARCH_MIN = 3
PAGE_SIZE = 25


class HQCustomerSearchForm(forms.Form):
    """A search (three characters at least), the filters other apps register
    (`retail.customer_filters`: the segment…), or both; neither is a form error."""

    q = forms.CharField(
        label=gettext_lazy("Find a customer"),
        required=False,
        min_length=SEARCH_MIN,
        max_length=100,
        strip=True,
        error_messages={
            "min_length": gettext_lazy("Type at least three characters."),
        },
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    needs_criteria = True  # the list shows nobody until something is searched or chosen

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        customer_filters.add_fields(self)

    def clean_q(self) -> str:
        """As on the tablet: an e-mail or a phone number whole (`retail.audit`)."""
        q = self.cleaned_data["q"]
        self.cleaned_data["query"] = audit.parse_query(q) if q else None
        return q

    def clean(self):
        data = super().clean()
        data["filters"] = customer_filters.chosen(data)
        if self.needs_criteria and not self.errors and not data.get("q") and not data["filters"]:
            raise forms.ValidationError(_("Type a name to search for, or choose a filter."))
        return data

    def filter_fields(self) -> list:
        return [self[f.name] for f in customer_filters.registered()]

    def listed(self, user) -> QuerySet:
        """The customers the valid form lists, with the filters' columns."""
        customers = access.customers_for(user).filter(merged_into__isnull=True)
        if self.cleaned_data.get("q"):
            customers = customers.search(self.cleaned_data["q"])
        customers = customer_filters.narrow(customers, self.cleaned_data["filters"])
        return customer_filters.annotate(customers)

    def audit_detail(self) -> dict:
        """What was searched and filtered, without personal data (`retail.audit`)."""
        query = self.cleaned_data.get("query")
        detail = audit.query_detail(query) if query is not None else {}
        return {**detail, "filters": self.cleaned_data["filters"]}


MARKETING_ONLY = "marketing"


class CampaignExportForm(HQCustomerSearchForm):
    """The list's search and filters, and whom of them to export (by default only those
    who agreed to marketing). Without a search or a filter: every customer (a campaign
    to everyone)."""

    needs_criteria = False

    consent = forms.ChoiceField(
        label=gettext_lazy("Whom to export"),
        required=False,
        choices=[
            (MARKETING_ONLY, gettext_lazy("Only customers who agreed to marketing")),
            ("all", gettext_lazy("Everyone in the list (not for marketing e-mails)")),
        ],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": gettext_lazy("Choose whom to export from the list.")},
    )

    def marketing_only(self) -> bool:
        return self.cleaned_data.get("consent", "") in ("", MARKETING_ONLY)


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why (for the record)"),
        max_length=200,
        strip=True,
        help_text=gettext_lazy(
            "For example: request of 3 May, ticket 1234 (no names or contact details)."
        ),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that this erases the customer's personal data for good."),
        required=True,
        error_messages={"required": gettext_lazy("Tick the box to confirm.")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"]
        if "\x00" in reason:
            raise forms.ValidationError(_("Write the reason in plain text."))
        return reason


def _customer_or_404(request: HttpRequest, pk: int, *, merged: bool = False):
    """The customer; a merged-away profile only where `merged` (the page, which then
    opens the survivor): export and erasure act on live profiles only."""
    if not access.may_manage_customer_data(request.user):
        raise PermissionDenied
    customers = access.customers_for(request.user).select_related("preferred_store")
    if not merged:
        customers = customers.filter(merged_into__isnull=True)
    return get_object_or_404(customers, pk=pk)


def _customers_page(request: HttpRequest, form, *, page=None, status: int = 200):
    return render(
        request,
        "hq/customers.html",
        {
            "form": form,
            "page": page,
            "columns": customer_filters.columns(),
            "query": _query_without_page(request),
            "export_form": CampaignExportForm(initial={"consent": MARKETING_ONLY}),
            "title": _("Customers"),
        },
        status=status,
    )


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _is_bound(request: HttpRequest) -> bool:
    names = {"q", *(f.name for f in customer_filters.registered())}
    return any(name in request.GET for name in names)


@area_required(Area.HQ)
def hq_customers(request: HttpRequest) -> HttpResponse:
    if not access.may_manage_customer_data(request.user):
        raise PermissionDenied
    form = HQCustomerSearchForm(request.GET if _is_bound(request) else None)
    page = None
    if form.is_valid():
        results = form.listed(request.user).select_related("preferred_store").order_by("name", "pk")
        page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
        columns = customer_filters.columns()
        for c in page.object_list:
            c.masked_email = audit.mask_email(c.email)
            c.filter_values = [f.label_of(getattr(c, f.annotation)) for f in columns]
        audit.customer_search_record(
            by=request.user,
            store=None,
            query=form.cleaned_data["query"],
            filters=form.cleaned_data["filters"],
            results=page.paginator.count,
            shown=[c.pk for c in page.object_list],
            source="hq",
        )
    status = 400 if form.is_bound and not form.is_valid() else 200
    return _customers_page(request, form, page=page, status=status)


CAMPAIGN_CSV = "aisle-customers-campaign.csv"


@area_required(Area.HQ)
@require_GET
@replica_reads
def hq_customers_campaign_csv(request: HttpRequest) -> HttpResponse:
    """The listed customers (all pages) as a CSV for a campaign, streamed; by default only
    those who agreed to marketing. Audited: what was searched, the filters, how many."""
    if not access.may_manage_customer_data(request.user):
        raise PermissionDenied
    form = CampaignExportForm(request.GET)
    if not form.is_valid():
        return _customers_page(request, form, status=400)
    customers = form.listed(request.user)
    if form.marketing_only():
        customers = customers.filter(marketing_consent=True)
    columns = customer_filters.columns()
    rows = customers.order_by("pk").values_list(
        "customer_ref",
        "name",
        "email",
        "phone",
        "preferred_store__code",
        "marketing_consent",
        *(f.annotation for f in columns),
    )
    audit.record(
        actor=request.user,
        action="customer.campaign_export",
        target_type=audit.LIST_TARGET,
        detail={
            **form.audit_detail(),
            "marketing_only": form.marketing_only(),
            "results": customers.count(),
        },
    )
    header = [
        _("Customer reference"),
        _("Name"),
        _("E-mail"),
        _("Phone"),
        _("Preferred store"),
        _("Marketing consent"),
        *(f.label for f in columns),
    ]
    yes, no = _("yes"), _("no")

    def lines():
        for ref, name, email, phone, store, consent, *values in rows.iterator(chunk_size=2000):
            labels = [f.label_of(v) for f, v in zip(columns, values, strict=True)]
            yield [ref or "", name, email, phone, store or "", yes if consent else no, *labels]

    response = csv_stream(CAMPAIGN_CSV, header, lines())
    response["Cache-Control"] = "no-store"
    return response


@area_required(Area.HQ)
def hq_customer(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(request, pk, merged=True)
    if customer.merged_into_id is not None:
        return views.to_survivor(request, customer, "hq_customers:detail")
    services.customer_profile_view(customer=customer, by=request.user, store=None)
    return render(
        request,
        "hq/customer.html",
        {
            "customer": customer,
            "blockers": data_rights.erasure_blockers(customer),
            "form": EraseForm(),
            "title": customer.name,
        },
    )


@area_required(Area.HQ)
def hq_customer_export(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(request, pk)
    document = data_rights.customer_export(customer)
    services.audit_record(actor=request.user, action="customer.export", target=customer)
    response = HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@area_required(Area.HQ)
@require_POST
def hq_customer_erase(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(request, pk)
    form = EraseForm(request.POST)
    blockers = data_rights.erasure_blockers(customer)
    if form.is_valid() and not blockers:
        try:
            data_rights.customer_erase(
                customer, by=request.user, reason=form.cleaned_data["reason"]
            )
        except data_rights.ErasureBlocked as exc:
            blockers = exc.blockers
        else:
            messages.success(request, _("The customer's personal data was erased."))
            return redirect("hq_customers:search")
    return render(
        request,
        "hq/customer.html",
        {"customer": customer, "blockers": blockers, "form": form, "title": customer.name},
        status=409 if blockers else 400,
    )


@area_required(Area.HQ)
def hq_retention(request: HttpRequest) -> HttpResponse:
    if not access.may_manage_customer_data(request.user):
        raise PermissionDenied
    page = Paginator(retention.inactive_customers(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hq/retention.html",
        {"status": retention.status(), "page": page, "title": _("Retention")},
    )


# --- Public: one-click unsubscribe --------------------------------------------------


@csrf_exempt  # the signed token is the key (and mail clients' one-click POST has no cookie)
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link does (mail scanners open links: nothing changes on GET);
    POST (the page's one button, or the mail client's List-Unsubscribe-Post) does it."""
    if request.method == "POST":
        outcome = unsubscribe.use(token)
    else:
        outcome, _message = unsubscribe.check(token)
    status = {
        unsubscribe.Outcome.INVALID: 400,
        unsubscribe.Outcome.EXPIRED: 410,
        unsubscribe.Outcome.USED: 409,
    }.get(outcome, 200)
    response = render(
        request, "unsubscribe.html", {"outcome": str(outcome), "token": token}, status=status
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
