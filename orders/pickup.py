"""Buy online, pick up in store: the store's side of a pickup.

The queue of the store's pickups, picking by scan, short lines (re-sourced
through `orders.services`, or cancelled with a refund and the customer told),
ready with a pickup code and its QR image, the kiosk check-in, the verified
hand-over, and the hold period's reminder and expiry.

Every change locks the order row first (`services._lock_order`), checks the
state inside the lock, writes an `OrderEvent` (who, when, where) and sends
customer messages through `retail.messaging.message_send` with a key, so a
double tap, two associates at once or a retried task change nothing twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inventory.models import StockLevel
from orders import services
from orders.models import (
    Fulfillment,
    FulfillmentLine,
    Method,
    Order,
    OrderEvent,
    OrderStatus,
    Refund,
    State,
)
from retail import outbox
from retail.hours import next_open_moment
from retail.messaging import message_send
from retail.models import Store, User, Variant

PICKUP_METHODS = (Method.PICKUP, Method.SHIP_TO_STORE)
# A pickup in the store's hands: on its shelf (reserved pickup, received
# ship-to-store), being picked, or ready.
QUEUE_FILTER = Q(state__in=(State.RECEIVED, State.PICKING, State.READY)) | Q(
    state=State.RESERVED, method=Method.PICKUP
)
PICKABLE = frozenset({State.RESERVED, State.RECEIVED, State.PICKING})
# Reminder this long before the hold ends; "overdue" this close to its end.
REMIND_BEFORE = dt.timedelta(days=1)
# Wrong codes allowed per store in a window (tablet and kiosk together).
GUESS_LIMIT = 10
GUESS_WINDOW = 600  # seconds
CODE_RE = re.compile(r"^\d{6}$")
QR_RE = re.compile(r"^AISLE1:(\d{1,18}):(\d{6}):([0-9a-f]{20})$")
SCAN_MAX = 64


def clean(text) -> str:
    """What a scanner or a person typed, without control characters (NUL included,
    which PostgreSQL refuses in text), trimmed to what a code can be."""
    text = "" if text is None else str(text)
    return "".join(ch for ch in text if ch >= " " and ch != "\x7f").strip()[: SCAN_MAX * 4]


# --- Errors -----------------------------------------------------------------------


class PickupError(services.OrderError):
    """A pickup step refused with a message for the person at the screen; nothing changed."""

    status, code = 400, "pickup_refused"


class NotHere(PickupError):
    status, code = 404, "not_here"


class WrongItem(PickupError):
    code = "wrong_item"


class NotReady(PickupError):
    status, code = 409, "not_ready"


class LinesUnpicked(PickupError):
    status, code = 409, "lines_unpicked"


class AlreadyEnded(PickupError):
    status, code = 409, "already_ended"


class WrongCode(PickupError):
    code = "wrong_code"


class TooManyGuesses(PickupError):
    status, code = 429, "throttled"


# --- Reading: the queue, the order, the figures -----------------------------------


def pickups_at(store: Store) -> QuerySet[Fulfillment]:
    return Fulfillment.objects.filter(pickup_store=store, method__in=PICKUP_METHODS)


def _with_lines(queryset: QuerySet[Fulfillment]) -> QuerySet[Fulfillment]:
    return queryset.select_related("order__customer", "location").prefetch_related(
        Prefetch(
            "lines",
            queryset=FulfillmentLine.objects.select_related("order_line__variant__product"),
        )
    )


class Bucket:
    NEW = "new"
    PICKING = "picking"
    READY = "ready"
    WAITING = "waiting"
    OVERDUE = "overdue"

    ALL = (NEW, PICKING, READY, WAITING, OVERDUE)


def _overdue_q(now: dt.datetime) -> Q:
    return Q(state__in=PICKABLE, ready_by__lt=now) | Q(
        state=State.READY, hold_until__lt=now + REMIND_BEFORE
    )


BUCKET_FILTERS = {
    Bucket.NEW: lambda now: Q(state__in=(State.RESERVED, State.RECEIVED)),
    Bucket.PICKING: lambda now: Q(state=State.PICKING),
    Bucket.READY: lambda now: Q(state=State.READY, checked_in_at__isnull=True),
    Bucket.WAITING: lambda now: Q(state=State.READY, checked_in_at__isnull=False),
    Bucket.OVERDUE: _overdue_q,
}


def pickup_queue(store: Store, *, bucket: str = "", now: dt.datetime | None = None):
    """The store's pickups in hand, soonest promised first, with their lines."""
    now = now or timezone.now()
    queryset = pickups_at(store).filter(QUEUE_FILTER)
    if bucket in BUCKET_FILTERS:
        queryset = queryset.filter(BUCKET_FILTERS[bucket](now))
    # Customers waiting at the counter come first, then by promised time.
    return _with_lines(queryset).order_by(
        F("checked_in_at").asc(nulls_last=True), F("ready_by").asc(nulls_last=True), "pk"
    )


