"""The customer-facing kiosk (`/kiosk/`), for kiosk accounts only."""

import time
import uuid

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clienteling.appointments import services as appointments
from clienteling.appointments.services import AppointmentError
from inventory import aisle
from kiosk import booking, proof, services
from orders import pickup
from orders.models import Order
from orders.services import OrderError, OutOfStock
from retail import access
from retail.access import Area, area_required
from retail.models import Store
from returns import kiosk as returns_kiosk
from returns.models import Reason, Return, StartedVia


@area_required(Area.KIOSK)
def kiosk_home(request: HttpRequest) -> HttpResponse:
    _forget_return(request)  # the start screen is the next customer's
    booking.forget(request)
    return render(request, "kiosk/home.html", {"store": access.current_store(request)})


@area_required(Area.KIOSK)
@require_POST
def check_in(request: HttpRequest) -> HttpResponse:
    """The customer checks in for a pickup with its code (typed, or read from the QR by
    the kiosk's scanner). The kiosk shows the first name only."""
    store = access.current_store(request)
    if store is None:
        return render(request, "kiosk/home.html", {"store": None}, status=403)
    if appointments.looks_like_appointment(request.POST.get("code", "")):
        return _appointment_check_in(request, store)  # an appointment's code or QR
    try:
        f = pickup.pickup_check_in(store=store, text=request.POST.get("code", ""), by=request.user)
    except OrderError as exc:
        context = {"store": store, "message": exc.detail}
        return render(request, "kiosk/home.html", context, status=exc.status)
    first_name = f.order.customer.first_name if f.order.customer else ""
    return render(request, "kiosk/checked_in.html", {"store": store, "first_name": first_name})


@area_required(Area.KIOSK)
@require_POST
def appointment_check_in(request: HttpRequest) -> HttpResponse:
    """The customer checks in for an appointment with its code (typed, or the QR from
    the confirmation read by the kiosk's scanner): only at the appointment's store, on
    the day, from half an hour before. The assigned associate is told; the kiosk shows
    the customer's and the associate's first names only."""
    store = access.current_store(request)
    if store is None:
        return render(request, "kiosk/home.html", {"store": None}, status=403)
    return _appointment_check_in(request, store)


def _appointment_check_in(request: HttpRequest, store) -> HttpResponse:
    try:
        appointment = appointments.appointment_check_in(
            store=store, text=request.POST.get("code", ""), by=request.user
        )
    except AppointmentError as exc:
        errors = exc.extra.get("errors") or {}
        message = next(iter(errors.values()), [exc.detail])[0]
        context = {"store": store, "appointment_message": message}
        return render(request, "kiosk/home.html", context, status=exc.status)
    tz = store.tz
    context = {
        "store": store,
        "first_name": appointment.customer.first_name if appointment.customer else "",
        "associate": (appointment.associate.first_name or "").strip(),
        "topic": appointment.topic.label,
        "time": appointment.start.astimezone(tz).strftime("%H:%M"),
    }
    return render(request, "kiosk/appointment_checked_in.html", context)


# --- Reserve and collect: the endless aisle for customers themselves -------------------
# No staff powers and no customer profile on screen: the kiosk shows products and stock
# only. A reservation attaches to the customer's profile only after they prove it with
# a one-time code e-mailed to the profile's address (`kiosk.proof`); otherwise it is a
# guest reservation the associate links after checking ID. Idle pages return to the
# start screen.


def _kiosk_store(request: HttpRequest):
    return access.current_store(request)


@area_required(Area.KIOSK)
@require_GET
def aisle_search(request: HttpRequest) -> HttpResponse:
    store = _kiosk_store(request)
    if store is None:
        return render(request, "kiosk/home.html", {"store": None}, status=403)
    query = request.GET.get("q", "")
    page, message, status = None, "", 200
    if query.strip():
        try:
            page = aisle.catalog_search(query=query, store=store)
        except aisle.SearchError as exc:
            message, status = str(exc), 400
    context = {"store": store, "query": query[: aisle.MAX_QUERY], "page": page, "message": message}
    return render(request, "kiosk/aisle.html", context, status=status)


