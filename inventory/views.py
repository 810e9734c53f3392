"""Stock counts: the tablet's count sheet (`/store/counts/`) and HQ's count
differences per store (`/hq/counts/`). Views validate input and call
`inventory.counts`."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from inventory import counts
from inventory.models import StockLocation
from retail import access
from retail.access import Area, area_required
from retail.db_router import replica_reads
from retail.once import applied_once

SESSION_KEY = "aisle_count_sheet"
RESULT_KEY = "aisle_count_result"
HQ_DAYS = 30
HQ_PAGE = 50


def _store_and_location(request: HttpRequest):
    store = access.current_store(request)
    if store is None:
        return None, None, redirect("retail:store_choose")
    location = StockLocation.objects.filter(store=store).first()
    return store, location, None


def _sheet(request: HttpRequest, store) -> dict:
    sheet = request.session.get(SESSION_KEY)
    if not sheet or sheet.get("store") != store.pk:
        sheet = {"store": store.pk, "token": uuid.uuid4().hex, "counts": {}}
    return sheet


def _save(request: HttpRequest, sheet: dict) -> None:
    sheet["token"] = uuid.uuid4().hex  # any change means the reviewed figures changed
    request.session[SESSION_KEY] = sheet


def _render(request, store, location, sheet, *, status=200, **extra) -> HttpResponse:
    rows = counts.sheet_rows(location, sheet["counts"]) if location else []
    context = {
        "store": store,
        "nav": "counts",
        "location": location,
        "sheet": sheet,
        "rows": rows,
        "short_rows": [r for r in rows if r.short_of_reserved],
        "result": request.session.get(RESULT_KEY) if not extra.get("error") else None,
        "max_count": counts.MAX_COUNT,
        **extra,
    }
    template = "inventory/count.html"
    if request.htmx and not request.htmx.boosted:
        template += "#sheet"
    return render(request, template, context, status=status)


@area_required(Area.STORE)
@require_GET
def sheet(request: HttpRequest) -> HttpResponse:
    store, location, choose = _store_and_location(request)
    if choose:
        return choose
    return _render(request, store, location, _sheet(request, store))


@area_required(Area.STORE)
@require_POST
@applied_once
def scan(request: HttpRequest) -> HttpResponse:
    """Add a scanned unit (or a typed quantity) of a SKU to the sheet, or set its count."""
    store, location, choose = _store_and_location(request)
    if choose:
        return choose
    sheet = _sheet(request, store)
    if location is None:
        return _render(request, store, location, sheet, status=400, error=_no_location())
    code = request.POST.get("code", "")
    variant = counts.find_variant(code)
    if variant is None:
        error = _("No product has the barcode or SKU “%(code)s”.") % {"code": code.strip()[:64]}
        return _render(request, store, location, sheet, status=400, error=error)
    mode = request.POST.get("mode", "add")
    raw = request.POST.get("quantity", "").strip()
    try:
        quantity = counts.clean_quantity(raw if raw else 1, allow_zero=mode == "set")
        current = sheet["counts"].get(str(variant.pk), 0)
        total = quantity if mode == "set" else current + quantity
        total = counts.clean_quantity(total)
    except counts.CountError as exc:
        return _render(request, store, location, sheet, status=400, error=str(exc))
    sheet["counts"][str(variant.pk)] = total
    request.session.pop(RESULT_KEY, None)
    _save(request, sheet)
    note = _("%(sku)s: %(n)s counted.") % {"sku": variant.sku, "n": total}
    return _render(request, store, location, sheet, note=note)


@area_required(Area.STORE)
@require_POST
@applied_once
def remove(request: HttpRequest) -> HttpResponse:
    store, location, choose = _store_and_location(request)
    if choose:
        return choose
    sheet = _sheet(request, store)
    sheet["counts"].pop(request.POST.get("variant", ""), None)
    _save(request, sheet)
    return _render(request, store, location, sheet)


@area_required(Area.STORE)
@require_POST
@applied_once
def clear(request: HttpRequest) -> HttpResponse:
    _store, _location, choose = _store_and_location(request)
    if choose:
        return choose
    request.session.pop(SESSION_KEY, None)
    request.session.pop(RESULT_KEY, None)
    return redirect("counts:sheet")


@area_required(Area.STORE)
@require_POST
@applied_once
def confirm(request: HttpRequest) -> HttpResponse:
    """Record the reviewed sheet. The token names the figures that were reviewed: a
    replayed or stale confirmation records nothing."""
    store, location, choose = _store_and_location(request)
    if choose:
        return choose
    sheet = _sheet(request, store)
    if location is None:
        return _render(request, store, location, sheet, status=400, error=_no_location())
    if not sheet["counts"] or request.POST.get("token") != sheet["token"]:
        error = _(
            "This count was already recorded, or the sheet changed since you reviewed it: "
            "nothing was recorded. Check the sheet and confirm again."
        )
        return _render(request, store, location, sheet, status=409, error=error)
    rows = counts.sheet_rows(location, sheet["counts"])
    try:
        counts.count_record(
            location=location,
            counts={int(k): v for k, v in sheet["counts"].items()},
            by=request.user,
            source=f"count:{sheet['token'][:16]}",
        )
    except counts.AlreadyRecorded as exc:
        request.session.pop(SESSION_KEY, None)
        return _render(request, store, location, _sheet(request, store), status=409, error=str(exc))
    except counts.CountError as exc:
        return _render(request, store, location, sheet, status=400, error=str(exc))
    request.session.pop(SESSION_KEY, None)
    request.session[RESULT_KEY] = [
        {"sku": r.variant.sku, "before": r.on_hand, "counted": r.counted, "diff": r.difference}
        for r in rows
    ]
    messages.success(
        request,
        _("Count recorded: %(n)s SKU(s) set to what you counted.") % {"n": len(rows)},
    )
    return redirect("counts:sheet")


def _no_location() -> str:
    return _("This store has no stock location yet: ask HQ to set it up.")


# --- HQ ----------------------------------------------------------------------------------


@area_required(Area.HQ)
@require_GET
@replica_reads
def hq_differences(request: HttpRequest) -> HttpResponse:
    """Count differences per store over the last days, and the latest count rows
    (of one store with ?store=CODE), in a fixed number of queries."""
    since = timezone.now() - dt.timedelta(days=HQ_DAYS)
    stores = access.stores_for(request.user)
    rows = counts.count_movements().filter(at__gte=since, location__store__in=stores)
    per_store = (
        rows.values("location__store__code", "location__store__name")
        .annotate(
            counts=Count("pk"),
            net=Sum("on_hand_delta"),
            missing=Sum("on_hand_delta", filter=Q(on_hand_delta__lt=0)),
            found=Sum("on_hand_delta", filter=Q(on_hand_delta__gt=0)),
            off=Count("pk", filter=~Q(on_hand_delta=0)),
            last=Max("at"),
        )
        .order_by("location__store__code")
    )
    code = request.GET.get("store", "").strip()[:16]
    latest = rows.select_related("location", "variant__product", "by").order_by("-at", "-pk")
    if code:
        latest = latest.filter(location__store__code=code)
    page = Paginator(latest, HQ_PAGE).get_page(request.GET.get("page"))
    context = {
        "title": _("Stock count differences"),
        "per_store": list(per_store),
        "page": page,
        "store_code": code,
        "days": HQ_DAYS,
    }
    return render(request, "inventory/hq_counts.html", context)
