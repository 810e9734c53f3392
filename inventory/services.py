"""Stock services: the only code that changes stock figures.

Each function locks the affected stock rows (`inventory.locks`), checks inside
the lock, changes the figures and writes one ledger row per change, all in one
transaction. Nothing slow runs while the lock is held: side effects (the
`stock_replenished` domain event) go through the outbox and leave after commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.locks import Key, stock_levels_at_for_update, stock_levels_for_update
from inventory.models import (
    LocationKind,
    MovementKind,
    StockLevel,
    StockLocation,
    StockMovement,
    Transfer,
    TransferLine,
    TransferState,
)
from retail.models import User, Variant


class StockError(Exception):
    """A stock operation was refused; nothing changed."""


class InsufficientStock(StockError):
    def __init__(self, skus: Sequence[str]):
        self.skus = sorted(set(skus))
        super().__init__(_("Not enough stock for: %(skus)s") % {"skus": ", ".join(self.skus)})


@dataclass(frozen=True)
class StockRequest:
    """A quantity of one SKU at one location, for one source record."""

    location_id: int
    variant_id: int
    quantity: int
    source: str = ""


# --- The shortage handler (plugged in by `orders`) -----------------------------

ShortageHandler = Callable[..., None]
_shortage_handlers: list[ShortageHandler] = []


def register_shortage_handler(handler: ShortageHandler) -> None:
    """`orders` registers a handler that releases and re-sources reservations when a
    physical fact (a till sale, a count) leaves fewer units on hand than reserved.
    It is called inside the same transaction, before the stock moves, as
    ``handler(level=..., shortfall=..., by=..., reason=...)``."""
    if handler not in _shortage_handlers:
        _shortage_handlers.append(handler)


def _resolve_shortage(level: StockLevel, new_on_hand: int, by: User | None, reason: str) -> None:
    shortfall = level.reserved - new_on_hand
    if shortfall <= 0:
        return
    for handler in _shortage_handlers:
        handler(level=level, shortfall=shortfall, by=by, reason=reason)
        level.refresh_from_db(fields=["on_hand", "reserved", "safety_stock"])
        shortfall = level.reserved - new_on_hand
        if shortfall <= 0:
            return
    # No handler freed the units: release what remains reserved, unattributed.
    _apply(
        level,
        kind=MovementKind.RELEASE,
        quantity=shortfall,
        reserved_delta=-shortfall,
        by=by,
        reason=reason,
        source="shortage",
    )


# --- Applying a change -------------------------------------------------------


def _apply(
    level: StockLevel,
    *,
    kind: str,
    quantity: int,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    by: User | None,
    reason: str,
    source: str,
) -> StockMovement:
    """Change a locked stock row and write its ledger row; records `stock_replenished`
    when the SKU becomes available again at that location."""
    was_available = level.available
    level.on_hand += on_hand_delta
    level.reserved += reserved_delta
    level.save(update_fields=["on_hand", "reserved", "updated_at"])
    movement = StockMovement.objects.create(
        kind=kind,
        location_id=level.location_id,
        variant_id=level.variant_id,
        quantity=quantity,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        by=by if by is not None and by.is_authenticated else None,
        reason=reason[:200],
        source=source[:64],
    )
    if was_available == 0 and level.available > 0:
        _record_replenished(level)
    return movement


def _apply_each(
    levels: dict,
    requests: Sequence[StockRequest],
    *,
    kind: str,
    on_hand: int = 0,
    reserved: int = 0,
    by: User | None,
    reason: str,
) -> list[StockMovement]:
    """`_apply` for each request on its locked row; `on_hand` and `reserved` say which
    way each moves by the request's quantity (1 in, -1 out, 0 unchanged)."""
    return [
        _apply(
            levels[(r.location_id, r.variant_id)],
            kind=kind,
            quantity=r.quantity,
            on_hand_delta=on_hand * r.quantity,
            reserved_delta=reserved * r.quantity,
            by=by,
            reason=reason,
            source=r.source,
        )
        for r in requests
    ]


def _record_replenished(level: StockLevel) -> None:
    from retail import outbox

    outbox.record_event(
        "stock_replenished",
        payload={
            "location": level.location.code,
            "location_id": level.location_id,
            "sku": level.variant.sku,
            "variant_id": level.variant_id,
            "available": level.available,
        },
    )