def _product_page(request, store, entry, *, message="", status=200, given=None, level="error"):
    rows = aisle.product_availability(product=entry, store=store)
    context = {
        "store": store,
        "product": entry,
        # What can be promised for collection here (as the reservation will be sourced).
        "rows": [r for r in rows if r.promise is not None],
        "message": message,
        "level": level,
        "given": given or {},
        "nonce": uuid.uuid4().hex,
        "pickup_stores": list(
            Store.objects.filter(pickup_enabled=True, is_open=True)
            .exclude(pk=store.pk)
            .order_by("code")
            .values_list("code", "name")
        ),
    }
    return render(request, "kiosk/product.html", context, status=status)


@area_required(Area.KIOSK)
@require_GET
def aisle_product(request: HttpRequest, style_code: str) -> HttpResponse:
    store = _kiosk_store(request)
    entry = aisle.product_by_style(style_code)
    if store is None or entry is None:
        raise Http404(_("This product is not in the catalog, or no longer sold."))
    return _product_page(request, store, entry)


def _given(post) -> dict:
    given = {k: post.get(k, "")[:254] for k in ("sku", "email", "collect_at")}
    given["nonce"] = post.get("nonce", "")[:32]
    return given


@area_required(Area.KIOSK)
@require_POST
def send_code(request: HttpRequest, style_code: str) -> HttpResponse:
    """E-mail a one-time code to the profile with the typed address (if any): the
    kiosk answers the same whether the address is known or not."""
    store = _kiosk_store(request)
    entry = aisle.product_by_style(style_code)
    if store is None or entry is None:
        raise Http404(_("This product is not in the catalog, or no longer sold."))
    given = _given(request.POST)
    try:
        proof.send_code(request, store=store, email=given["email"])
    except ValidationError as exc:
        return _product_page(
            request, store, entry, message=" ".join(exc.messages), status=400, given=given
        )
    except proof.TooManyCodes as exc:
        return _product_page(request, store, entry, message=str(exc), status=429, given=given)
    given["code_sent"] = True
    message = _(
        "If a customer profile has this e-mail address, we sent a code to it. Type the "
        "code below to reserve in your name."
    )
    return _product_page(request, store, entry, message=message, given=given, level="info")


@area_required(Area.KIOSK)
@require_POST
def reserve(request: HttpRequest, style_code: str) -> HttpResponse:
    """Reserve one size of a product for pickup, paid at the counter: in the name of
    the profile the customer proved with the e-mailed code, or as a guest."""
    store = _kiosk_store(request)
    entry = aisle.product_by_style(style_code)
    if store is None or entry is None:
        raise Http404(_("This product is not in the catalog, or no longer sold."))
    post = request.POST
    given = _given(post)
    nonce = post.get("nonce", "")
    if len(nonce) == 32 and nonce.isalnum():
        # A double tap or a replayed POST: the reservation it made, once.
        done = Order.objects.filter(
            order_ref=f"K-{store.code}-{nonce[:12].upper()}", channel="kiosk"
        ).first()
        if done is not None:
            return redirect(reverse("kiosk:reserved") + f"?order={done.order_ref}")
    customer = None
    if given["email"].strip() or post.get("code", "").strip():
        try:
            customer = proof.proven_customer(
                request, email=given["email"], code=post.get("code", "")
            )
        except proof.NotProven as exc:
            given["code_sent"] = True
            return _product_page(request, store, entry, message=str(exc), status=400, given=given)
        except proof.TooManyTries as exc:
            return _product_page(request, store, entry, message=str(exc), status=429, given=given)
    try:
        order = services.kiosk_reserve(
            kiosk_store=store,
            product=entry,
            sku=given["sku"],
            collect_at=given["collect_at"],
            nonce=post.get("nonce", ""),
            customer=customer,
            kiosk_user=request.user,
        )
    except ValidationError as exc:
        return _product_page(
            request, store, entry, message=" ".join(exc.messages), status=400, given=given
        )
    except services.TooManyReservations as exc:
        return _product_page(request, store, entry, message=str(exc), status=429, given=given)
    except OrderError as exc:
        # The orders service words its refusals for staff and systems (SKUs, codes):
        # the customer reads what happened and what to do.
        return _product_page(
            request,
            store,
            entry,
            message=customer_wording(exc),
            status=exc.status,
            given=given,
        )
    proof.forget(request)
    return redirect(reverse("kiosk:reserved") + f"?order={order.order_ref}")