def queue_counts(store: Store, *, now: dt.datetime | None = None) -> dict[str, int]:
    """How many pickups are in each bucket (one query)."""
    now = now or timezone.now()
    row = (
        pickups_at(store)
        .filter(QUEUE_FILTER)
        .aggregate(
            total=Count("pk"),
            **{name: Count("pk", filter=make(now)) for name, make in BUCKET_FILTERS.items()},
        )
    )
    return {key: value or 0 for key, value in row.items()}


def annotate_for_display(fulfillments, now: dt.datetime) -> None:
    """Set `bucket`, `overdue`, `waited_since` and the pick progress on each row."""
    for f in fulfillments:
        lines = list(f.lines.all())
        f.units = sum(line.quantity for line in lines)
        f.picked = sum(line.picked_quantity for line in lines)
        if f.state == State.READY:
            f.bucket = Bucket.WAITING if f.checked_in_at else Bucket.READY
        elif f.state == State.PICKING:
            f.bucket = Bucket.PICKING
        else:
            f.bucket = Bucket.NEW
        f.overdue = bool(
            (f.state in PICKABLE and f.ready_by and f.ready_by < now)
            or (f.state == State.READY and f.hold_until and f.hold_until < now + REMIND_BEFORE)
        )
        if f.bucket == Bucket.WAITING:
            f.waited_since = f.checked_in_at
        elif f.bucket == Bucket.READY:
            f.waited_since = f.ready_at or f.order.created_at
        else:
            f.waited_since = f.order.created_at


def pickup_for_store(store: Store, pk: int) -> Fulfillment | None:
    """One pickup of this store, with everything its page shows."""
    return _with_lines(pickups_at(store)).select_related("pickup_store").filter(pk=pk).first()


def shelf_stock(fulfillment: Fulfillment) -> dict[int, StockLevel]:
    """variant_id -> the stock row at the fulfilment's location (one query)."""
    variant_ids = [line.order_line.variant_id for line in fulfillment.lines.all()]
    return {
        level.variant_id: level
        for level in StockLevel.objects.filter(
            location_id=fulfillment.location_id, variant_id__in=variant_ids
        )
    }


#: What each kind of order event is called on the screens.
EVENT_LABELS = {
    "order_placed": gettext_lazy("Order placed"),
    "order_status": gettext_lazy("Order status"),
    "fulfillment_created": gettext_lazy("Fulfilment created"),
    "fulfillment_changed": gettext_lazy("Fulfilment moved"),
    "line_cancelled": gettext_lazy("Line cancelled"),
    "item_picked": gettext_lazy("Item picked"),
    "line_short": gettext_lazy("Not on the shelf"),
    "customer_checked_in": gettext_lazy("Customer checked in"),
    "line_refused": gettext_lazy("Refused at hand-over"),
    "pickup_reminded": gettext_lazy("Reminder sent"),
    "handed_over_without_code": gettext_lazy("Handed over without the code"),
}


def _state_label(value: str) -> str:
    if value in State.values:
        return str(State(value).label)
    if value in OrderStatus.values:
        return str(OrderStatus(value).label)
    return value


def order_timeline(order: Order) -> list[OrderEvent]:
    """Every event of the order, oldest first: who, when, where (one query), with
    each event's and state's name for the screen."""
    events = list(
        OrderEvent.objects.filter(order=order)
        .select_related("by", "store", "fulfillment__location")
        .order_by("at", "pk")
    )
    for event in events:
        event.label = EVENT_LABELS.get(event.kind, event.kind)
        event.from_label = _state_label(event.from_state)
        event.to_label = _state_label(event.to_state)
    return events


