"""The store tablet's shipping pages (`/store/ship/`): the ship queue, ship-to-store
pick lists and receiving, ship-from-store pick, pack (with its packing slip), ship
and delivered. Views validate input and call `orders.shipping`."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from orders import shipping
from orders.models import Fulfillment, Method, State
from retail.access import Area, area_required
from retail.once import applied_once
from retail.views import store_or_choose

SESSION_KEY = "aisle_ship_scans"


def _fulfillment(store, fulfillment_id: int) -> Fulfillment:
    fulfillment = shipping.store_fulfillments(store).filter(pk=fulfillment_id).first()
    if fulfillment is None:
        raise Http404
    return fulfillment


def _purpose(fulfillment: Fulfillment) -> str:
    return "receive" if fulfillment.method == Method.SHIP_TO_STORE else "pick"


def _sheet(request: HttpRequest, fulfillment: Fulfillment) -> dict[str, int]:
    sheets = request.session.get(SESSION_KEY, {})
    return dict(sheets.get(f"{_purpose(fulfillment)}:{fulfillment.pk}", {}))


def _save_sheet(request: HttpRequest, fulfillment: Fulfillment, sheet: dict | None) -> None:
    sheets = dict(request.session.get(SESSION_KEY, {}))
    key = f"{_purpose(fulfillment)}:{fulfillment.pk}"
    if sheet is None:
        sheets.pop(key, None)
    else:
        sheets[key] = sheet
    request.session[SESSION_KEY] = sheets


def _context(request, store, fulfillment, posted=None, **extra) -> dict:
    sheet = _sheet(request, fulfillment)
    lines = []
    for line in fulfillment.lines.all():
        done = min(sheet.get(str(line.pk), 0), line.quantity)
        # The receiving form: all good unless the associate said otherwise.
        counts = {"good": line.quantity, "short": 0, "damaged": 0}
        if posted is not None:
            counts = {k: posted.get(f"{k}-{line.pk}", v) for k, v in counts.items()}
        lines.append({"line": line, "variant": line.order_line.variant, "scanned": done, **counts})
    incoming = fulfillment.method == Method.SHIP_TO_STORE and fulfillment.pickup_store_id == (
        store.pk
    )
    discrepancies = []
    if fulfillment.method == Method.SHIP_TO_STORE and fulfillment.state not in (
        State.RESERVED,
        State.IN_TRANSIT,
    ):
        discrepancies = shipping.discrepancies_of(fulfillment=fulfillment)
    return {
        "store": store,
        "nav": "ship",
        "f": fulfillment,
        "discrepancies": discrepancies,
        "pickup_states": (State.RECEIVED, State.PICKING, State.READY),
        "lines": lines,
        "missing": shipping.missing_units(fulfillment, sheet),
        "incoming": incoming and fulfillment.state == State.IN_TRANSIT,
        "scanning": (
            fulfillment.method == Method.SHIP_FROM_STORE
            and fulfillment.state in (State.RESERVED, State.PICKING)
        )
        or (incoming and fulfillment.state == State.IN_TRANSIT),
        **extra,
    }


def _detail(request, store, fulfillment, *, status=200, posted=None, **extra) -> HttpResponse:
    template = "orders/ship/detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#work"
    context = _context(request, store, fulfillment, posted, **extra)
    return render(request, template, context, status=status)


@area_required(Area.STORE)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    sections = shipping.ship_queue(store)
    return render(
        request,
        "orders/ship/queue.html",
        {"store": store, "nav": "ship", "q": sections, "total": sum(map(len, sections.values()))},
    )


@area_required(Area.STORE)
@require_GET
def detail(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    return _detail(request, store, _fulfillment(store, fulfillment_id))


@area_required(Area.STORE)
@require_GET
def slip(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    """The printable packing slip of a ship-from-store parcel."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    fulfillment = _fulfillment(store, fulfillment_id)
    if fulfillment.method != Method.SHIP_FROM_STORE:
        raise Http404
    return render(request, "orders/ship/slip.html", {"store": store, "f": fulfillment})


