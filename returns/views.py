"""The returns pages on the associate's tablet (`/store/returns/`, namespace
`returns_store`): find an order or a return by scan, return an order of any channel at
this store (BORIS), receive a return started online, approve or refuse, print a
receipt; the home panel and the customer page's returns section.

Views validate input and call `returns.services`; refusals answer 4xx with the
service's message, nothing written."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders.models import Order, OrderLine
from orders.returning import NotReturnable
from retail import access, polls
from retail.access import Area, area_required
from retail.money import money_text
from retail.once import applied_once
from retail.views import store_or_choose
from returns import services
from returns.exchange import exchange_view
from returns.forms import CancelForm, DecisionForm, FindForm, ReturnForm, new_return_ref
from returns.models import (
    OPEN_STATES,
    Disposition,
    Return,
    ReturnState,
    StartedVia,
)
from returns.risk import views as risk_views

RECENT_PAGE = 20
QUEUE_ROWS = 50
PANEL_ROWS = 5
CUSTOMER_ORDERS = 10
CUSTOMER_RETURNS = 10
POLL = "every 3s"

EVENT_LABELS = {
    "return_requested": gettext_lazy("Return requested"),
    "return_started": gettext_lazy("Return started"),
    "return_changed": gettext_lazy("State changed"),
    "return_approved": gettext_lazy("Approved by a manager"),
    "return_exchanged": gettext_lazy("Exchanged"),
}


def _refund_text(ret) -> str:
    """The return's refund with its order's currency symbol ("€54.00")."""
    return money_text(ret.refund_amount, ret.order.currency if ret.order_id else None)


def _nav(context: dict) -> dict:
    context.setdefault("nav", "returns")
    return context


# --- Find -------------------------------------------------------------------------------


def _store_returns(store):
    return Return.objects.filter(store=store).select_related("order", "customer")


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def find(request: HttpRequest) -> HttpResponse:
    """Scan or type an order reference or a return code; below, this store's returns
    waiting for a manager and its recent returns."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    form = FindForm(request.POST or None)
    message, status = "", 200
    if request.method == "POST":
        q = form.cleaned_data["q"] if form.is_valid() else ""
        found = services.find(q) if q else None
        if isinstance(found, Return):
            return redirect("returns_store:detail", pk=found.pk)
        if isinstance(found, Order):
            return redirect("returns_store:order", order_id=found.pk)
        if not q and not form.errors:
            message, status = (
                _("Scan the QR code, or type an order reference or a return code."),
                400,
            )
        else:
            message, status = (
                _("No order or return has this reference or code. Check it and try again."),
                404,
            )
        form = FindForm()
    page = Paginator(_store_returns(store).order_by("-created_at", "-pk"), RECENT_PAGE).get_page(
        request.GET.get("page")
    )
    waiting = list(
        _store_returns(store)
        .filter(state=ReturnState.AWAITING_APPROVAL)
        .order_by("created_at", "pk")[:QUEUE_ROWS]
    )
    context = _nav(
        {
            "store": store,
            "form": form,
            "message": message,
            "waiting": waiting,
            "page": page,
        }
    )
    return render(request, "returns/find.html", context, status=status)


# --- Returning an order at the counter ---------------------------------------------------


def _shelf(store):
    """The store's stock location, where returned units go (None: it has none)."""
    return getattr(store, "stock_location", None)


def _no_shelf_message() -> str:
    return _("This store has no stock location to take returns into. Ask HQ to set one up.")


def _order(order_id: int) -> Order:
    # Any order from any channel, bought at any store: returns are taken everywhere.
    order = Order.objects.select_related("customer", "store").filter(pk=order_id).first()
    if order is None:
        raise Http404(_("There is no such order."))
    return order


def _order_page(
    request,
    store,
    order,
    *,
    form=None,
    views=None,
    status=200,
    message="",
    quote=None,
    refused_lines=(),
):
    views = views if views is not None else services.explain_order(order, store=store)
    if form is None:
        form = ReturnForm(
            initial={"return_ref": new_return_ref()},
            views=views,
            has_customer=order.customer_id is not None,
        )
    context = _nav(
        {
            "store": store,
            "order": order,
            "form": form,
            "rows": form.line_rows,
            "any_returnable": any(v.returnable for v in views),
            "message": message,
            "quote": quote,
            "refused_lines": refused_lines,
            "payments": list(order.payments.order_by("pk")),
            **risk_views.panel_context(request, order.customer, store),
        }
    )
    return render(request, "returns/order.html", context, status=status)


def _bound_form(request, order, views) -> ReturnForm:
    return ReturnForm(
        request.POST,
        request.FILES,
        views=views,
        has_customer=order.customer_id is not None,
    )