def pickup_search(store: Store, text: str, limit: int = 20) -> list[Fulfillment]:
    """The store's pickups in hand matching an order ref, a customer's name or phone."""
    text = clean(text)[:SCAN_MAX]
    if not text:
        return []
    condition = Q(order__order_ref__iexact=text) | Q(order__customer__name__icontains=text)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        condition |= Q(order__customer__phone__contains=digits.lstrip("0") or digits)
    queryset = pickups_at(store).filter(QUEUE_FILTER).filter(condition)
    return list(_with_lines(queryset).order_by("-state", "pk")[:limit])


def hq_figures(store_ids, *, since: dt.datetime) -> dict[int, dict]:
    """Per store: pickups waiting now, ready now, not collected (expired) since `since`,
    and the average time from order to ready since `since` (one query)."""
    to_ready = ExpressionWrapper(
        F("ready_at") - F("order__created_at"), output_field=DurationField()
    )
    rows = (
        Fulfillment.objects.filter(pickup_store__in=store_ids, method__in=PICKUP_METHODS)
        .values("pickup_store")
        .annotate(
            waiting=Count("pk", filter=QUEUE_FILTER),
            ready=Count("pk", filter=Q(state=State.READY)),
            customers_waiting=Count("pk", filter=Q(state=State.READY, checked_in_at__isnull=False)),
            not_collected=Count("pk", filter=Q(state=State.EXPIRED, updated_at__gte=since)),
            collected=Count("pk", filter=Q(state=State.COLLECTED, collected_at__gte=since)),
            to_ready=Avg(to_ready, filter=Q(ready_at__gte=since)),
        )
    )
    return {row["pickup_store"]: row for row in rows}


# --- Codes and their QR image --------------------------------------------------------


def _sign(fulfillment_id: int, code: str) -> str:
    return salted_hmac("aisle.pickup.qr", f"{fulfillment_id}:{code}").hexdigest()[:20]


def qr_payload(fulfillment: Fulfillment) -> str:
    """What the QR code holds (and a 2D scanner types): the fulfilment, its code and
    a signature, so an altered QR is told apart from a wrong code."""
    code = fulfillment.pickup_code
    return f"AISLE1:{fulfillment.pk}:{code}:{_sign(fulfillment.pk, code)}"


def qr_png(payload: str) -> bytes:
    """The QR image, drawn offline by segno."""
    import segno

    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=6, border=3)
    return buffer.getvalue()


def _new_code(store: Store) -> str:
    """Six digits no other ready pickup at the store holds."""
    taken = set(pickups_at(store).filter(state=State.READY).values_list("pickup_code", flat=True))
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        if code not in taken:
            return code


def _guess_key(store: Store) -> str:
    window = int(timezone.now().timestamp()) // GUESS_WINDOW
    return f"aisle:pickup-guesses:{store.pk}:{window}"


def _guard(store: Store) -> None:
    if (cache.get(_guess_key(store)) or 0) >= GUESS_LIMIT:
        raise TooManyGuesses(
            _("Too many wrong pickup codes at this store. Wait a few minutes and try again.")
        )


def _guess_failed(store: Store) -> None:
    key = _guess_key(store)
    cache.add(key, 0, GUESS_WINDOW * 2)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, GUESS_WINDOW * 2)


def _ended_message(f: Fulfillment, store: Store) -> str:
    if f.state == State.COLLECTED:
        when = timezone.localtime(f.collected_at or f.updated_at, store.tz)
        return _("This order was already handed over (%(at)s).") % {
            "at": date_format(when, "DATETIME_FORMAT")
        }
    if f.state == State.EXPIRED:
        return _("This order expired: it was not collected in time.")
    if f.state == State.CANCELLED:
        return _("This order was cancelled.")
    return _("This order is not ready for collection yet.")


def _check_collectable(f: Fulfillment, store: Store) -> None:
    if f.pickup_store_id != store.pk:
        raise NotHere(
            _("This order is to be collected at %(store)s, not at this store.")
            % {"store": f.pickup_store.name if f.pickup_store else "?"}
        )
    if f.state in (State.COLLECTED, State.EXPIRED, State.CANCELLED):
        raise AlreadyEnded(_ended_message(f, store))
    if f.state != State.READY:
        raise NotReady(_ended_message(f, store))


