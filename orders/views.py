"""The store's pickup pages on the tablet (`/store/pickups/`) and HQ's pickup figures
(`/hq/pickups/`). Views validate input and call `orders.pickup`; refusals answer
4xx with the service's message, nothing changed."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders import credit, pickup, shipping
from orders.models import State
from orders.services import OrderError
from retail import access, polls
from retail.access import Area, area_required
from retail.db_router import replica_reads
from retail.once import applied_once
from retail.views import store_or_choose

QUEUE_PAGE = 25
PANEL_ROWS = 5
HQ_DAYS = 30


def _pickup(store, pk: int):
    # `store` is the current store, one the user may act in (retail.access).
    f = pickup.pickup_for_store(store, pk)
    if f is None:
        raise Http404(_("There is no such pickup at this store."))
    return f


# --- The queue and the home panel -------------------------------------------------------


@area_required(Area.STORE)
@require_GET
@polls.conditional(polls.PICKUPS, query=("show", "page"))
def queue(request: HttpRequest) -> HttpResponse:
    """The store's pickups by state; the list polls itself (every `AISLE_POLL_SECONDS`)
    and keeps its filter and page. An unchanged list answers 304 (`retail.polls`)."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    show = request.GET.get("show", "")
    if show not in pickup.Bucket.ALL:
        show = ""
    now = polls.now(request)
    page = Paginator(pickup.pickup_queue(store, bucket=show, now=now), QUEUE_PAGE).get_page(
        request.GET.get("page")
    )
    pickup.annotate_for_display(page.object_list, now)
    counts = _counts(store)
    context = {
        "store": store,
        "nav": "pickups",
        "page": page,
        "show": show,
        "counts": counts,
        "tabs": _tabs(counts),
        "now": now,
        "poll_url": request.get_full_path(),
        "poll_trigger": f"every {settings.AISLE_POLL_SECONDS}s",
    }
    template = "orders/queue.html"
    if request.htmx and not request.htmx.boosted:
        template += "#queue"
    return render(request, template, context)


