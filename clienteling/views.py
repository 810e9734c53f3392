"""The customer 360 panel on the tablet (a section of the customer page, registered
in `apps.py`), its actions (notes, follow-ups, outreach, consent), and the home screen's tasks
panel. Every view asks `retail.access`; every view of a customer is audit-logged."""

from __future__ import annotations

import uuid

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clienteling import profile, services
from clienteling.forms import NoteForm, OutreachForm, TaskForm
from clienteling.models import Appointment, FollowUpTask, Note, Outreach, TaskState
from retail import access, fragments
from retail import services as retail_services
from retail.access import Area, area_required
from retail.messaging import render_message
from retail.once import applied_once
from retail.views import store_or_choose

PURCHASES_PAGE = 10
NOTES_SHOWN = 20
TASKS_SHOWN = 10
APPOINTMENTS_SHOWN = 5


def _customer(request: HttpRequest, pk: int):
    return get_object_or_404(
        access.customers_for(request.user).select_related("preferred_store"), pk=pk
    )


def _back(customer, anchor: str = "") -> HttpResponse:
    return redirect(reverse("retail:customer_detail", args=[customer.pk]) + anchor)


def _once_key(kind: str, customer, form) -> str | None:
    """The key that makes the same form, sent twice, save once (None without a nonce)."""
    nonce = form.cleaned_data.get("nonce")
    return f"{kind}:{customer.pk}:{nonce}" if nonce else None


def _refuse(request, store, customer, form, message: str = "", explanation=None) -> HttpResponse:
    return render(
        request,
        "clienteling/form_error.html",
        {
            "store": store,
            "customer": customer,
            "form": form,
            "message": message,
            "explanation": explanation,
        },
        status=403 if explanation is not None else 400,
    )


def _purchases(customer, page):
    return Paginator(profile.purchases_page(customer), PURCHASES_PAGE).get_page(page)


# The panel is cached for every associate: its forms carry this in place of their
# one-time nonce (and `fragments.CSRF_SLOT` in place of the CSRF token), and each
# response puts a fresh nonce (and the reader's token) there.
NONCE_SLOT = "aisle-nonce-slot-7b9f2a"


def customer_section(request: HttpRequest, customer, store) -> str:
    """The 360 view of a customer, a section of the customer page (registered in
    `apps.py` with the versions that say when it changed: the page checks access,
    writes the audit row and keeps the render for every reader,
    `retail.customer_page`): journey, purchases, recommendations, notes, follow-ups
    and outreach. Holds nothing of its reader: `customer_section_finish` adds that."""
    with timezone.override(store.tz):
        today = store.local_now().date()
        return render_to_string("clienteling/panel.html", _panel_context(customer, store, today))


def customer_section_finish(request: HttpRequest, html: str) -> str:
    """The kept 360 section for this reader: their CSRF token and a fresh nonce."""
    return fragments.for_reader(request, html, **{NONCE_SLOT: uuid.uuid4().hex})


def _panel_context(customer, store, today) -> dict:
    return {
        "store": store,
        "customer": customer,
        "csrf_token": fragments.CSRF_SLOT,
        **profile.build(customer, store),
        "purchases": _purchases(customer, 1),
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
        # Coming appointments in any store (issue #24), with a link to book another.
        "appointments": list(
            Appointment.objects.holding()
            .filter(customer=customer, end__gt=timezone.now())
            .select_related("topic", "store", "associate")
            .order_by("start", "pk")[:APPOINTMENTS_SHOWN]
        ),
        "today": today,
        "nonce": NONCE_SLOT,
        "outreach_form": OutreachForm(initial={"nonce": NONCE_SLOT}),
    }


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
    context = {
        "store": store,
        "customer": customer,
        "purchases": _purchases(customer, request.GET.get("page")),
    }
    with timezone.override(store.tz):
        return render(request, "clienteling/panel.html#purchases", context)


def _customer_form(request, pk: int, form_class, kind: str, save) -> HttpResponse:
    """A form posted from the customer page: checked, saved once per nonce by
    `save(store, customer, cleaned_data, key)`, refused in place, back to its section."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = _customer(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        return _refuse(request, store, customer, form)
    try:
        save(store, customer, form.cleaned_data, _once_key(kind, customer, form))
    except services.ClientelingError as exc:
        return _refuse(request, store, customer, form, str(exc))
    return _back(customer, f"#{kind}s")


@area_required(Area.STORE)
@require_POST
@applied_once
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    def save(store, customer, data, key):
        services.note_add(
            customer=customer, text=data["text"], by=request.user, store=store, key=key
        )

    return _customer_form(request, pk, NoteForm, "note", save)


@area_required(Area.STORE)
@require_POST
@applied_once
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    def save(store, customer, data, key):
        services.task_create(
            customer=customer,
            store=store,
            title=data["title"],
            due_on=data["due_on"],
            by=request.user,
            assigned_to=request.user,
            key=key,
        )

    return _customer_form(request, pk, TaskForm, "task", save)


@area_required(Area.STORE)
@require_POST
@applied_once
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
        return _refuse(request, store, customer, form, str(exc), exc.explanation)
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