def _positive(quantity: int) -> None:
    if not isinstance(quantity, int) or quantity <= 0:
        raise StockError(_("A quantity must be a whole number above zero."))


# --- Services -------------------------------------------------------------------


@transaction.atomic
def stock_receive(
    *,
    location: StockLocation,
    variant: Variant,
    quantity: int,
    by: User | None,
    reason: str = "",
    source: str = "",
    kind: str = MovementKind.RECEIPT,
) -> StockMovement:
    """Goods arrive (a delivery, a return to stock): on hand goes up."""
    _positive(quantity)
    level = stock_levels_for_update([(location.pk, variant.pk)])[(location.pk, variant.pk)]
    return _apply(
        level,
        kind=kind,
        quantity=quantity,
        on_hand_delta=quantity,
        by=by,
        reason=reason,
        source=source,
    )


@transaction.atomic
def stock_adjust(
    *, location: StockLocation, variant: Variant, delta: int, by: User | None, reason: str
) -> StockMovement:
    """A correction with a reason (damage, found stock). Taking away more than is
    free of reservations first releases reservations through the shortage handler."""
    if not reason.strip():
        raise StockError(_("An adjustment needs a reason."))
    if not isinstance(delta, int) or delta == 0:
        raise StockError(_("An adjustment changes the quantity by a whole number other than zero."))
    level = stock_levels_for_update([(location.pk, variant.pk)])[(location.pk, variant.pk)]
    new_on_hand = level.on_hand + delta
    if new_on_hand < 0:
        raise StockError(
            _("Only %(n)s on hand: cannot take away %(delta)s.")
            % {"n": level.on_hand, "delta": -delta}
        )
    _resolve_shortage(level, new_on_hand, by, reason)
    return _apply(
        level,
        kind=MovementKind.ADJUSTMENT,
        quantity=abs(delta),
        on_hand_delta=delta,
        by=by,
        reason=reason,
        source="",
    )


@transaction.atomic
def stock_set_safety(*, location: StockLocation, variant: Variant, safety_stock: int) -> StockLevel:
    """Safety stock is a setting, not a movement: it changes no figure of the ledger."""
    if not isinstance(safety_stock, int) or safety_stock < 0:
        raise StockError(_("Safety stock is a whole number, zero or more."))
    level = stock_levels_for_update([(location.pk, variant.pk)])[(location.pk, variant.pk)]
    level.safety_stock = safety_stock
    level.save(update_fields=["safety_stock", "updated_at"])
    return level


@transaction.atomic
def stock_reserve(
    *, requests: Sequence[StockRequest], by: User | None, reason: str = ""
) -> list[StockMovement]:
    """Reserve every request or none: all rows are locked in pk order, availability
    (on hand − reserved − safety stock) is checked inside the lock, and a shortage
    anywhere raises `InsufficientStock` naming the short SKUs, reserving nothing."""
    for request in requests:
        _positive(request.quantity)
    levels = stock_levels_for_update((r.location_id, r.variant_id) for r in requests)
    wanted: dict[Key, int] = {}
    for r in requests:
        wanted[(r.location_id, r.variant_id)] = (
            wanted.get((r.location_id, r.variant_id), 0) + r.quantity
        )
    short = [levels[key].variant.sku for key, qty in wanted.items() if levels[key].available < qty]
    if short:
        raise InsufficientStock(short)
    return _apply_each(
        levels, requests, kind=MovementKind.RESERVATION, reserved=1, by=by, reason=reason
    )


@transaction.atomic
def stock_release(
    *, requests: Sequence[StockRequest], by: User | None, reason: str = ""
) -> list[StockMovement]:
    """Give reserved units back (a cancellation, an expiry, a re-sourcing)."""
    for request in requests:
        _positive(request.quantity)
    levels = stock_levels_for_update((r.location_id, r.variant_id) for r in requests)
    movements = []
    for r in requests:
        level = levels[(r.location_id, r.variant_id)]
        quantity = min(r.quantity, level.reserved)
        if quantity <= 0:
            continue
        movements.append(
            _apply(
                level,
                kind=MovementKind.RELEASE,
                quantity=quantity,
                reserved_delta=-quantity,
                by=by,
                reason=reason,
                source=r.source,
            )
        )
    return movements