def _tabs(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(bucket, label, how many) for the state tabs."""
    labels = [
        (pickup.Bucket.NEW, _("New")),
        (pickup.Bucket.PICKING, _("Picking")),
        (pickup.Bucket.READY, _("Ready")),
        (pickup.Bucket.WAITING, _("Customer waiting")),
        (pickup.Bucket.OVERDUE, _("Overdue")),
    ]
    return [(key, label, counts.get(key, 0)) for key, label in labels]


@area_required(Area.STORE)
@require_GET
@polls.conditional(polls.PICKUPS)
def panel(request: HttpRequest) -> HttpResponse:
    """The home screen's panel (an htmx fragment): today's pickups."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    now = polls.now(request)
    rows = list(pickup.pickup_queue(store, now=now)[:PANEL_ROWS])
    pickup.annotate_for_display(rows, now)
    context = {
        "store": store,
        "rows": rows,
        "tabs": _tabs(_counts(store)),
        "now": now,
    }
    return render(request, "orders/panel.html", context)


def _counts(store) -> dict[str, int]:
    """The queue's counts per tab, drawn once per change and time step for every tablet
    of the store (`retail.polls.kept_value`): building that query cost the full page
    more than its rows."""
    return polls.kept_value(
        polls.PICKUPS,
        store.pk,
        "counts",
        lambda at: pickup.queue_counts(store, now=at),
        store_id=store.pk,
    )


# --- One pickup: pick, short, ready -----------------------------------------------------


def _detail(request, store, pk, *, status=200, message="", level="info", partial=False):
    f = _pickup(store, pk)
    pickup.annotate_for_display([f], timezone.now())
    stock = pickup.shelf_stock(f)
    lines = list(f.lines.all())
    for line in lines:
        line.level = stock.get(line.order_line.variant_id)
        line.open = line.quantity - line.picked_quantity
    timeline = pickup.order_timeline(f.order)
    # Every discrepancy recorded writes a `receiving_discrepancy` event in the same
    # transaction: without one in the timeline there is none to read.
    found = any(event.kind == "receiving_discrepancy" for event in timeline)
    context = {
        "store": store,
        "nav": "pickups",
        "f": f,
        "order": f.order,
        "lines": lines,
        "all_picked": all(line.open == 0 for line in lines) and bool(lines),
        "pickable": f.state in pickup.PICKABLE
        and not (f.method == "ship_to_store" and f.state == State.RESERVED),
        "timeline": timeline,
        "parts": list(pickup.order_parts(store).filter(order=f.order).select_related("location")),
        "discrepancies": shipping.discrepancies_of(order=f.order) if found else [],
        "message": message,
        "level": level,
        "now": timezone.now(),
        "may_unlock": access.may_unlock_pickup_code(request.user, store),
        "may_link": f.order.customer_id is None
        and access.may_link_pickup_customer(request.user, store),
    }
    template = "orders/pickup_detail.html"
    if partial:
        template += "#pick"
    return render(request, template, context, status=status)


@area_required(Area.STORE)
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    partial = bool(request.htmx and not request.htmx.boosted)
    if partial and request.GET.get("part") == "timeline":
        f = _pickup(store, pk)
        context = {"store": store, "timeline": pickup.order_timeline(f.order), "f": f}
        return render(request, "orders/pickup_detail.html#timeline", context)
    return _detail(request, store, pk, partial=partial)


def _refused(request, store, pk, exc: OrderError, partial: bool):
    return _detail(
        request, store, pk, status=exc.status, message=exc.detail, level="error", partial=partial
    )


def _done(request, store, pk: int, message: str) -> HttpResponse:
    """A step of the pickup done: the page again, with the message. From the tablet's
    script (htmx) the page itself (it takes its main part: no redirect, so a replayed
    action gets the same page back); from a plain form, a redirect to it."""
    if request.htmx:
        return _detail(request, store, pk, message=message, level="success")
    messages.success(request, message)
    return redirect("orders_store:detail", pk=pk)


@area_required(Area.STORE)
@require_POST
@applied_once
def scan(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    partial = bool(request.htmx)
    f = _pickup(store, pk)
    try:
        outcome = pickup.pickup_scan(
            fulfillment=f, code=request.POST.get("code", ""), by=request.user, store=store
        )
    except OrderError as exc:
        return _refused(request, store, pk, exc, partial)
    level = "success" if outcome.counted else "warning"
    return _detail(request, store, pk, message=outcome.message, level=level, partial=partial)


@area_required(Area.STORE)
@require_POST
@applied_once
def short(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    f = _pickup(store, pk)
    try:
        outcome = pickup.pickup_short(fulfillment=f, line_id=line_id, by=request.user, store=store)
    except OrderError as exc:
        return _refused(request, store, pk, exc, False)
    return _done(request, store, pk, outcome.message)


@area_required(Area.STORE)
@require_POST
@applied_once
def ready(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    f = _pickup(store, pk)
    try:
        pickup.pickup_mark_ready(fulfillment=f, by=request.user, store=store)
    except OrderError as exc:
        return _refused(request, store, pk, exc, False)
    return _done(
        request,
        store,
        pk,
        _("Ready for pickup. The customer gets a message with the code and QR code."),
    )


# --- Hand-over --------------------------------------------------------------------------


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def find(request: HttpRequest) -> HttpResponse:
    """Find a pickup to hand over: scan the QR or type the code (verified, rate-limited),
    or search by order reference, customer name or phone."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    context = {
        "store": store,
        "nav": "pickups",
        "q": "",
        "results": None,
        "message": "",
        "now": timezone.now(),
    }
    if request.method == "POST":
        q = pickup.clean(request.POST.get("q", ""))[: pickup.SCAN_MAX]
        context["q"] = q
        if pickup.QR_RE.match(q) or pickup.CODE_RE.match(q):
            try:
                f = pickup.resolve_code(store=store, text=q, by=request.user)
            except OrderError as exc:
                context.update(message=exc.detail, q="")
                return render(request, "orders/find.html", context, status=exc.status)
            return _handover_page(request, store, f.pk, code=q)
        if not q:
            context["message"] = _(
                "Scan the QR code, or type a pickup code, an order reference, a name or a phone "
                "number."
            )
            return render(request, "orders/find.html", context, status=400)
        results = pickup.pickup_search(store, q)
        _audit_search(request, store, q, results)
        if not results:
            context["message"] = _search_rule_message(q, store)
        pickup.annotate_for_display(results, timezone.now())
        context["results"] = results
    return render(request, "orders/find.html", context)


def _search_rule_message(q: str, store) -> str:
    """Why a search that found nothing may be too short or a partial phone or e-mail."""
    from django.core.exceptions import ValidationError

    from retail import audit

    try:
        audit.parse_query(q, store.country or None)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


def _audit_search(request, store, q: str, results) -> None:
    """A search that lists customers is audited like the customer search (`retail.audit`)."""
    from retail import audit

    query = audit.query_or_none(q, store.country or None)
    if query is None:  # an order reference, or a refused search: hashed if contact-like
        kind = audit.QueryKind.TEXT
        if "@" in q:
            kind = audit.QueryKind.EMAIL
        elif audit.looks_like_phone(q):
            kind = audit.QueryKind.PHONE
        query = audit.Query(kind, q[:64])
    shown = sorted({f.order.customer_id for f in results if f.order.customer_id})
    audit.customer_search_record(
        by=request.user,
        store=store,
        query=query,
        results=len(results),
        shown=shown,
        source="pickups",
    )


def _handover_page(request, store, pk, *, code="", status=200, message="", explanation=None):
    f = _pickup(store, pk)
    due = pickup.amount_due(f.order, f)
    # Store credit is offered when the customer has some (its balance shown).
    balance = credit.credit_balance(f.order.customer) if due > 0 else credit.ZERO
    context = {
        "store": store,
        "nav": "pickups",
        "f": f,
        "order": f.order,
        "lines": list(f.lines.all()),
        "code": code,
        "message": message,
        "explanation": explanation,
        "now": timezone.now(),
        "due": due,
        "tenders": [t for t in pickup.TENDERS if t != credit.TENDER or balance > 0],
        "credit_balance": balance,
    }
    return render(request, "orders/handover.html", context, status=status)


def _refusals(request, f) -> dict[int, tuple[int, str]]:
    refusals = {}
    for line in f.lines.all():
        raw = request.POST.get(f"refuse_{line.pk}", "").strip()
        if not raw or raw == "0":
            continue
        try:
            units = int(raw)
        except ValueError:
            units = -1
        refusals[line.pk] = (units, request.POST.get(f"reason_{line.pk}", "")[:200])
    return refusals


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def handover(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    if request.method == "GET":
        return _handover_page(request, store, pk)
    f = _pickup(store, pk)
    code = pickup.clean(request.POST.get("code", ""))[: pickup.SCAN_MAX]
    try:
        pickup.pickup_hand_over(
            fulfillment=f,
            code=code,
            by=request.user,
            store=store,
            refusals=_refusals(request, f),
            id_checked=request.POST.get("id_checked") == "1",
            tender=request.POST.get("tender", ""),
        )
    except OrderError as exc:
        keep = "" if isinstance(exc, pickup.WrongCode) else code
        return _handover_page(
            request,
            store,
            pk,
            code=keep,
            status=exc.status,
            message=exc.detail,
            explanation=getattr(exc, "explanation", None),
        )
    messages.success(request, _("Handed over. Thank the customer!"))
    return redirect("orders_store:detail", pk=pk)


@area_required(Area.STORE)
@require_POST
def unlock_code(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager unlocks an order's pickup code locked after too many wrong codes."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    f = _pickup(store, pk)
    try:
        pickup.pickup_code_unlock(fulfillment=f, by=request.user, store=store)
    except OrderError as exc:
        return _refused(request, store, pk, exc, partial=False)
    messages.success(request, _("The pickup code is unlocked."))
    return redirect("orders_store:detail", pk=pk)


def _customer_by_contact(user, text: str, store):
    """The customer an associate names after checking their ID: by the customer's
    reference, whole e-mail address or whole phone number (never a part of one)."""
    from django.core.exceptions import ValidationError

    from retail.services import customer_by_ref
    from retail.validators import normalise_phone

    text = pickup.clean(text)[:200]
    if not text:
        return None
    customers = access.customers_for(user).filter(merged_into__isnull=True)
    found = customer_by_ref(text)
    if found is not None and customers.filter(pk=found.pk).exists():
        return found
    if "@" in text:
        return customers.filter(email__iexact=text).first()
    try:
        phone = normalise_phone(text, store.country or None)
    except ValidationError:
        return None
    return customers.filter(phone=phone).first() if phone else None


@area_required(Area.STORE)
@require_POST
@applied_once
def link_customer(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a guest reservation to the customer whose ID the associate checked."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    f = _pickup(store, pk)
    if request.POST.get("id_checked") != "1":
        exc = pickup.PickupError(_("Check the customer's ID before linking the order."))
        return _refused(request, store, pk, exc, partial=False)
    customer = _customer_by_contact(request.user, request.POST.get("customer", ""), store)
    try:
        pickup.pickup_link_customer(fulfillment=f, customer=customer, by=request.user, store=store)
    except OrderError as exc:
        return _refused(request, store, pk, exc, partial=False)
    messages.success(request, _("The order is linked to the customer."))
    return redirect("orders_store:detail", pk=pk)


def _duration(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return _("%(h)s h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}


# --- HQ ---------------------------------------------------------------------------------


@area_required(Area.HQ)
@require_GET
@replica_reads
def hq_pickups(request: HttpRequest) -> HttpResponse:
    """Per store: orders waiting, average time from order to ready, pickups not collected."""
    now = timezone.now()
    since = now - dt.timedelta(days=HQ_DAYS)
    page = Paginator(access.stores_for(request.user).order_by("code"), 50).get_page(
        request.GET.get("page")
    )
    figures = pickup.hq_figures([s.pk for s in page.object_list], since=since)
    for s in page.object_list:
        s.figures = dict(figures.get(s.pk, {}))
        if s.figures.get("to_ready") is not None:
            s.figures["to_ready_text"] = _duration(s.figures["to_ready"])
    context = {"title": _("Pickups across the network"), "page": page, "days": HQ_DAYS}
    return render(request, "orders/hq_pickups.html", context)