def resolve_code(*, store: Store, text: str) -> Fulfillment:
    """The ready pickup at `store` that a typed code or a scanned QR names.

    Wrong, altered and other stores' codes count as guesses, limited per store."""
    text = clean(text)
    _guard(store)
    match = QR_RE.match(text)
    base = Fulfillment.objects.select_related("order__customer", "pickup_store")
    if match:
        fid, code, signature = int(match[1]), match[2], match[3]
        if not constant_time_compare(signature, _sign(fid, code)):
            _guess_failed(store)
            raise WrongCode(_("This QR code is not valid: it has been altered."))
        f = base.filter(pk=fid, method__in=PICKUP_METHODS).first()
        if f is None or not constant_time_compare(f.pickup_code, code):
            _guess_failed(store)
            raise WrongCode(_("This QR code is no longer valid. Ask for the pickup code."))
    elif CODE_RE.match(text):
        candidates = base.filter(pickup_code=text, method__in=PICKUP_METHODS)
        f = (
            candidates.filter(pickup_store=store, state=State.READY).first()
            or candidates.filter(pickup_store=store).order_by("-pk").first()
        )
        if f is None:
            _guess_failed(store)
            if candidates.filter(state=State.READY).exclude(pickup_store=store).exists():
                raise NotHere(_("This pickup code is for an order at another store."))
            raise WrongCode(_("No order has this pickup code. Check the code and try again."))
    else:
        _guess_failed(store)
        raise WrongCode(_("A pickup code is six digits, or scan the QR code in the message."))
    if f.pickup_store_id != store.pk:
        _guess_failed(store)
    _check_collectable(f, store)
    return f


# --- Events ----------------------------------------------------------------------------


def _log(
    order: Order,
    fulfillment: Fulfillment | None,
    kind: str,
    *,
    by: User | None,
    store: Store | None,
    reason: str = "",
    from_state: str = "",
    to_state: str = "",
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        fulfillment=fulfillment,
        kind=kind,
        store=store,
        from_state=from_state,
        to_state=to_state,
        by=by if by is not None and getattr(by, "is_authenticated", False) else None,
        reason=str(reason)[:300],
    )


def _transition(
    f: Fulfillment, to: str, *, by: User | None, store: Store | None, reason: str = ""
) -> Fulfillment:
    """`services.fulfillment_transition`, with where it happened on its event."""
    moved = services.fulfillment_transition(fulfillment=f, to=to, by=by, reason=reason)
    if store is not None:
        OrderEvent.objects.filter(
            fulfillment_id=f.pk, kind="fulfillment_changed", to_state=to, store__isnull=True
        ).update(store=store)
    return moved


def _locked(fulfillment: Fulfillment | int) -> tuple[Order, Fulfillment]:
    pk = fulfillment if isinstance(fulfillment, int) else fulfillment.pk
    order_id = Fulfillment.objects.filter(pk=pk).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotHere(_("There is no such pickup."))
    order = services._lock_order(order_id)
    f = (
        Fulfillment.objects.select_related("pickup_store", "location", "order__customer")
        .filter(pk=pk)
        .first()
    )
    if f is None:
        raise NotHere(_("There is no such pickup."))
    return order, f


def _at_store(f: Fulfillment, store: Store) -> None:
    if f.pickup_store_id != store.pk or f.method not in PICKUP_METHODS:
        raise NotHere(_("This pickup belongs to another store."))


def _pickable(f: Fulfillment) -> None:
    if f.state in PICKABLE and not (f.method == Method.SHIP_TO_STORE and f.state == State.RESERVED):
        return
    if f.state == State.READY:
        raise PickupError(_("This order is ready: it has been picked."))
    raise PickupError(_ended_message(f, f.pickup_store) if f.ended else _("Not in store yet."))


def _start_picking(f: Fulfillment, *, by, store) -> None:
    if f.state != State.PICKING:
        _transition(f, State.PICKING, by=by, store=store, reason=_("picking started"))
        f.state = State.PICKING


# --- Pick -------------------------------------------------------------------------------


@dataclass
class ScanOutcome:
    line: FulfillmentLine
    counted: bool
    message: str


def _expected(lines) -> str:
    open_lines = [line for line in lines if line.picked_quantity < line.quantity] or list(lines)
    return ", ".join(
        f"{line.order_line.sku} ({line.order_line.variant.product.name})" for line in open_lines
    )