@area_required(Area.STORE)
@require_POST
@applied_once
def scan(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    """One unit scanned (or typed) into the pick or the receipt; nothing is written
    to the order until the step is confirmed."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    fulfillment = _fulfillment(store, fulfillment_id)
    ctx = _context(request, store, fulfillment)
    if not ctx["scanning"]:
        return _detail(request, store, fulfillment, status=409, error=_not_scanning(fulfillment))
    sheet = _sheet(request, fulfillment)
    try:
        result = shipping.scan(fulfillment, sheet, request.POST.get("code", ""))
    except shipping.ShippingError as exc:
        return _detail(request, store, fulfillment, status=400, error=exc.detail)
    if fulfillment.method == Method.SHIP_FROM_STORE and fulfillment.state == State.RESERVED:
        fulfillment = shipping.parcel_start_picking(fulfillment=fulfillment, by=request.user)
        fulfillment = _fulfillment(store, fulfillment.pk)
    _save_sheet(request, fulfillment, sheet)
    sku = result.line.order_line.sku
    if result.counted:
        note = _("%(sku)s scanned.") % {"sku": sku}
    else:
        note = _("Every unit of %(sku)s is already scanned: not counted again.") % {"sku": sku}
    return _detail(request, store, fulfillment, note=note)


def _not_scanning(fulfillment: Fulfillment) -> str:
    return _("This %(method)s is %(state)s: nothing to scan now.") % {
        "method": fulfillment.get_method_display(),
        "state": fulfillment.get_state_display(),
    }


def _step(request, fulfillment_id, action) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    fulfillment = _fulfillment(store, fulfillment_id)
    try:
        message = action(store, fulfillment)
    except shipping.ShippingError as exc:
        return _detail(request, store, fulfillment, status=400, error=exc.detail)
    _save_sheet(request, fulfillment, None)
    messages.success(request, message)
    url = reverse("ship:detail", kwargs={"fulfillment_id": fulfillment.pk})
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@area_required(Area.STORE)
@require_POST
@applied_once
def send(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    def action(store, f):
        if f.location.store_id != store.pk:
            raise shipping.ShippingError(_("Only the store that sends it can mark it sent."))
        shipping.transfer_send(fulfillment=f, by=request.user)
        return _("%(ref)s is on its way to %(store)s.") % {
            "ref": f.order.order_ref,
            "store": f.pickup_store.code,
        }

    return _step(request, fulfillment_id, action)


@area_required(Area.STORE)
@require_POST
@applied_once
def receive(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    """The parcel is in: per line, units in good condition, short and damaged (all good
    unless told); the good ones must have been scanned."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    fulfillment = _fulfillment(store, fulfillment_id)
    try:
        receipt = shipping.receipt_from_form(fulfillment, request.POST)
        done = shipping.transfer_receive(
            fulfillment=fulfillment,
            store=store,
            scanned=_sheet(request, fulfillment),
            by=request.user,
            receipt=receipt,
            note=request.POST.get("note", ""),
        )
    except shipping.ShippingError as exc:
        return _detail(
            request,
            store,
            fulfillment,
            status=400,
            error=exc.detail,
            posted=request.POST,
            note_text=request.POST.get("note", "")[:200],
        )
    _save_sheet(request, fulfillment, None)
    ref = fulfillment.order.order_ref
    missing = sum(r.missing for r in receipt.values())
    if missing:
        messages.warning(
            request,
            ngettext(
                "%(ref)s received with %(n)s unit short or damaged: recorded on the order, "
                "and the customer's missing unit re-sourced or refunded.",
                "%(ref)s received with %(n)s units short or damaged: recorded on the order, "
                "and the customer's missing units re-sourced or refunded.",
                missing,
            )
            % {"ref": ref, "n": missing},
        )
    else:
        messages.success(request, _("%(ref)s received: it is in the pickup queue.") % {"ref": ref})
    url = reverse("ship:detail", kwargs={"fulfillment_id": done.pk})
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@area_required(Area.STORE)
@require_POST
@applied_once
def pack(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    def action(store, f):
        shipping.parcel_pack(fulfillment=f, scanned=_sheet(request, f), by=request.user)
        return _("%(ref)s packed: print the packing slip and put it in the parcel.") % {
            "ref": f.order.order_ref
        }

    return _step(request, fulfillment_id, action)


@area_required(Area.STORE)
@require_POST
@applied_once
def ship(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    def action(store, f):
        done = shipping.parcel_ship(
            fulfillment=f, tracking_ref=request.POST.get("tracking_ref", ""), by=request.user
        )
        return _("%(ref)s shipped, tracking %(tracking)s.") % {
            "ref": f.order.order_ref,
            "tracking": done.tracking_ref,
        }

    return _step(request, fulfillment_id, action)


@area_required(Area.STORE)
@require_POST
@applied_once
def delivered(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    def action(store, f):
        shipping.parcel_delivered(fulfillment=f, by=request.user)
        return _("%(ref)s delivered.") % {"ref": f.order.order_ref}

    return _step(request, fulfillment_id, action)


# --- HQ: pick lists of the locations without a tablet ------------------------------------


@area_required(Area.HQ)
@require_GET
def hq_pick_lists(request: HttpRequest) -> HttpResponse:
    """Ship-to-store pick lists of the distribution centres and suppliers (printable),
    each parcel marked sent when it leaves."""
    from inventory.models import StockLocation

    groups = shipping.location_pick_lists(StockLocation.objects.filter(store__isnull=True))
    return render(
        request,
        "orders/ship/hq_pick_lists.html",
        {"title": _("Ship-to-store pick lists"), "groups": groups},
    )


@area_required(Area.HQ)
@require_POST
def hq_send(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    fulfillment = (
        Fulfillment.objects.filter(
            pk=fulfillment_id, method=Method.SHIP_TO_STORE, location__store__isnull=True
        )
        .select_related("order", "pickup_store")
        .first()
    )
    if fulfillment is None:
        raise Http404
    try:
        shipping.transfer_send(fulfillment=fulfillment, by=request.user)
    except shipping.ShippingError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("%(ref)s is on its way to %(store)s.")
            % {"ref": fulfillment.order.order_ref, "store": fulfillment.pickup_store.code},
        )
    return redirect("ship_hq:pick_lists")
