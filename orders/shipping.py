"""The store's shipping work: ship-to-store transfers and ship-from-store parcels.

Ship-to-store: the source location picks and sends the units (`in_transit`, a
transfer out of its ledger); the pickup store receives them by scanning each unit
(`received`, a transfer into its ledger, still reserved for the order) and the
fulfilment joins the pickup journey at `picking`.

Ship-from-store: the store picks each unit by scanning (`picking`), packs the
parcel (`packed`, with a printable packing slip), ships it with the carrier's
tracking reference (`shipped`, sold out of its ledger) and marks it delivered.

Every state change goes through `orders.services.fulfillment_transition` (order
lock, ledger rows, events, webhooks). Scanning itself changes nothing: the
tablet keeps what was scanned (`ScanSheet`) and the step that needs it checks
that every unit is there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from orders import services
from orders.models import (
    Fulfillment,
    FulfillmentLine,
    Method,
    Order,
    ReceivingDiscrepancy,
    State,
)
from orders.services import OrderError
from retail.models import Store, User

TRACKING_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{2,63}$")
OUTGOING_STATES = (State.RESERVED, State.PICKING, State.PACKED, State.SHIPPED)


class ShippingError(OrderError):
    status, code = 400, "shipping_refused"


class WrongItem(ShippingError):
    pass


def _lines_prefetch() -> Prefetch:
    return Prefetch(
        "lines",
        queryset=FulfillmentLine.objects.select_related("order_line__variant__product").order_by(
            "pk"
        ),
    )


def _base() -> QuerySet[Fulfillment]:
    return Fulfillment.objects.select_related(
        "order", "location", "pickup_store", "order__customer"
    ).prefetch_related(_lines_prefetch())


def store_fulfillments(store: Store) -> QuerySet[Fulfillment]:
    """The shipping work a store may see: what leaves its shelf (ship-from-store, and
    ship-to-store for another store) and ship-to-store parcels coming to it."""
    received_short = Exists(
        ReceivingDiscrepancy.objects.filter(fulfillment=OuterRef("pk"), store=store)
    )
    return _base().filter(
        Q(location__store=store, method__in=(Method.SHIP_FROM_STORE, Method.SHIP_TO_STORE))
        | Q(pickup_store=store, method=Method.SHIP_TO_STORE, state=State.IN_TRANSIT)
        # A parcel of which nothing good arrived stays on record for the store.
        | Q(received_short, pickup_store=store, method=Method.SHIP_TO_STORE)
    )


def ship_queue(store: Store) -> dict[str, list[Fulfillment]]:
    """The store's shipping queue, oldest first, in a fixed number of queries."""
    rows = list(
        store_fulfillments(store)
        .filter(state__in=(*OUTGOING_STATES, State.IN_TRANSIT))
        .order_by("ready_by", "created_at", "pk")
    )
    queue: dict[str, list[Fulfillment]] = {
        "send": [],
        "pick": [],
        "ship": [],
        "delivery": [],
        "receive": [],
    }
    for f in rows:
        if f.method == Method.SHIP_TO_STORE:
            if f.state == State.IN_TRANSIT and f.pickup_store_id == store.pk:
                queue["receive"].append(f)
            elif f.state == State.RESERVED and f.location.store_id == store.pk:
                queue["send"].append(f)
        elif f.state in (State.RESERVED, State.PICKING):
            queue["pick"].append(f)
        elif f.state == State.PACKED:
            queue["ship"].append(f)
        elif f.state == State.SHIPPED:
            queue["delivery"].append(f)
    return queue


# --- Scanning --------------------------------------------------------------------------


@dataclass
class ScanResult:
    line: FulfillmentLine
    counted: bool  # False: this line already had every unit


def _matches(line: FulfillmentLine, code: str) -> bool:
    variant = line.order_line.variant
    return code == variant.barcode or code.casefold() == variant.sku.casefold()