@transaction.atomic
def pickup_scan(
    *, fulfillment: Fulfillment, code: str, by: User | None, store: Store
) -> ScanOutcome:
    """Count one unit for the line whose barcode or SKU was scanned or typed. A wrong
    item is refused naming what is expected; a unit beyond the quantity is not counted."""
    code = clean(code)
    if not code:
        raise PickupError(_("Scan a barcode or type a SKU."))
    if len(code) > SCAN_MAX:
        raise WrongItem(_("That is not a barcode or a SKU."))
    order, f = _locked(fulfillment)
    _at_store(f, store)
    _pickable(f)
    lines = list(f.lines.select_related("order_line__variant__product").order_by("pk"))
    matching = [
        line
        for line in lines
        if line.order_line.variant.barcode == code or line.order_line.sku.lower() == code.lower()
    ]
    if not matching:
        other = (
            Variant.objects.select_related("product")
            .filter(Q(barcode=code) | Q(sku__iexact=code))
            .first()
        )
        if other is not None:
            raise WrongItem(
                _("Wrong item: %(found)s is not in this order. Expected: %(expected)s.")
                % {"found": f"{other.sku} ({other.product.name})", "expected": _expected(lines)}
            )
        raise WrongItem(
            _("Unknown barcode or SKU “%(code)s”. Expected: %(expected)s.")
            % {"code": code, "expected": _expected(lines)}
        )
    line = next((m for m in matching if m.picked_quantity < m.quantity), matching[0])
    sku = line.order_line.sku
    if line.picked_quantity >= line.quantity:
        return ScanOutcome(
            line,
            False,
            _("Already picked: %(n)s of %(n)s × %(sku)s. This unit was not counted.")
            % {"n": line.quantity, "sku": sku},
        )
    _start_picking(f, by=by, store=store)
    line.picked_quantity += 1
    line.save(update_fields=["picked_quantity"])
    progress = {"sku": sku, "n": line.picked_quantity, "total": line.quantity}
    reason = f"{sku} {progress['n']}/{progress['total']}"
    _log(order, f, "item_picked", by=by, store=store, reason=reason)
    return ScanOutcome(line, True, _("Picked %(sku)s: %(n)s of %(total)s.") % progress)


def pick_remaining(*, fulfillment: Fulfillment, store: Store, by: User | None = None) -> None:
    """Scan every unit not yet picked (demo data and tests; the tablet scans one by one)."""
    for line in fulfillment.lines.select_related("order_line"):
        for _n in range(line.quantity - line.picked_quantity):
            pickup_scan(fulfillment=fulfillment, code=line.order_line.sku, by=by, store=store)


@dataclass
class ShortOutcome:
    resourced: list[Fulfillment] = field(default_factory=list)
    cancelled: int = 0
    refund: Refund | None = None
    message: str = ""


@transaction.atomic
def pickup_short(
    *, fulfillment: Fulfillment, line_id: int, by: User | None, store: Store
) -> ShortOutcome:
    """The line's units not yet picked are not on the shelf: release them here and
    re-source them (a transfer from elsewhere, with a new ready date), or cancel them
    with a refund when nothing is available. The customer is told either way."""
    order, f = _locked(fulfillment)
    _at_store(f, store)
    _pickable(f)
    line = f.lines.select_related("order_line", "fulfillment").filter(pk=line_id).first()
    if line is None:
        raise NotHere(_("This line is not part of the order."))
    missing = line.quantity - line.picked_quantity
    if missing <= 0:
        raise PickupError(_("Every unit of this line is picked: nothing is short."))
    order_line = line.order_line
    if line.picked_quantity:
        # Keep what was picked; the rest becomes a line of its own to re-source.
        line.quantity = line.picked_quantity
        line.save(update_fields=["quantity"])
        line = FulfillmentLine.objects.create(
            fulfillment=f, order_line=order_line, quantity=missing
        )
    line.fulfillment = f
    line.order_line = order_line
    level = StockLevel.objects.select_related("location").get(
        location_id=f.location_id, variant_id=order_line.variant_id
    )
    event = _log(
        order,
        f,
        "line_short",
        by=by,
        store=store,
        reason=_("%(n)s × %(sku)s not found on the shelf") % {"n": missing, "sku": order_line.sku},
    )
    last_fulfillment = order.fulfillments.aggregate(m=Max("pk"))["m"] or 0
    last_refund = order.refunds.aggregate(m=Max("pk"))["m"] or 0
    cancelled_before = order_line.cancelled_quantity
    services._resource_line(line, level, by, _("not found on the shelf"))
    OrderEvent.objects.filter(order=order, pk__gt=event.pk, store__isnull=True).update(store=store)
    outcome = ShortOutcome(
        resourced=list(order.fulfillments.filter(pk__gt=last_fulfillment).order_by("pk")),
        refund=order.refunds.filter(pk__gt=last_refund).order_by("pk").last(),
    )
    order_line.refresh_from_db(fields=["cancelled_quantity"])
    outcome.cancelled = order_line.cancelled_quantity - cancelled_before
    if order.customer is not None:
        message_send(
            customer=order.customer,
            template="pickup_changed",
            context={
                "first_name": order.customer.first_name,
                "order_ref": order.order_ref,
                "store": store.name,
                "sku": order_line.sku,
                "product": str(order_line.variant.product.name),
                "resourced": missing - outcome.cancelled,
                "ready_by": _local(
                    max((n.ready_by for n in outcome.resourced if n.ready_by), default=None), store
                ),
                "cancelled": outcome.cancelled,
                "refund": f"{outcome.refund.amount:.2f}" if outcome.refund else "",
                "currency": order.currency,
            },
            key=f"pickup_short:{event.pk}",
        )
    if outcome.cancelled:
        outcome.message = _(
            "%(n)s × %(sku)s cancelled: no stock anywhere. The refund is recorded and the "
            "customer told."
        ) % {"n": outcome.cancelled, "sku": order_line.sku}
    else:
        outcome.message = _(
            "%(n)s × %(sku)s re-sourced from elsewhere; the customer is told the new ready date."
        ) % {"n": missing, "sku": order_line.sku}
    return outcome