def customer_wording(exc: OrderError) -> str:
    """A refusal of the orders service, as the kiosk says it to a customer."""
    if isinstance(exc, OutOfStock):
        return _(
            "Sorry, this size has just sold out where you chose to collect it. Choose "
            "another size or store, or ask an associate."
        )
    return _("We could not reserve it just now. Please ask an associate for help.")


@area_required(Area.KIOSK)
@require_GET
def reserved(request: HttpRequest) -> HttpResponse:
    """What the kiosk shows after reserving: the order reference only, no personal data."""
    store = _kiosk_store(request)
    ref = request.GET.get("order", "")[:40]
    order = (
        Order.objects.filter(order_ref=ref, channel="kiosk")
        .filter(order_ref__startswith=f"K-{store.code}-")
        .select_related("store")
        .first()
    )
    if order is None:
        return redirect("kiosk:home")
    return render(request, "kiosk/reserved.html", {"store": store, "order": order})


# --- Returns started at the kiosk ------------------------------------------------------
# The customer types or scans the order's reference and types its e-mail; a one-time
# code goes to the order's e-mail (`kiosk.proof`, the same answer whatever was wrong).
# With the code, the order is proven for this kiosk session only: the customer picks
# what goes back and confirms, and gets the return's code and QR to show at the
# counter. The proof is used up by the return, and the kiosk's idle reset (or the
# start screen) forgets it all: the next customer never sees the previous one's order.

RETURN_KEY = "aisle_kiosk_return"  # {"order": pk, "until": epoch seconds}
DONE_KEY = "aisle_kiosk_return_done"  # the pk of the return just started
PROVEN_TTL = 900  # seconds to choose and confirm once the code is proven


def _forget_return(request: HttpRequest) -> None:
    proof.forget(request, proof.ORDER)
    request.session.pop(RETURN_KEY, None)
    request.session.pop(DONE_KEY, None)


def _claim(ref: str, email: str) -> str:
    return f"{ref.upper()}|{email}"


def _return_given(post) -> dict:
    return {
        "ref": returns_kiosk.clean_ref(post.get("ref", "")),
        "email": post.get("email", "").strip()[:254],
    }


def _return_start_page(request, store, *, given=None, message="", level="error", status=200):
    context = {"store": store, "given": given or {}, "message": message, "level": level}
    return render(request, "kiosk/return_start.html", context, status=status)


def _not_proven_message() -> str:
    return _(
        "This code is not right or has expired, or the order reference or e-mail does not "
        "match. Check them, or ask for a new code."
    )


@area_required(Area.KIOSK)
@require_GET
def return_start(request: HttpRequest) -> HttpResponse:
    store = _kiosk_store(request)
    if store is None:
        return render(request, "kiosk/home.html", {"store": None}, status=403)
    return _return_start_page(request, store)