def _form_message(form: ReturnForm) -> str:
    errors = form.non_field_errors()
    if errors:
        return " ".join(str(e) for e in errors)
    return _("Check the highlighted fields.")


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def order_page(request: HttpRequest, order_id: int) -> HttpResponse:
    """Every line of the order with why it is or is not returnable; POST confirms the
    return (a double tap, with the same hidden `return_ref`, returns once)."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    order = _order(order_id)
    if request.method == "GET":
        return _order_page(request, store, order)
    views = services.explain_order(order, store=store)
    form = _bound_form(request, order, views)
    if not form.is_valid():
        return _order_page(
            request, store, order, form=form, views=views, status=400, message=_form_message(form)
        )
    if _shelf(store) is None:
        return _order_page(
            request, store, order, form=form, views=views, status=409, message=_no_shelf_message()
        )
    try:
        ret, created = services.return_at_counter(
            order=order,
            asks=form.asks,
            store=store,
            by=request.user,
            return_ref=form.cleaned_data["return_ref"],
            refund_to=form.cleaned_data["refund_to"],
        )
    except NotReturnable as exc:
        return _order_page(
            request,
            store,
            order,
            form=form,
            views=views,
            status=exc.status,
            message=exc.detail,
            refused_lines=exc.extra.get("lines", []),
        )
    except services.ReturnError as exc:
        return _order_page(
            request, store, order, form=form, views=views, status=exc.status, message=exc.detail
        )
    if ret.order_id != order.pk:
        # The reference belongs to another order's return: nothing was written here.
        return _order_page(
            request,
            store,
            order,
            status=409,
            message=_("This return reference is already used. Reload the page and try again."),
        )
    if created and ret.state == ReturnState.AWAITING_APPROVAL:
        messages.warning(request, _("The return waits for a manager's approval."))
    elif created:
        messages.success(
            request,
            _("Returned. Refunded %(amount)s. The receipt is on its way to the customer.")
            % {"amount": _refund_text(ret)},
        )
    return redirect("returns_store:detail", pk=ret.pk)


@area_required(Area.STORE)
@require_POST
def order_preview(request: HttpRequest, order_id: int) -> HttpResponse:
    """The refund the chosen lines would give (htmx fragment): nothing written."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    order = _order(order_id)
    views = services.explain_order(order, store=store)
    form = _bound_form(request, order, views)
    context = {"store": store, "order": order, "form": form, "quote": None, "message": ""}
    status = 200
    if not form.is_valid():
        context["message"], status = _form_message(form), 400
        context["field_errors"] = _field_errors(form)
    else:
        try:
            context["quote"] = services.quote(order=order, asks=form.asks, store=store, views=views)
            context["quote"].approval_reasons = services.with_signal_reason(
                context["quote"].approval_reasons, order.customer
            )
        except services.OrderError as exc:
            context["message"], status = exc.detail, exc.status
    context["refund_to"] = form.cleaned_data.get("refund_to") if form.is_bound else ""
    if not request.htmx:
        return _order_page(
            request,
            store,
            order,
            form=form,
            views=views,
            status=status,
            message=context["message"],
            quote=context["quote"],
        )
    return render(request, "returns/order.html#quote", context, status=status)


def _field_errors(form) -> list[str]:
    """Field errors as `SKU: message` for the preview's summary."""
    out = []
    for view, bound in form.line_rows:
        if bound is None:
            continue
        for field in bound.values():
            for error in field.errors:
                out.append(f"{view.line.sku}: {error}")
    return out