def _local(moment: dt.datetime | None, store: Store) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment, store.tz).strftime("%Y-%m-%d %H:%M")


# --- Ready ------------------------------------------------------------------------------


@transaction.atomic
def pickup_mark_ready(*, fulfillment: Fulfillment, by: User | None, store: Store) -> Fulfillment:
    """Every line picked: the pickup is ready, held for the store's hold period, with a
    new pickup code. The "ready for pickup" message goes through the outbox once."""
    _order, f = _locked(fulfillment)
    _at_store(f, store)
    if f.state == State.READY:
        return f  # a double tap
    _pickable(f)
    lines = list(f.lines.select_related("order_line"))
    if not lines:
        raise LinesUnpicked(_("This pickup has no lines left."))
    unpicked = [line for line in lines if line.picked_quantity < line.quantity]
    if unpicked:
        raise LinesUnpicked(
            _("Not every line is picked or resolved. Still to pick: %(lines)s.")
            % {
                "lines": ", ".join(
                    f"{line.quantity - line.picked_quantity} × {line.order_line.sku}"
                    for line in unpicked
                )
            }
        )
    _start_picking(f, by=by, store=store)
    now = timezone.now()
    f.pickup_code = _new_code(store)
    f.ready_at = now
    f.hold_until = now + dt.timedelta(days=store.pickup_hold_days)
    f.reminded_at = None
    f.save(update_fields=["pickup_code", "ready_at", "hold_until", "reminded_at"])
    f = _transition(f, State.READY, by=by, store=store, reason=_("picked and ready"))
    outbox.enqueue_task(
        "orders.pickup.pickup_ready_notify",
        kwargs={"fulfillment_id": f.pk},
        key=f"pickup_ready:{f.pk}",
    )
    return f


def pickup_ready_notify(*, fulfillment_id: int) -> None:
    """The outbox task: the "ready for pickup" message with the code and its QR image.
    Runs outside the order lock; the message key sends it once however often it runs."""
    f = (
        Fulfillment.objects.select_related("order__customer", "pickup_store")
        .filter(pk=fulfillment_id)
        .first()
    )
    if f is None or f.state != State.READY or f.order.customer is None or not f.pickup_code:
        return
    store, payload = f.pickup_store, qr_payload(f)
    message_send(
        customer=f.order.customer,
        template="pickup_ready",
        context={
            "first_name": f.order.customer.first_name,
            "order_ref": f.order.order_ref,
            "store": store.name,
            "address": ", ".join(x for x in (store.address_line1, store.city) if x),
            "code": f.pickup_code,
            "qr": payload,
            "hold_until": _local(f.hold_until, store),
            "_attachments": [
                {
                    "name": f"pickup-{f.order.order_ref}.png",
                    "content": base64.b64encode(qr_png(payload)).decode(),
                    "mimetype": "image/png",
                }
            ],
        },
        key=f"pickup_ready:{f.pk}",
    )


# --- Kiosk check-in ---------------------------------------------------------------------