@transaction.atomic
def stock_sell(
    *,
    requests: Sequence[StockRequest],
    by: User | None,
    from_reserved: bool,
    reason: str = "",
) -> list[StockMovement]:
    """Units leave with the customer. `from_reserved`: they were reserved for this
    sale (a hand-over); otherwise it is a till sale, a fact that is refused only
    when there are too few units on hand — units reserved for other orders are
    first released through the shortage handler, so the constraints always hold."""
    for request in requests:
        _positive(request.quantity)
    levels = stock_levels_for_update((r.location_id, r.variant_id) for r in requests)
    wanted: dict[Key, int] = {}
    for r in requests:
        wanted[(r.location_id, r.variant_id)] = (
            wanted.get((r.location_id, r.variant_id), 0) + r.quantity
        )
    if from_reserved:
        short = [levels[k].variant.sku for k, q in wanted.items() if levels[k].reserved < q]
    else:
        short = [levels[k].variant.sku for k, q in wanted.items() if levels[k].on_hand < q]
    if short:
        raise InsufficientStock(short)
    if not from_reserved:
        for key, qty in wanted.items():
            _resolve_shortage(levels[key], levels[key].on_hand - qty, by, reason or _("till sale"))
    return _apply_each(
        levels,
        requests,
        kind=MovementKind.SALE,
        on_hand=-1,
        reserved=-1 if from_reserved else 0,
        by=by,
        reason=reason,
    )


@transaction.atomic
def stock_transfer_out(
    *, requests: Sequence[StockRequest], by: User | None, from_reserved: bool, reason: str = ""
) -> list[StockMovement]:
    """Units leave a location for another one (they were reserved for the transfer
    when `from_reserved`)."""
    for request in requests:
        _positive(request.quantity)
    levels = stock_levels_for_update((r.location_id, r.variant_id) for r in requests)
    field = "reserved" if from_reserved else "on_hand"
    short = [
        levels[(r.location_id, r.variant_id)].variant.sku
        for r in requests
        if getattr(levels[(r.location_id, r.variant_id)], field) < r.quantity
        or (not from_reserved and levels[(r.location_id, r.variant_id)].available < r.quantity)
    ]
    if short:
        raise InsufficientStock(short)
    return _apply_each(
        levels,
        requests,
        kind=MovementKind.TRANSFER_OUT,
        on_hand=-1,
        reserved=-1 if from_reserved else 0,
        by=by,
        reason=reason,
    )


@transaction.atomic
def stock_transfer_in(
    *, requests: Sequence[StockRequest], by: User | None, reserve: bool, reason: str = ""
) -> list[StockMovement]:
    """Units arrive from another location; `reserve` keeps them for the order they
    were sent for (ship-to-store)."""
    for request in requests:
        _positive(request.quantity)
    levels = stock_levels_for_update((r.location_id, r.variant_id) for r in requests)
    return _apply_each(
        levels,
        requests,
        kind=MovementKind.TRANSFER_IN,
        on_hand=1,
        reserved=1 if reserve else 0,
        by=by,
        reason=reason,
    )


@transaction.atomic
def stock_count(
    *, location: StockLocation, variant: Variant, counted: int, by: User | None, source: str = ""
) -> StockMovement:
    """A count sets on hand to what was counted. When that leaves fewer units than are
    reserved, the most recent reservations are released and their orders re-sourced
    (through the shortage handler) before the count is written."""
    if not isinstance(counted, int) or counted < 0:
        raise StockError(_("A count is a whole number, zero or more."))
    level = stock_levels_for_update([(location.pk, variant.pk)])[(location.pk, variant.pk)]
    reason = _("stock count")
    _resolve_shortage(level, counted, by, reason)
    return _apply(
        level,
        kind=MovementKind.COUNT,
        quantity=counted,
        on_hand_delta=counted - level.on_hand,
        by=by,
        reason=reason,
        source=source,
    )