@area_required(Area.KIOSK)
@require_POST
def return_send_code(request: HttpRequest) -> HttpResponse:
    """E-mail a one-time code to the order's e-mail address when the reference and the
    address match an order; the kiosk answers the same either way."""
    store = _kiosk_store(request)
    if store is None:
        return render(request, "kiosk/home.html", {"store": None}, status=403)
    given = _return_given(request.POST)
    if not given["ref"]:
        message = _("Type your order reference, or scan the QR code on your receipt.")
        return _return_start_page(request, store, given=given, message=message, status=400)
    try:
        email = proof.clean_email(given["email"])
    except ValidationError as exc:
        message = " ".join(exc.messages)
        return _return_start_page(request, store, given=given, message=message, status=400)
    order = returns_kiosk.order_for_ref(given["ref"])
    customer = order.customer if order is not None else None
    if customer is None or (customer.email or "").strip().lower() != email:
        order = customer = None
    try:
        proof.issue(
            request,
            purpose=proof.ORDER,
            claim=_claim(given["ref"], email),
            subject_id=order.pk if order is not None else None,
            customer=customer,
            context={"store": store.name, "order_ref": order.order_ref if order else ""},
        )
    except proof.TooManyCodes as exc:
        return _return_start_page(request, store, given=given, message=str(exc), status=429)
    request.session.pop(RETURN_KEY, None)
    given["code_sent"] = True
    message = _(
        "If an order has this reference and this e-mail address, we sent a code to the "
        "address. Type the code below."
    )
    return _return_start_page(request, store, given=given, message=message, level="info")


@area_required(Area.KIOSK)
@require_POST
def return_prove(request: HttpRequest) -> HttpResponse:
    """The customer types the code: the order is theirs for this kiosk session."""
    store = _kiosk_store(request)
    if store is None:
        return render(request, "kiosk/home.html", {"store": None}, status=403)
    given = _return_given(request.POST)
    given["code_sent"] = True
    try:
        claim = _claim(given["ref"], proof.clean_email(given["email"]))
    except ValidationError:
        claim = None
    try:
        order_id = proof.check(
            request,
            purpose=proof.ORDER,
            claim=claim,
            code=request.POST.get("code", ""),
            refusal=_not_proven_message(),
        )
    except proof.NotProven as exc:
        return _return_start_page(request, store, given=given, message=str(exc), status=400)
    except proof.TooManyTries as exc:
        return _return_start_page(request, store, given=given, message=str(exc), status=429)
    proof.forget(request, proof.ORDER)
    request.session.pop(DONE_KEY, None)
    request.session[RETURN_KEY] = {"order": order_id, "until": time.time() + PROVEN_TTL}
    return redirect("kiosk:return_lines")


def _proven_order(request: HttpRequest) -> Order | None:
    proven = request.session.get(RETURN_KEY)
    if not isinstance(proven, dict) or proven.get("until", 0) < time.time():
        request.session.pop(RETURN_KEY, None)
        return None
    return Order.objects.select_related("customer").filter(pk=proven.get("order")).first()


def _first_name(order: Order) -> str:
    customer = order.customer
    if customer is None or customer.name in (customer.email, customer.phone):
        return ""
    return customer.first_name


def _lines_page(request, store, order, *, message="", status=200, picks=None):
    lines = returns_kiosk.kiosk_lines(order, store=store)
    context = {
        "store": store,
        "order_ref": order.order_ref,
        "currency": order.currency,
        "first_name": _first_name(order),
        "lines": lines,
        "nothing": returns_kiosk.nothing_left(lines),
        "reasons": Reason.choices,
        "picks": picks or {},
        "message": message,
    }
    return render(request, "kiosk/return_lines.html", context, status=status)


def _picks(post, order: Order) -> dict[int, tuple[int, str]]:
    """What the customer picked: order line id -> (units, reason). A quantity that is
    not a whole number is refused (ValidationError)."""
    picks = {}
    for line_id in order.lines.values_list("pk", flat=True):
        raw = post.get(f"qty_{line_id}", "").strip()
        if not raw:
            continue
        if not raw.isdigit() or len(raw) > 4:
            raise ValidationError(_("Choose how many of each item you return."))
        picks[line_id] = (int(raw), post.get(f"reason_{line_id}", "")[:20])
    return picks