@transaction.atomic
def pickup_check_in(*, store: Store, text: str, by: User | None) -> Fulfillment:
    """The customer checks in at the kiosk with their code (typed or scanned QR). An
    order reference alone says whether the order is ready, and checks nobody in."""
    text = clean(text)[:SCAN_MAX]
    if not text:
        raise WrongCode(_("Type your pickup code or scan its QR code."))
    if not (QR_RE.match(text) or CODE_RE.match(text)):
        _guard(store)
        order = Order.objects.filter(order_ref__iexact=text).first()
        f = order and pickups_at(store).filter(order=order).order_by("-pk").first()
        if not f:
            _guess_failed(store)
            raise WrongCode(_("A pickup code is six digits, or scan the QR code in the message."))
        if f.state == State.READY:
            raise WrongCode(_("Your order is ready: type the pickup code from your message."))
        _check_collectable(f, store)
    f = resolve_code(store=store, text=text)
    order, f = _locked(f)
    _check_collectable(f, store)
    if f.checked_in_at is None:
        f.checked_in_at = timezone.now()
        f.save(update_fields=["checked_in_at", "updated_at"])
        _log(order, f, "customer_checked_in", by=by, store=store, reason=_("at the kiosk"))
        outbox.record_event(
            "fulfillment_changed",
            payload={
                "order_ref": order.order_ref,
                "fulfillment_id": f.pk,
                "from": f.state,
                "to": f.state,
                "checked_in": True,
            },
        )
    return f


# --- Hand-over ----------------------------------------------------------------------------


def _code_matches(f: Fulfillment, text: str) -> bool:
    text = clean(text)
    match = QR_RE.match(text)
    if match:
        return (
            int(match[1]) == f.pk
            and constant_time_compare(match[3], _sign(f.pk, match[2]))
            and constant_time_compare(match[2], f.pickup_code)
        )
    return bool(f.pickup_code) and constant_time_compare(text, f.pickup_code)


@transaction.atomic
def pickup_hand_over(
    *,
    fulfillment: Fulfillment,
    code: str,
    by: User | None,
    store: Store,
    refusals: Mapping[int, tuple[int, str]] | None = None,
    id_checked: bool = False,
) -> Fulfillment:
    """Hand a ready pickup over after verifying its code: all lines, or all but those
    the customer refuses (`refusals`: line id -> (units, reason), recorded for a later
    return). Stock moves from reserved to sold through the ledger. A second hand-over
    (double tap, replayed POST, two associates) is refused: it happens once.

    A customer who lost the code may collect without it when the associate checked
    their ID (`id_checked`, no code) and training's gate `handover_without_code`
    allows this associate (certified, or a manager's one-time override)."""
    _guard(store)
    order, f = _locked(fulfillment)
    _at_store(f, store)
    _check_collectable(f, store)
    without_code = id_checked and not clean(code)
    if not without_code and not _code_matches(f, code):
        _guess_failed(store)
        raise WrongCode(_("The pickup code does not match this order."))
    lines = {line.pk: line for line in f.lines.select_related("order_line")}
    refusals = dict(refusals or {})
    for line_id, (units, reason) in refusals.items():
        line = lines.get(line_id)
        if line is None:
            raise PickupError(_("A refused line is not part of this order."))
        if not 0 < units <= line.quantity:
            raise PickupError(
                _("Refuse between 1 and %(n)s × %(sku)s.")
                % {"n": line.quantity, "sku": line.order_line.sku}
            )
        if not clean(reason):
            raise PickupError(
                _("Say why the customer refused %(sku)s.") % {"sku": line.order_line.sku}
            )
    if lines and sum(u for u, _r in refusals.values()) >= sum(x.quantity for x in lines.values()):
        raise PickupError(
            _("Every unit is refused: nothing to hand over. Cancel the order instead.")
        )
    if without_code:
        _authorise_without_code(f, by=by)
        _log(
            order,
            f,
            "handed_over_without_code",
            by=by,
            store=store,
            reason=_("the customer's ID was checked instead of the code"),
        )
    for line_id, (units, reason) in refusals.items():
        line = lines[line_id]
        line.refused_quantity = units
        line.refused_reason = clean(reason)[:200]
        line.save(update_fields=["refused_quantity", "refused_reason"])
        _log(
            order,
            f,
            "line_refused",
            by=by,
            store=store,
            reason=_("%(n)s × %(sku)s refused: %(why)s")
            % {"n": units, "sku": line.order_line.sku, "why": line.refused_reason},
        )
    f.collected_at = timezone.now()
    f.save(update_fields=["collected_at"])
    return _transition(f, State.COLLECTED, by=by, store=store, reason=_("handed over"))