@transaction.atomic
def stock_safety_set_many(
    *, location: StockLocation, values: Mapping[int, int]
) -> dict[int, tuple[int, int]]:
    """Safety stock for many SKUs at one location at once (variant id -> units; a
    stock import's batch): a setting, not a movement. Returns what changed: variant id
    -> (old, new)."""
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values.values()):
        raise StockError(_("Safety stock is a whole number, zero or more."))
    levels = stock_levels_at_for_update(location.pk, values)
    now = timezone.now()
    changed: dict[int, tuple[int, int]] = {}
    touched = []
    for variant_id, level in levels.items():
        new = values[variant_id]
        if level.safety_stock != new:
            changed[variant_id] = (level.safety_stock, new)
            level.safety_stock, level.updated_at = new, now
            touched.append(level)
    StockLevel.objects.bulk_update(touched, ["safety_stock", "updated_at"], batch_size=5000)
    return changed


def level_of(location: StockLocation, variant: Variant) -> StockLevel | None:
    return StockLevel.objects.filter(location=location, variant=variant).first()


@transaction.atomic
def stock_bulk_receive(
    *,
    rows: Sequence[tuple[int, int, int, int]],
    by: User | None,
    reason: str,
    batch_size: int = 5000,
) -> int:
    """Opening stock for many (location_id, variant_id, quantity, safety_stock) rows at
    once, for demo data and first loads: each new stock row comes with its receipt in
    the ledger. Rows that already have stock are left alone, so it is safe to rerun.
    Returns how many stock rows were created."""
    rows = [r for r in rows if r[2] >= 0]
    existing: set[Key] = set()
    location_ids = {r[0] for r in rows}
    for loc in location_ids:
        existing.update(
            StockLevel.objects.filter(location_id=loc).values_list("location_id", "variant_id")
        )
    fresh = [r for r in rows if (r[0], r[1]) not in existing]
    now = timezone.now()
    for start in range(0, len(fresh), batch_size):
        chunk = fresh[start : start + batch_size]
        StockLevel.objects.bulk_create(
            [
                StockLevel(location_id=loc, variant_id=v, on_hand=q, safety_stock=s)
                for loc, v, q, s in chunk
            ],
            batch_size=batch_size,
        )
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    at=now,
                    kind=MovementKind.RECEIPT,
                    location_id=loc,
                    variant_id=v,
                    quantity=q,
                    on_hand_delta=q,
                    by=by,
                    reason=reason,
                    source="opening-stock",
                )
                for loc, v, q, _s in chunk
                if q > 0
            ],
            batch_size=batch_size,
        )
    return len(fresh)


# --- Transfers between locations ------------------------------------------------


@transaction.atomic
def transfer_create(
    *,
    from_location: StockLocation,
    to_location: StockLocation,
    lines: Mapping[Variant, int],
    by: User | None,
    reason: str = "",
) -> Transfer:
    """Request a transfer: the units are reserved at the source at once."""
    if from_location.pk == to_location.pk:
        raise StockError(_("A transfer goes between two different locations."))
    if not to_location.receives_transfers:
        raise StockError(
            _("%(location)s does not receive transfers.") % {"location": to_location.code}
        )
    if not lines:
        raise StockError(_("A transfer needs at least one line."))
    transfer = Transfer.objects.create(
        from_location=from_location, to_location=to_location, created_by=by, reason=reason
    )
    TransferLine.objects.bulk_create(
        [TransferLine(transfer=transfer, variant=v, quantity=q) for v, q in lines.items()]
    )
    stock_reserve(
        requests=[StockRequest(from_location.pk, v.pk, q, transfer.ref) for v, q in lines.items()],
        by=by,
        reason=reason or _("transfer"),
    )
    return transfer


def _transfer_requests(transfer: Transfer, location: StockLocation) -> list[StockRequest]:
    return [
        StockRequest(location.pk, line.variant_id, line.quantity, transfer.ref)
        for line in transfer.lines.all()
    ]


def _lock_transfer(transfer: Transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("from_location", "to_location")
        .get(pk=transfer.pk)
    )