def scan(fulfillment: Fulfillment, scanned: dict[str, int], code: str) -> ScanResult:
    """Count one unit of `code` (a barcode or a SKU) against the fulfilment's lines,
    in `scanned` ({line id: units}). A product not in it is refused, naming what is
    expected; a unit beyond a line's quantity is not counted."""
    code = (code or "").strip()
    if not code:
        raise WrongItem(_("Scan or type a barcode or a SKU."))
    lines = list(fulfillment.lines.all())
    matching = [line for line in lines if _matches(line, code)]
    if not matching:
        expected = ", ".join(
            f"{line.order_line.sku} ({line.order_line.variant.barcode})"
            for line in lines
            if scanned.get(str(line.pk), 0) < line.quantity
        )
        raise WrongItem(
            _("%(code)s is not in this order. Expected: %(expected)s.")
            % {"code": code[:40], "expected": expected or _("nothing more")}
        )
    for line in matching:
        if scanned.get(str(line.pk), 0) < line.quantity:
            scanned[str(line.pk)] = scanned.get(str(line.pk), 0) + 1
            return ScanResult(line, True)
    return ScanResult(matching[0], False)


def missing_units(fulfillment: Fulfillment, scanned: dict[str, int]) -> int:
    return sum(
        max(0, line.quantity - scanned.get(str(line.pk), 0)) for line in fulfillment.lines.all()
    )


def _require_all_scanned(fulfillment: Fulfillment, scanned: dict[str, int]) -> None:
    missing = missing_units(fulfillment, scanned)
    if missing:
        raise ShippingError(
            _("%(n)s unit(s) not scanned yet: scan every unit first.") % {"n": missing}
        )


def _locked(fulfillment: Fulfillment) -> Fulfillment:
    Order.objects.select_for_update(of=("self",)).get(pk=fulfillment.order_id)
    return _base().get(pk=fulfillment.pk)


def _expect(fulfillment: Fulfillment, method: str, *states: str) -> None:
    if fulfillment.method != method or fulfillment.state not in states:
        raise ShippingError(
            _("This %(method)s is %(state)s: it cannot do that now.")
            % {
                "method": fulfillment.get_method_display(),
                "state": fulfillment.get_state_display(),
            }
        )


# --- Ship-to-store ---------------------------------------------------------------------


@transaction.atomic
def transfer_send(*, fulfillment: Fulfillment, by: User | None) -> Fulfillment:
    """The source location sent the units: `in_transit`. Sending twice sends once."""
    fulfillment = _locked(fulfillment)
    if fulfillment.state == State.IN_TRANSIT:
        return fulfillment
    _expect(fulfillment, Method.SHIP_TO_STORE, State.RESERVED)
    return services.fulfillment_transition(
        fulfillment=fulfillment,
        to=State.IN_TRANSIT,
        by=by,
        reason=_("sent from %(code)s") % {"code": fulfillment.location.code},
    )


@dataclass(frozen=True)
class LineReceipt:
    """What arrived of one fulfilment line: in good condition, short (never arrived),
    damaged. The three add up to what was sent."""

    good: int
    short: int = 0
    damaged: int = 0

    @property
    def missing(self) -> int:
        return self.short + self.damaged


RECEIPT_FIELDS = ("good", "short", "damaged")


def _whole(value, sku: str, label: str) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ShippingError(
            _("%(what)s of %(sku)s must be a whole number.") % {"what": label, "sku": sku}
        ) from None
    if number < 0:
        raise ShippingError(
            _("%(what)s of %(sku)s cannot be below zero.") % {"what": label, "sku": sku}
        )
    return number


def receipt_from_form(fulfillment: Fulfillment, data) -> dict[int, LineReceipt]:
    """Read the receiving form (`good-<line>`, `short-<line>`, `damaged-<line>`): a
    line left out is all good; a blank good count is what short and damaged leave."""
    labels = {"good": _("Good"), "short": _("Short"), "damaged": _("Damaged")}
    receipt = {}
    for line in fulfillment.lines.all():
        sku = line.order_line.sku
        values = {f: _whole(data.get(f"{f}-{line.pk}"), sku, labels[f]) for f in RECEIPT_FIELDS}
        short, damaged = values["short"] or 0, values["damaged"] or 0
        good = values["good"] if values["good"] is not None else line.quantity - short - damaged
        receipt[line.pk] = LineReceipt(good=good, short=short, damaged=damaged)
    return receipt


