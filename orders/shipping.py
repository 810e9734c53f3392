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
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from orders import services
from orders.models import Fulfillment, FulfillmentLine, Method, Order, State
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
    return _base().filter(
        Q(location__store=store, method__in=(Method.SHIP_FROM_STORE, Method.SHIP_TO_STORE))
        | Q(pickup_store=store, method=Method.SHIP_TO_STORE, state=State.IN_TRANSIT)
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


@transaction.atomic
def transfer_receive(
    *, fulfillment: Fulfillment, store: Store, scanned: dict[str, int], by: User | None
) -> Fulfillment:
    """The pickup store scanned every unit in: `received` (reserved on its shelf),
    then `picking`, where its pickup queue takes over. Receiving twice receives once."""
    fulfillment = _locked(fulfillment)
    if fulfillment.pickup_store_id != store.pk:
        raise ShippingError(_("This parcel is for another store."))
    if fulfillment.method == Method.SHIP_TO_STORE and fulfillment.state in (
        State.RECEIVED,
        State.PICKING,
        State.READY,
        State.COLLECTED,
    ):
        return fulfillment
    _expect(fulfillment, Method.SHIP_TO_STORE, State.IN_TRANSIT)
    _require_all_scanned(fulfillment, scanned)
    reason = _("received at %(code)s") % {"code": store.code}
    fulfillment = services.fulfillment_transition(
        fulfillment=fulfillment, to=State.RECEIVED, by=by, reason=reason
    )
    return services.fulfillment_transition(
        fulfillment=fulfillment, to=State.PICKING, by=by, reason=_("to the pickup queue")
    )


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