@area_required(Area.STORE)
@require_GET
def order_receipt(request: HttpRequest, order_id: int) -> HttpResponse:
    """A printable receipt of the order with the QR code of its reference (what the
    customer brings back to return it)."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    order = _order(order_id)
    lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
    context = {
        "store": store,
        "order": order,
        "lines": lines,
        "payments": list(order.payments.order_by("pk")),
        "qr_payload": f"AISLE-ORDER:{order.order_ref}",
    }
    return render(request, "returns/order_receipt.html", context)


# --- One return ---------------------------------------------------------------------------


def _return(pk: int) -> Return:
    ret = (
        Return.objects.select_related(
            "order", "customer", "store", "location", "created_by", "decided_by"
        )
        .filter(pk=pk)
        .first()
    )
    if ret is None:
        raise Http404(_("There is no such return."))
    return ret


def _timeline(ret: Return) -> list:
    events = list(ret.events.select_related("by", "store").order_by("at", "pk"))
    for e in events:
        e.label = EVENT_LABELS.get(e.kind, e.kind.replace("_", " "))
        e.from_label = ReturnState(e.from_state).label if e.from_state else ""
        e.to_label = ReturnState(e.to_state).label if e.to_state else ""
    return events


def _detail_context(request, store, ret: Return, **extra) -> dict:
    lines = list(ret.lines.select_related("variant__product").order_by("pk"))
    if ret.state == ReturnState.REQUESTED:
        required = services.receive_conditions(lines)
        for line in lines:
            line.to_check = required[line.pk]
    deciding = ret.state == ReturnState.AWAITING_APPROVAL and services.may_decide(request.user, ret)
    context = _nav(
        {
            "store": store,
            "ret": ret,
            "lines": lines,
            "timeline": _timeline(ret),
            "deciding": deciding,
            # Someone who cannot decide waits: the status section polls itself.
            "poll": ret.state == ReturnState.AWAITING_APPROVAL and not deciding,
            "poll_trigger": POLL,
            "receivable": ret.state == ReturnState.REQUESTED,
            "cancellable": ret.state in OPEN_STATES,
            "dispositions": Disposition.choices,
            "message": "",
            "level": "info",
            "explanation": None,
            "exchange": exchange_view(ret),
        }
    )
    context.update(extra)
    return context


def _detail(request, store, pk, *, status=200, partial=False, **extra):
    ret = _return(pk)
    template = "returns/detail.html" + ("#status" if partial else "")
    context = _detail_context(request, store, ret, **extra)
    if not partial:  # the polled status part leaves the signals out
        context.update(risk_views.panel_context(request, ret.customer, store))
    return render(request, template, context, status=status)


def _status_part(request) -> bool:
    return request.GET.get("part") == "status"


@area_required(Area.STORE)
@require_GET
@polls.conditional(
    polls.RETURN,
    scope=lambda kwargs: kwargs["pk"],
    query=("part",),
    personal=True,  # its forms and whether this person may decide
    only_if=_status_part,
)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    partial = bool(request.htmx and not request.htmx.boosted and request.GET.get("part"))
    return _detail(request, store, pk, partial=partial)


def _refused(request, store, pk, exc: services.OrderError):
    return _detail(
        request,
        store,
        pk,
        status=exc.status,
        message=exc.detail,
        level="error",
        explanation=getattr(exc, "explanation", None),
    )


@area_required(Area.STORE)
@require_POST
@applied_once
def receive(request: HttpRequest, pk: int) -> HttpResponse:
    """A return started online or at a kiosk is brought to this store: received here,
    with what happens to each unit; a manager approves it where the policy says."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    ret = _return(pk)
    location = _shelf(store)
    if location is None:
        return _detail(request, store, pk, status=409, message=_no_shelf_message(), level="error")
    dispositions, conditions, unchecked = {}, {}, []
    lines = list(ret.lines.select_related("variant__product").order_by("pk"))
    required = services.receive_conditions(lines)
    for line in lines:
        value = request.POST.get(f"disp_{line.pk}", Disposition.RESTOCK)
        dispositions[line.pk] = value
        checked = set(request.POST.getlist(f"cond_{line.pk}"))
        conditions[line.pk] = [c for c in required[line.pk] if c in checked]
        unchecked += [c for c in required[line.pk] if c not in checked]
    if unchecked and ret.state == ReturnState.REQUESTED:
        # As at the counter: the policy takes it back only in the condition it asks for.
        message = _("The policy takes it back only when you have checked: %(conditions)s.") % {
            "conditions": ", ".join(dict.fromkeys(unchecked))
        }
        return _detail(request, store, pk, status=400, message=message, level="error")
    try:
        ret = services.return_receive(
            ret=ret,
            location=location,
            dispositions=dispositions,
            by=request.user,
            store=store,
            check_approval=True,
            conditions=conditions,
        )
    except services.OrderError as exc:
        return _refused(request, store, pk, exc)
    if ret.state == ReturnState.AWAITING_APPROVAL:
        messages.warning(request, _("Received. The return waits for a manager's approval."))
    else:
        messages.success(
            request, _("Received. Refunded %(amount)s.") % {"amount": _refund_text(ret)}
        )
    return redirect("returns_store:detail", pk=pk)


