"""The tablet shell (`/store/`) and HQ's network overview (`/hq/network/`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from retail import access, audit, customer_page, services
from retail.access import Area, area_required
from retail.db_router import replica_reads
from retail.forms import CustomerSearchForm, StoreChoiceForm
from retail.models import Role, StaffProfile, Store

SEARCH_PAGE_SIZE = 20


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their own area after login."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    role = access.role_of(request.user)
    if role in (Role.ASSOCIATE, Role.STORE_MANAGER):
        return redirect("retail:store_home")
    if role == Role.KIOSK:
        return redirect("kiosk:home")
    if role == Role.HQ_ADMIN:
        return redirect("insights_hq:dashboard")
    raise PermissionDenied


def store_or_choose(request: HttpRequest):
    """(the current store, None), or (None, a redirect to choose one)."""
    store = access.current_store(request)
    if store is None:
        return None, redirect("retail:store_choose")
    return store, None


@area_required(Area.STORE)
def store_home(request: HttpRequest) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    return render(
        request,
        "store/home.html",
        {
            "store": store,
            "form": CustomerSearchForm(),
            "several_stores": len(access.store_ids_for(request.user)) > 1,
            # Managers get their store's figures (insights' panel, loaded by URL name).
            "insights_panel": access.may_lead_team(request.user, store),
        },
    )


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def store_choose(request: HttpRequest) -> HttpResponse:
    stores = access.stores_for(request.user).order_by("code")
    form = StoreChoiceForm(request.POST or None, stores=stores)
    if request.method == "POST" and form.is_valid():
        access.choose_store(request, form.cleaned_data["store"])
        return redirect("retail:store_home")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "store/choose_store.html", {"form": form, "stores": stores}, status=status
    )


@area_required(Area.STORE)
def customer_search(request: HttpRequest) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    form = CustomerSearchForm(request.GET or None, region=store.country or None)
    page = None
    if form.is_valid() and form.cleaned_data["q"]:
        results = (
            access.customers_for(request.user)
            .search(form.cleaned_data["q"], region=store.country or None)
            .select_related("preferred_store")
            .order_by("name", "pk")
        )
        page = Paginator(results, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
        audit.customer_search_record(
            by=request.user,
            store=store,
            query=form.cleaned_data["query"],
            results=page.paginator.count,
            shown=[c.pk for c in page.object_list],
        )
    context = {"store": store, "form": form, "page": page}
    template = "store/customer_search.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


@area_required(Area.STORE)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = get_object_or_404(
        access.customers_for(request.user).select_related("preferred_store"), pk=pk
    )
    if customer.merged_into_id is not None:
        return to_survivor(request, customer, "retail:customer_detail")
    services.customer_profile_view(customer=customer, by=request.user, store=store)
    context = {
        "store": store,
        "customer": customer,
        "sections": customer_page.render_sections(request, customer, store),
    }
    return render(request, "store/customer_detail.html", context)


def to_survivor(request: HttpRequest, customer, url_name: str) -> HttpResponse:
    """A merged-away profile opens the profile that stays, saying so (never the
    tombstone's stale data)."""
    survivor = services.customer_survivor(customer)
    messages.info(
        request,
        _("This profile was merged into %(name)s's: this is the profile that stays.")
        % {"name": survivor.name},
    )
    return redirect(url_name, pk=survivor.pk)


@area_required(Area.HQ)
@replica_reads
def hq_overview(request: HttpRequest) -> HttpResponse:
    """Stores with their staff per role and customers, in a fixed number of queries."""
    page = Paginator(access.stores_for(request.user).order_by("code"), 50).get_page(
        request.GET.get("page")
    )
    store_ids = [s.pk for s in page.object_list]
    staff = {
        (row["home_store"], row["role"]): row["n"]
        for row in StaffProfile.objects.filter(home_store__in=store_ids)
        .values("home_store", "role")
        .annotate(n=Count("pk"))
    }
    customers = dict(
        access.customers_for(request.user)
        .filter(preferred_store__in=store_ids)
        .values("preferred_store")
        .annotate(n=Count("pk"))
        .values_list("preferred_store", "n")
    )
    for s in page.object_list:
        s.managers = staff.get((s.pk, Role.STORE_MANAGER), 0)
        s.associates = staff.get((s.pk, Role.ASSOCIATE), 0)
        s.kiosks = staff.get((s.pk, Role.KIOSK), 0)
        s.customers = customers.get(s.pk, 0)
    totals = {
        "stores": Store.objects.count(),
        "open_stores": Store.objects.filter(is_open=True).count(),
        "staff": StaffProfile.objects.exclude(role=Role.KIOSK).count(),
        "customers": access.customers_for(request.user).count(),
        "customers_online": access.customers_for(request.user).exclude(customer_ref=None).count(),
    }
    context = {"page": page, "totals": totals, "title": _("Network overview")}
    return render(request, "hq/overview.html", context)
