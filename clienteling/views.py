"""The customer 360 panel on the tablet (loaded by the customer page with hx-get),
its actions (notes, follow-ups, outreach, consent), and the home screen's tasks
panel. Every view asks `retail.access`; every view of a customer is audit-logged."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from clienteling import profile, services
from clienteling.forms import NoteForm, OutreachForm, TaskForm
from clienteling.models import FollowUpTask, Note, Outreach, TaskState
from retail import access
from retail import services as retail_services
from retail.access import Area, area_required
from retail.messaging import render_message
from retail.views import store_or_choose

PURCHASES_PAGE = 10
NOTES_SHOWN = 20
TASKS_SHOWN = 10


def _customer(request: HttpRequest, pk: int):
    return get_object_or_404(
        access.customers_for(request.user).select_related("preferred_store"), pk=pk
    )


def _back(customer, anchor: str = "") -> HttpResponse:
    return redirect(reverse("retail:customer_detail", args=[customer.pk]) + anchor)


def _refuse(request, store, customer, form, message: str = "") -> HttpResponse:
    return render(
        request,
        "clienteling/form_error.html",
        {"store": store, "customer": customer, "form": form, "message": message},
        status=400,
    )


def _purchases(request: HttpRequest, customer):
    return Paginator(profile.purchases_page(customer), PURCHASES_PAGE).get_page(
        request.GET.get("page")
    )


def _heavy_html(request: HttpRequest, customer, store) -> str:
    """The journey, recommendations, purchases and summary, rendered once and kept in
    the cache until the customer's browsing, orders or profile change (one small
    query tells), the affinities are rebuilt, or a minute passes (stock moves)."""
    key = profile.panel_cache_key(customer, store, translation.get_language())
    html = cache.get(key)
    if html is None:
        context = {
            "store": store,
            "customer": customer,
            "currency": settings.AISLE_CURRENCY,
            **profile.build(customer, store),
            "purchases": _purchases(request, customer),
        }
        html = render_to_string("clienteling/panel.html#heavy", context, request=request)
        cache.set(key, html, profile.PANEL_SECONDS)
    return mark_safe(html)  # noqa: S308 - our own template's output


@area_required(Area.STORE)
@require_GET
def customer_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The 360 view of a customer: journey, purchases, recommendations, notes,
    follow-ups and outreach. A fixed number of queries; audit-logged."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, pk)
    retail_services.audit_record(
        actor=request.user, action="customer.view_360", target=customer, store=store
    )
    with timezone.override(store.tz):
        context = {
            "store": store,
            "customer": customer,
            "heavy_html": _heavy_html(request, customer, store),
            "notes": list(
                Note.objects.filter(customer=customer)
                .select_related("author")
                .order_by("-created_at", "-pk")[:NOTES_SHOWN]
            ),
            "tasks": list(
                FollowUpTask.objects.filter(customer=customer, state=TaskState.OPEN)
                .select_related("assigned_to", "store")
                .order_by("due_on", "pk")[:TASKS_SHOWN]
            ),
            "outreach": list(
                Outreach.objects.filter(customer=customer)
                .select_related("sent_by")
                .order_by("-created_at", "-pk")[:5]
            ),
            "outreach_refusal": services.outreach_refusal(customer),
            "today": store.local_now().date(),
            "outreach_form": OutreachForm(),
        }
        return render(request, "clienteling/panel.html", context)


@area_required(Area.STORE)
@require_GET
def customer_purchases(request: HttpRequest, pk: int) -> HttpResponse:
    """One page of the customer's purchases (htmx pagination)."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, pk)
    retail_services.audit_record(
        actor=request.user, action="customer.view_purchases", target=customer, store=store
    )
    context = {"store": store, "customer": customer, "purchases": _purchases(request, customer)}
    with timezone.override(store.tz):
        return render(request, "clienteling/panel.html#purchases", context)


@area_required(Area.STORE)
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _refuse(request, store, customer, form)
    try:
        services.note_add(
            customer=customer, text=form.cleaned_data["text"], by=request.user, store=store
        )
    except services.ClientelingError as exc:
        return _refuse(request, store, customer, form, str(exc))
    return _back(customer, "#notes")


@area_required(Area.STORE)
@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, pk)
    form = TaskForm(request.POST)
    if not form.is_valid():
        return _refuse(request, store, customer, form)
    try:
        services.task_create(
            customer=customer,
            store=store,
            title=form.cleaned_data["title"],
            due_on=form.cleaned_data["due_on"],
            by=request.user,
            assigned_to=request.user,
        )
    except services.ClientelingError as exc:
        return _refuse(request, store, customer, form, str(exc))
    return _back(customer, "#tasks")


@area_required(Area.STORE)
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    _store, choose = store_or_choose(request)
    if choose:
        return choose
    task = get_object_or_404(
        FollowUpTask.objects.select_related("customer", "store"),
        pk=pk,
        store_id__in=access.store_ids_for(request.user),
    )
    services.task_complete(task=task, by=request.user)
    if request.POST.get("next") == "home":
        return redirect("retail:store_home")
    return _back(task.customer, "#tasks")


@area_required(Area.STORE)
@require_POST
def outreach_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What the customer would receive (nothing is sent)."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, pk)
    form = OutreachForm(request.POST)
    preview = None
    if form.is_valid():
        subject, text, _html = render_message(
            services.OUTREACH_TEMPLATE,
            {
                "subject": form.cleaned_data["subject"],
                "body": form.cleaned_data["body"],
                "store": store.name,
                "customer_name": customer.first_name,
            },
            customer.language or "en",
        )
        preview = {"subject": subject, "text": text}
    context = {
        "store": store,
        "customer": customer,
        "outreach_form": form,
        "preview": preview,
        "outreach_refusal": services.outreach_refusal(customer),
    }
    return render(
        request, "clienteling/panel.html#outreach-form", context, status=200 if preview else 400
    )


@area_required(Area.STORE)
@require_POST
def outreach_send(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, pk)
    form = OutreachForm(request.POST)
    if not form.is_valid():
        return _refuse(request, store, customer, form)
    try:
        services.outreach_send(
            customer=customer,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            by=request.user,
            store=store,
            nonce=form.cleaned_data["nonce"],
        )
    except services.ClientelingError as exc:
        return _refuse(request, store, customer, form, str(exc))
    return _back(customer, "#outreach")


@area_required(Area.STORE)
@require_POST
def tracking_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer asks, in store, to stop tracking: their browsing is deleted."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, pk)
    retail_services.customer_consent_withdraw(
        customer=customer, kind="tracking", by=request.user, store=store
    )
    return _back(customer)


@area_required(Area.STORE)
@require_GET
def tasks_panel(request: HttpRequest) -> HttpResponse:
    """The home screen's panel: my open follow-ups (and the store's unassigned ones)."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    tasks = list(
        FollowUpTask.objects.filter(store=store, state=TaskState.OPEN)
        .filter(Q(assigned_to=request.user) | Q(assigned_to__isnull=True))
        .select_related("customer")
        .order_by("due_on", "pk")[:TASKS_SHOWN]
    )
    today = store.local_now().date()
    return render(
        request,
        "clienteling/tasks_panel.html",
        {"store": store, "tasks": tasks, "today": today, "now": timezone.now()},
    )