def _decide(request: HttpRequest, pk: int, decide) -> HttpResponse:
    """A manager's decision on a return awaiting approval: `decide(ret, reason)`
    returns the message to show."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        message = decide(_return(pk), reason)
    except services.OrderError as exc:
        return _refused(request, store, pk, exc)
    messages.success(request, message)
    return redirect("returns_store:detail", pk=pk)


@area_required(Area.STORE)
@require_POST
@applied_once
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    def decide(ret, reason):
        ret = services.return_approve(ret=ret, by=request.user, reason=reason)
        return _("Approved. Refunded %(amount)s.") % {"amount": _refund_text(ret)}

    return _decide(request, pk, decide)


@area_required(Area.STORE)
@require_POST
@applied_once
def refuse(request: HttpRequest, pk: int) -> HttpResponse:
    def decide(ret, reason):
        services.return_refuse(ret=ret, by=request.user, reason=reason)
        return _("Refused. The customer keeps the items; nothing was refunded.")

    return _decide(request, pk, decide)


@area_required(Area.STORE)
@require_POST
@applied_once
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.return_cancel(ret=_return(pk), by=request.user, store=store, reason=reason)
    except services.OrderError as exc:
        return _refused(request, store, pk, exc)
    messages.success(request, _("The return is cancelled; its units can be returned again."))
    return redirect("returns_store:detail", pk=pk)


@area_required(Area.STORE)
@require_GET
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable return receipt, with the QR code of the return code."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    ret = _return(pk)
    context = {
        "store": store,
        "ret": ret,
        "r": services.receipt_context(ret),
        "exchange": exchange_view(ret),
        "qr_payload": f"AISLE-RETURN:{ret.code}",
    }
    return render(request, "returns/receipt.html", context)


# --- The approval queue and the home panel ---------------------------------------------


def _waiting(store):
    return (
        Return.objects.filter(store=store, state=ReturnState.AWAITING_APPROVAL)
        .select_related("order", "customer", "created_by")
        .annotate(line_count=Count("lines"))
        .order_by("created_at", "pk")
    )


@area_required(Area.STORE)
@require_GET
@polls.conditional(polls.RETURNS)
def approvals(request: HttpRequest) -> HttpResponse:
    """This store's returns waiting for a manager; the list refreshes itself (304 while
    nothing changed: `retail.polls`). Associates see it read-only."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    rows = list(_waiting(store)[:QUEUE_ROWS])
    context = _nav(
        {
            "store": store,
            "rows": rows,
            "manager": access.is_manager(request.user),
            "poll_trigger": POLL,
            "now": polls.now(request),
        }
    )
    template = "returns/approvals.html"
    if request.htmx and not request.htmx.boosted:
        template += "#queue"
    return render(request, template, context)


@area_required(Area.STORE)
@require_GET
@polls.conditional(polls.RETURNS)
def panel(request: HttpRequest) -> HttpResponse:
    """The home screen's returns panel (htmx fragment): returns waiting for a manager
    here, and returns started at this store's kiosk waiting for the customer."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    counts = Return.objects.filter(store=store).aggregate(
        waiting=Count("pk", filter=Q(state=ReturnState.AWAITING_APPROVAL)),
        kiosk=Count("pk", filter=Q(state=ReturnState.REQUESTED, started_via=StartedVia.KIOSK)),
    )
    rows = list(
        Return.objects.filter(store=store)
        .filter(
            Q(state=ReturnState.AWAITING_APPROVAL)
            | Q(state=ReturnState.REQUESTED, started_via=StartedVia.KIOSK)
        )
        .select_related("order", "customer")
        .order_by("created_at", "pk")[:PANEL_ROWS]
    )
    context = {"store": store, "counts": counts, "rows": rows}
    return render(request, "returns/panel.html", context)


# --- The customer page's returns section -----------------------------------------------


#: The returns section changes only when one of these does: the customer's orders
#: (a new one, a merge, a change, a receipt — each receipt writes an order event) and
#: returns (a new one, a change). The page asks them in its one query and keeps the
#: render (`retail.customer_page`).
CUSTOMER_SECTION_VERSIONS = (
    "SELECT COUNT(*) FROM orders_order WHERE customer_id = %(c)s",
    "SELECT MAX(updated_at) FROM orders_order WHERE customer_id = %(c)s",
    "SELECT MAX(e.id) FROM orders_orderevent e JOIN orders_order o ON o.id = e.order_id"
    " WHERE o.customer_id = %(c)s",
    "SELECT COUNT(*) FROM returns_return WHERE customer_id = %(c)s",
    "SELECT MAX(updated_at) FROM returns_return WHERE customer_id = %(c)s",
)
CUSTOMER_SECTION_SECONDS = 600


def customer_section(request: HttpRequest, customer, store) -> SafeString:
    """Registered with `retail.customer_page`: the customer's orders from every channel
    with units still returnable (each with a Return button) and their returns, in a
    fixed number of queries. Holds nothing of its reader: kept for all of them."""
    returnable = Q(lines__received_quantity__gt=F("lines__claimed_quantity"))
    orders = list(
        Order.objects.filter(customer=customer)
        .annotate(returnable_lines=Count("lines", filter=returnable))
        .filter(returnable_lines__gt=0)
        .select_related("store")
        .order_by("-created_at", "-pk")[:CUSTOMER_ORDERS]
    )
    returns = list(
        Return.objects.filter(customer=customer)
        .select_related("order", "store")
        .order_by("-created_at", "-pk")[:CUSTOMER_RETURNS]
    )
    context = {"store": store, "customer": customer, "orders": orders, "returns": returns}
    return render_to_string("returns/_customer_section.html", context)