def _check_receipt(
    fulfillment: Fulfillment, receipt: dict[int, LineReceipt] | None
) -> dict[int, LineReceipt]:
    lines = list(fulfillment.lines.all())
    receipt = dict(receipt or {})
    for line in lines:
        r = receipt.setdefault(line.pk, LineReceipt(good=line.quantity))
        sku = line.order_line.sku
        if min(r.short, r.damaged) < 0:
            raise ShippingError(_("A count of %(sku)s cannot be below zero.") % {"sku": sku})
        if max(r.good, r.short + r.damaged) > line.quantity:
            raise ShippingError(
                _("%(n)s × %(sku)s were sent: no count can be more than that.")
                % {"n": line.quantity, "sku": sku}
            )
        if r.good < 0 or r.good + r.short + r.damaged != line.quantity:
            raise ShippingError(
                _(
                    "%(sku)s: good (%(good)s), short (%(short)s) and damaged (%(damaged)s) "
                    "must add up to the %(n)s sent."
                )
                % {
                    "sku": sku,
                    "good": r.good,
                    "short": r.short,
                    "damaged": r.damaged,
                    "n": line.quantity,
                }
            )
    unknown = set(receipt) - {line.pk for line in lines}
    if unknown:
        raise ShippingError(_("That line is not in this parcel."))
    return receipt


def _require_good_scanned(
    fulfillment: Fulfillment, scanned: dict[str, int], receipt: dict[int, LineReceipt]
) -> None:
    missing = sum(
        max(0, receipt[line.pk].good - scanned.get(str(line.pk), 0))
        for line in fulfillment.lines.all()
    )
    if missing:
        raise ShippingError(
            _(
                "%(n)s unit(s) not scanned yet: scan every unit received in good condition, "
                "or record it short or damaged."
            )
            % {"n": missing}
        )


@transaction.atomic
def transfer_receive(
    *,
    fulfillment: Fulfillment,
    store: Store,
    scanned: dict[str, int],
    by: User | None,
    receipt: dict[int, LineReceipt] | None = None,
    note: str = "",
) -> Fulfillment:
    """The pickup store received the parcel: `received` (the good units reserved on its
    shelf), then `picking`, where its pickup queue takes over. Every unit taken in as
    good must have been scanned. Units short or damaged (`receipt`, per line; by
    default all good) are recorded as a `ReceivingDiscrepancy` and an order event;
    damaged units go through the ledger into the store's hold (never sellable), short
    ones are written off there from the transfer, and the order's missing units are
    re-sourced or cancelled with a refund by the shortage rules. Refused input writes
    nothing. Receiving twice receives once."""
    fulfillment = _locked(fulfillment)
    if fulfillment.pickup_store_id != store.pk:
        raise ShippingError(_("This parcel is for another store."))
    if fulfillment.method == Method.SHIP_TO_STORE and (
        fulfillment.state in (State.RECEIVED, State.PICKING, State.READY, State.COLLECTED)
        or fulfillment.receiving_discrepancies.exists()
    ):
        return fulfillment
    _expect(fulfillment, Method.SHIP_TO_STORE, State.IN_TRANSIT)
    receipt = _check_receipt(fulfillment, receipt)
    _require_good_scanned(fulfillment, scanned, receipt)
    note = " ".join((note or "").split())
    if len(note) > 200:
        raise ShippingError(_("A note is at most 200 characters."))
    reason = _("received at %(code)s") % {"code": store.code}
    if not any(r.missing for r in receipt.values()):
        fulfillment = services.fulfillment_transition(
            fulfillment=fulfillment, to=State.RECEIVED, by=by, reason=reason
        )
        return services.fulfillment_transition(
            fulfillment=fulfillment, to=State.PICKING, by=by, reason=_("to the pickup queue")
        )
    return _receive_with_discrepancy(fulfillment, store, receipt, by, note)