class NotCertified(PickupError):
    status, code = 403, "not_certified"

    def __init__(self, detail: str, explanation=None):
        super().__init__(detail)
        self.explanation = explanation


def _authorise_without_code(f: Fulfillment, *, by: User | None) -> None:
    from training import services as training
    from training.services.gates import OperationRefused

    if by is None:
        raise NotCertified(_("Only an associate may hand over without the code."))
    try:
        training.operation_authorise(
            user=by, operation="handover_without_code", target=f"fulfillment:{f.pk}"
        )
    except OperationRefused as exc:
        raise NotCertified(exc.explanation.message, exc.explanation) from exc


# --- Reminders and expiry (Celery beat) -------------------------------------------------


def _open_now(store: Store, now: dt.datetime) -> bool:
    moment = next_open_moment(store, now)
    return moment is not None and moment == now


def pickups_remind(now: dt.datetime | None = None) -> int:
    """Remind customers whose hold ends within a day, inside their store's opening
    hours. Each pickup is reminded once; a missed beat is caught up at the next one."""
    now = now or timezone.now()
    due = (
        Fulfillment.objects.filter(
            method__in=PICKUP_METHODS,
            state=State.READY,
            reminded_at__isnull=True,
            hold_until__gt=now,
            hold_until__lte=now + REMIND_BEFORE,
        )
        .select_related("pickup_store")
        .prefetch_related("pickup_store__opening_hours")
    )
    sent = 0
    for f in due:
        if _open_now(f.pickup_store, now):
            sent += pickup_remind(fulfillment_id=f.pk, now=now)
    return sent


@transaction.atomic
def pickup_remind(*, fulfillment_id: int, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    try:
        order, f = _locked(fulfillment_id)
    except NotHere:
        return 0
    if f.state != State.READY or f.reminded_at is not None or f.hold_until is None:
        return 0
    if not now < f.hold_until <= now + REMIND_BEFORE:
        return 0
    f.reminded_at = now
    f.save(update_fields=["reminded_at"])
    _log(order, f, "pickup_reminded", by=None, store=None, reason=_("hold ends within a day"))
    if order.customer is not None:
        message_send(
            customer=order.customer,
            template="pickup_reminder",
            context={
                "first_name": order.customer.first_name,
                "order_ref": order.order_ref,
                "store": f.pickup_store.name,
                "code": f.pickup_code,
                "hold_until": _local(f.hold_until, f.pickup_store),
            },
            key=f"pickup_reminder:{f.pk}",
        )
    return 1


def pickups_expire(now: dt.datetime | None = None) -> int:
    """Expire every ready pickup whose hold has ended, however long ago (catch-up)."""
    now = now or timezone.now()
    ids = list(
        Fulfillment.objects.filter(
            method__in=PICKUP_METHODS, state=State.READY, hold_until__lte=now
        ).values_list("pk", flat=True)
    )
    return sum(pickup_expire(fulfillment_id=pk, now=now) for pk in ids)


@transaction.atomic
def pickup_expire(*, fulfillment_id: int, now: dt.datetime | None = None) -> int:
    """Stock released, refund recorded, event written, customer told: once."""
    now = now or timezone.now()
    try:
        order, f = _locked(fulfillment_id)
    except NotHere:
        return 0
    if f.state != State.READY or f.hold_until is None or f.hold_until > now:
        return 0
    last_refund = order.refunds.aggregate(m=Max("pk"))["m"] or 0
    _transition(f, State.EXPIRED, by=None, store=None, reason=_("pickup not collected in time"))
    refund = order.refunds.filter(pk__gt=last_refund).order_by("pk").last()
    if order.customer is not None:
        message_send(
            customer=order.customer,
            template="pickup_expired",
            context={
                "first_name": order.customer.first_name,
                "order_ref": order.order_ref,
                "store": f.pickup_store.name,
                "refund": f"{refund.amount:.2f}" if refund else "",
                "currency": order.currency,
            },
            key=f"pickup_expired:{f.pk}",
        )
    return 1


def pickups_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """The beat task's body: reminders first, then expiry."""
    now = now or timezone.now()
    return {"reminded": pickups_remind(now), "expired": pickups_expire(now)}