def _expired(request, store):
    message = _("Your time to choose ran out. Start again with your order reference.")
    return _return_start_page(request, store, message=message, status=400)


@area_required(Area.KIOSK)
@require_GET
def return_lines(request: HttpRequest) -> HttpResponse:
    """The proven order's lines: what may go back, until when, what it refunds."""
    store = _kiosk_store(request)
    order = _proven_order(request)
    if store is None or order is None:
        return redirect("kiosk:return_start")
    return _lines_page(request, store, order)


@area_required(Area.KIOSK)
@require_POST
def return_review(request: HttpRequest) -> HttpResponse:
    """What the picked items would refund, to confirm (nothing written)."""
    store = _kiosk_store(request)
    order = _proven_order(request)
    if store is None or order is None:
        return _expired(request, store)
    try:
        picks = _picks(request.POST, order)
        quote = returns_kiosk.kiosk_quote(order=order, store=store, picks=picks)
    except ValidationError as exc:
        return _lines_page(request, store, order, message=" ".join(exc.messages), status=400)
    except returns_kiosk.KioskRefused as exc:
        return _lines_page(request, store, order, message=exc.detail, status=exc.status)
    context = {
        "store": store,
        "order_ref": order.order_ref,
        "currency": order.currency,
        "first_name": _first_name(order),
        "quote": quote,
        "rows": [
            {"ask": ask, "reason": Reason(ask.reason).label, "refund": gross - fee, "fee": fee}
            for ask, gross, fee in quote.lines
        ],
        "nonce": uuid.uuid4().hex,
    }
    return render(request, "kiosk/return_review.html", context)


@area_required(Area.KIOSK)
@require_POST
def return_confirm(request: HttpRequest) -> HttpResponse:
    """The customer confirms: the return is started (a double tap starts it once) and
    the proof is used up."""
    store = _kiosk_store(request)
    if store is None:
        return _expired(request, store)
    nonce = request.POST.get("nonce", "")[:32]
    done = request.session.get(DONE_KEY)
    if done and len(nonce) == 32 and nonce.isalnum():
        ref = returns_kiosk.return_ref_for(store, nonce)
        if Return.objects.filter(pk=done, return_ref=ref).exists():
            return redirect("kiosk:return_done")
    order = _proven_order(request)
    if order is None:
        return _expired(request, store)
    try:
        picks = _picks(request.POST, order)
        ret = returns_kiosk.kiosk_return_start(
            order=order, store=store, picks=picks, nonce=nonce, kiosk_user=request.user
        )
    except ValidationError as exc:
        return _lines_page(request, store, order, message=" ".join(exc.messages), status=400)
    except returns_kiosk.KioskRefused as exc:
        return _lines_page(request, store, order, message=exc.detail, status=exc.status)
    request.session.pop(RETURN_KEY, None)
    request.session[DONE_KEY] = ret.pk
    return redirect("kiosk:return_done")


@area_required(Area.KIOSK)
@require_GET
def return_done(request: HttpRequest) -> HttpResponse:
    """The return's code and its QR, to show at the counter; the items and the refund
    expected. Only the return this kiosk session just started."""
    store = _kiosk_store(request)
    done = request.session.get(DONE_KEY)
    ret = (
        Return.objects.filter(pk=done, started_via=StartedVia.KIOSK, store=store)
        .select_related("order")
        .first()
        if done and store is not None
        else None
    )
    if ret is None:
        return redirect("kiosk:home")
    context = {
        "store": store,
        "ret": ret,
        "lines": list(ret.lines.select_related("variant__product").order_by("pk")),
        "currency": ret.order.currency if ret.order_id else "",
        "qr_payload": f"AISLE-RETURN:{ret.code}",
    }
    return render(request, "kiosk/return_done.html", context)