def _receive_with_discrepancy(
    fulfillment: Fulfillment,
    store: Store,
    receipt: dict[int, LineReceipt],
    by: User | None,
    note: str,
) -> Fulfillment:
    from inventory import services as stock
    from inventory.services import StockRequest

    order = fulfillment.order
    source = fulfillment.location
    hold = stock.hold_location_for(store.stock_location)
    words = {"code": source.code, "ref": order.order_ref, "store": store.code}
    damaged_why = _("damaged on arrival at %(store)s from %(code)s, order %(ref)s") % words
    short_in = _("short on arrival at %(store)s from %(code)s, order %(ref)s") % words
    short_off = _("written off: never arrived at %(store)s from %(code)s, order %(ref)s") % words
    found, missing_lines = [], []
    for line in list(fulfillment.lines.all()):
        r = receipt[line.pk]
        if not r.missing:
            continue
        order_line, variant = line.order_line, line.order_line.variant
        if r.damaged:
            stock.stock_transfer_in(
                requests=[StockRequest(hold.pk, variant.pk, r.damaged, order_line.ref)],
                by=by,
                reserve=False,
                reason=damaged_why,
            )
        if r.short:
            # The units left the source (transfer out) and never came: in and written
            # off at the hold, so what left equals what arrived plus what was lost.
            stock.stock_transfer_in(
                requests=[StockRequest(hold.pk, variant.pk, r.short, order_line.ref)],
                by=by,
                reserve=False,
                reason=short_in,
            )
            stock.stock_adjust(
                location=hold, variant=variant, delta=-r.short, by=by, reason=short_off
            )
        discrepancy = ReceivingDiscrepancy.objects.create(
            order=order,
            fulfillment=fulfillment,
            order_line=order_line,
            store=store,
            from_location=source,
            sent=line.quantity,
            good=r.good,
            short=r.short,
            damaged=r.damaged,
            note=note,
            by=by if by is not None and by.is_authenticated else None,
        )
        missing_lines.append((discrepancy, order_line, r.missing))
        parts = []
        if r.short:
            parts.append(_("%(n)s × %(sku)s short") % {"n": r.short, "sku": order_line.sku})
        if r.damaged:
            parts.append(_("%(n)s × %(sku)s damaged") % {"n": r.damaged, "sku": order_line.sku})
        found.extend(parts)
        if r.good:
            line.quantity = r.good
            line.save(update_fields=["quantity"])
        else:
            line.delete()
    why = _("received at %(store)s from %(code)s: %(found)s") % {**words, "found": ", ".join(found)}
    replace_why = _("replaces units received short or damaged at %(store)s: %(found)s") % {
        **words,
        "found": ", ".join(found),
    }
    if note:
        why = f"{why} ({note})"
    services.record_order_event(
        order=order,
        fulfillment=fulfillment,
        kind="receiving_discrepancy",
        by=by,
        store=store,
        reason=why,
    )
    # Not `fulfillment.lines`: its prefetched rows still hold the deleted lines.
    if FulfillmentLine.objects.filter(fulfillment=fulfillment).exists():
        fulfillment = services.fulfillment_transition(
            fulfillment=fulfillment,
            to=State.RECEIVED,
            by=by,
            reason=_("received at %(code)s") % {"code": store.code},
        )
    else:
        services.fulfillment_end_empty(fulfillment=fulfillment, by=by, reason=why)
    for discrepancy, order_line, missing in missing_lines:
        resourced = services.units_resource(
            order=order, old=fulfillment, line=order_line, quantity=missing, by=by, why=replace_why
        )
        discrepancy.resourced = resourced
        discrepancy.cancelled = missing - resourced
        discrepancy.save(update_fields=["resourced", "cancelled"])
    if fulfillment.state == State.RECEIVED:
        fulfillment = services.fulfillment_transition(
            fulfillment=fulfillment, to=State.PICKING, by=by, reason=_("to the pickup queue")
        )
    return _base().get(pk=fulfillment.pk)


# --- Ship-from-store -------------------------------------------------------------------


@transaction.atomic
def parcel_start_picking(*, fulfillment: Fulfillment, by: User | None) -> Fulfillment:
    fulfillment = _locked(fulfillment)
    if fulfillment.state == State.PICKING:
        return fulfillment
    _expect(fulfillment, Method.SHIP_FROM_STORE, State.RESERVED)
    return services.fulfillment_transition(fulfillment=fulfillment, to=State.PICKING, by=by)