def _transfer_step(transfer: Transfer, step: str, by: User | None) -> Transfer:
    """One step of a transfer's life (ship, receive or cancel), under its row lock:
    refused unless the transfer is in the state the step starts from, else the step's
    ledger rows are written and the transfer moves on (stamped with the time)."""
    transfer = _lock_transfer(transfer)
    source, destination = transfer.from_location, transfer.to_location
    if step == "ship":
        expected, to, stamp = TransferState.REQUESTED, TransferState.IN_TRANSIT, "shipped_at"
        refusal = _("Only a requested transfer can be shipped.")
    elif step == "receive":
        expected, to, stamp = TransferState.IN_TRANSIT, TransferState.RECEIVED, "received_at"
        refusal = _("Only a transfer in transit can be received.")
    else:
        expected, to, stamp = TransferState.REQUESTED, TransferState.CANCELLED, ""
        refusal = _("Only a requested transfer can be cancelled.")
    if transfer.state != expected:
        raise StockError(refusal)
    if step == "ship":
        stock_transfer_out(
            requests=_transfer_requests(transfer, source),
            by=by,
            from_reserved=True,
            reason=_("transfer to %(code)s") % {"code": destination.code},
        )
    elif step == "receive":
        stock_transfer_in(
            requests=_transfer_requests(transfer, destination),
            by=by,
            reserve=False,
            reason=_("transfer from %(code)s") % {"code": source.code},
        )
    else:
        stock_release(
            requests=_transfer_requests(transfer, source), by=by, reason=_("transfer cancelled")
        )
    transfer.state = to
    fields = ["state"]
    if stamp:
        setattr(transfer, stamp, timezone.now())
        fields.append(stamp)
    transfer.save(update_fields=fields)
    return transfer


@transaction.atomic
def transfer_ship(*, transfer: Transfer, by: User | None) -> Transfer:
    """The units leave the source (transfer out, from their reservation)."""
    return _transfer_step(transfer, "ship", by)


@transaction.atomic
def transfer_receive(*, transfer: Transfer, by: User | None) -> Transfer:
    """The units arrive at the destination (transfer in)."""
    return _transfer_step(transfer, "receive", by)


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, by: User | None) -> Transfer:
    """A requested transfer is called off: its reservation at the source is released."""
    return _transfer_step(transfer, "cancel", by)


# --- Returned units that cannot sell ------------------------------------------------------


def hold_location_for(location: StockLocation) -> StockLocation:
    """The returns hold of a store or DC: where returned units that cannot sell again
    (damaged, for the vendor, to donate) are counted through the ledger, apart from
    its sellable stock and never part of the network's (`inventory.network`)."""
    hold, _created = StockLocation.objects.get_or_create(
        code=f"{location.code[:11]}-HOLD",
        defaults={
            "name": _("%(location)s returns hold") % {"location": location.name},
            "kind": LocationKind.HOLD,
            "sellable_online": False,
            "ships_to_customers": False,
            "receives_transfers": False,
            "country": location.country,
            "postcode": location.postcode,
        },
    )
    return hold


# --- A store's own stock location ------------------------------------------------------


@transaction.atomic
def store_location_ensure(*, store) -> tuple[StockLocation, bool]:
    """A store's stock location (its code is the store's): created as the demo makes
    them (receives transfers, ships nothing to customers, sellable online), or kept in
    step with the store's name, address, coordinates and time zone. Returns (location,
    created); refuses a code another location already has."""
    location = StockLocation.objects.select_for_update().filter(store=store).first()
    fields = {
        "name": store.name,
        "postcode": store.postcode,
        "country": store.country,
        "latitude": store.latitude,
        "longitude": store.longitude,
        "time_zone": store.time_zone,
    }
    if location is None:
        if StockLocation.objects.filter(code=store.code).exists():
            raise StockError(
                _("The code %(code)s is already another stock location's.") % {"code": store.code}
            )
        location = StockLocation.objects.create(
            code=store.code,
            kind=LocationKind.STORE,
            store=store,
            receives_transfers=True,
            ships_to_customers=False,
            sellable_online=True,
            lead_time_days=0,
            **fields,
        )
        return location, True
    changed = [name for name, value in fields.items() if getattr(location, name) != value]
    if changed:
        for name in changed:
            setattr(location, name, fields[name])
        location.save(update_fields=changed)
    return location, False