@transaction.atomic
def parcel_pack(
    *, fulfillment: Fulfillment, scanned: dict[str, int], by: User | None
) -> Fulfillment:
    """Every unit was scanned into the parcel: `packed`. Packing twice packs once."""
    fulfillment = _locked(fulfillment)
    if fulfillment.method == Method.SHIP_FROM_STORE and fulfillment.state == State.PACKED:
        return fulfillment
    _expect(fulfillment, Method.SHIP_FROM_STORE, State.RESERVED, State.PICKING)
    _require_all_scanned(fulfillment, scanned)
    if fulfillment.state == State.RESERVED:
        fulfillment = services.fulfillment_transition(
            fulfillment=fulfillment, to=State.PICKING, by=by
        )
    return services.fulfillment_transition(fulfillment=fulfillment, to=State.PACKED, by=by)


def clean_tracking_ref(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ShippingError(_("Type the carrier's tracking reference before shipping."))
    if not TRACKING_RE.match(value):
        raise ShippingError(
            _(
                "A tracking reference is 3 to 64 letters, digits, spaces or . _ / - "
                "and starts with a letter or a digit."
            )
        )
    return value


@transaction.atomic
def parcel_ship(*, fulfillment: Fulfillment, tracking_ref: str, by: User | None) -> Fulfillment:
    """The carrier took the parcel: `shipped` with its tracking reference; the units
    leave the store's ledger. The same request again changes nothing; another
    reference for a parcel already shipped is refused."""
    tracking_ref = clean_tracking_ref(tracking_ref)
    fulfillment = _locked(fulfillment)
    if fulfillment.method == Method.SHIP_FROM_STORE and fulfillment.state in (
        State.SHIPPED,
        State.DELIVERED,
    ):
        if fulfillment.tracking_ref == tracking_ref:
            return fulfillment
        raise ShippingError(
            _("This parcel was already shipped with tracking reference %(ref)s.")
            % {"ref": fulfillment.tracking_ref}
        )
    _expect(fulfillment, Method.SHIP_FROM_STORE, State.PACKED)
    Fulfillment.objects.filter(pk=fulfillment.pk).update(tracking_ref=tracking_ref)
    fulfillment.tracking_ref = tracking_ref
    return services.fulfillment_transition(
        fulfillment=fulfillment,
        to=State.SHIPPED,
        by=by,
        reason=_("tracking %(ref)s") % {"ref": tracking_ref},
    )


@transaction.atomic
def parcel_delivered(*, fulfillment: Fulfillment, by: User | None) -> Fulfillment:
    """The carrier reports the parcel delivered: `delivered` (the end)."""
    fulfillment = _locked(fulfillment)
    if fulfillment.state == State.DELIVERED:
        return fulfillment
    _expect(fulfillment, Method.SHIP_FROM_STORE, State.SHIPPED)
    return services.fulfillment_transition(fulfillment=fulfillment, to=State.DELIVERED, by=by)


def discrepancies_of(*, order: Order | None = None, fulfillment: Fulfillment | None = None):
    """What was found short or damaged on receiving, for one order or one parcel (one
    query), oldest first."""
    rows = ReceivingDiscrepancy.objects.select_related("order_line", "by", "store")
    if order is not None:
        rows = rows.filter(order=order)
    if fulfillment is not None:
        rows = rows.filter(fulfillment=fulfillment)
    return list(rows.order_by("at", "pk"))


def location_pick_lists(locations) -> list[tuple]:
    """Ship-to-store pick lists of locations without a tablet (distribution centres,
    suppliers): [(location, [fulfilment, ...])], oldest first, in fixed queries."""
    rows = list(
        _base()
        .filter(
            method=Method.SHIP_TO_STORE,
            state=State.RESERVED,
            location__in=locations,
            location__store__isnull=True,
        )
        .order_by("location__code", "ready_by", "created_at", "pk")
    )
    grouped: dict[int, tuple] = {}
    for f in rows:
        grouped.setdefault(f.location_id, (f.location, []))[1].append(f)
    return list(grouped.values())
