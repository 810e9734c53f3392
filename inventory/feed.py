"""Stock from the retailer's systems: receipts, adjustments and counts for many SKUs at
one location, applied through the ledger in one all-or-nothing call.

`stock_movement_apply` serves the API's `POST /api/v1/stock/movements/` and every batch
of HQ's stock import. Its rules are the ledger's:

- **receipt** adds units, **adjustment** adds or removes them (never below zero on hand),
  **count** sets on hand to what was counted.
- Taking on hand below what is reserved (a count, a negative adjustment) first releases
  the most recent reservations through the shortage handler, so their orders are
  re-sourced, exactly as a count on the tablet does.
- A count that finds what Aisle already holds writes no ledger row: a nightly feed of
  200,000 lines that mostly agree leaves the ledger as it was.
- The `movement_ref` makes a resend harmless: the same ref with the same body answers
  the first result and writes nothing; with another body it is refused
  (`MovementRefConflict`).
- With `dry_run` everything is done and rolled back, so the changes returned are what
  an apply would write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.locks import stock_levels_at_for_update
from inventory.models import (
    MovementKind,
    StockFeed,
    StockFeedKind,
    StockLevel,
    StockLocation,
    StockMovement,
)
from inventory.services import _resolve_shortage
from retail.bulk import bulk_set
from retail.models import AuditLog, Variant

MAX_LINES = 5000
REF_MAX = 64
QUANTITY_MAX = 10_000_000
CHUNK = 5000
_LEDGER_KIND = {
    StockFeedKind.RECEIPT: MovementKind.RECEIPT,
    StockFeedKind.ADJUSTMENT: MovementKind.ADJUSTMENT,
    StockFeedKind.COUNT: MovementKind.COUNT,
}


@dataclass
class MovementLine:
    sku: str
    quantity: int


@dataclass
class FeedResult:
    movement_ref: str
    applied: int
    created: bool
    changes: list[tuple[int, str, int, int]] = field(default_factory=list)


class FeedRefused(Exception):
    """Nothing was written. `errors`: `{"location": [...]}`, `{"kind": [...]}`,
    `{"lines": [...]}` or, per line, `{"<index>": {"sku"|"quantity": [...]}}`."""

    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__(_("The stock movement was not applied."))


class MovementRefConflict(Exception):
    """The movement reference was used before with another body."""


def body_hash(*, location: str, kind: str, lines: Sequence[MovementLine], reason: str) -> str:
    body = {
        "location": location,
        "kind": kind,
        "lines": [[line.sku, line.quantity] for line in lines],
        "reason": reason,
    }
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


def stock_movement_apply(
    *,
    movement_ref: str,
    location: str,
    kind: str,
    lines: Sequence[MovementLine],
    reason: str = "",
    by=None,
    api_client=None,
    dry_run: bool = False,
) -> FeedResult:
    """Apply one movement of many lines at one location (see the module's rules)."""
    reason = " ".join((reason or "").split())[:200]
    digest = body_hash(location=location, kind=kind, lines=lines, reason=reason)
    known = _known(movement_ref, digest)
    if known is not None:
        return known
    try:
        return _apply_once(
            movement_ref, location, kind, lines, reason, digest, by, api_client, dry_run
        )
    except IntegrityError:
        # The same reference sent twice at once: the first one's row now exists.
        known = _known(movement_ref, digest)
        if known is None:
            raise
        return known


def _known(movement_ref: str, digest: str) -> FeedResult | None:
    feed = StockFeed.objects.filter(movement_ref=movement_ref).first()
    if feed is None:
        return None
    if feed.body_hash != digest:
        raise MovementRefConflict(
            _("The movement %(ref)s was sent before with other lines.") % {"ref": movement_ref}
        )
    return FeedResult(movement_ref=movement_ref, applied=feed.lines, created=False)


class _DryRun(Exception):
    pass


def _apply_once(movement_ref, location, kind, lines, reason, digest, by, api_client, dry_run):
    result = None
    try:
        with transaction.atomic():
            result = _write(movement_ref, location, kind, lines, reason, digest, by, api_client)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _check(movement_ref, location, kind, lines):
    """The location, and the variants by SKU; `FeedRefused` with every error."""
    errors: dict = {}
    if not movement_ref or len(movement_ref) > REF_MAX:
        errors["movement_ref"] = [_("A movement reference is 1 to 64 characters.")]
    if kind not in StockFeedKind.values:
        errors["kind"] = [
            _("The kind is one of: %(kinds)s.") % {"kinds": ", ".join(StockFeedKind.values)}
        ]
    if not 1 <= len(lines) <= MAX_LINES:
        errors["lines"] = [_("Send 1 to %(n)s lines.") % {"n": MAX_LINES}]
    place = StockLocation.objects.filter(code=location).first()
    if place is None:
        errors["location"] = [
            _("There is no stock location with the code %(code)s.") % {"code": location}
        ]
    if errors:
        raise FeedRefused(errors)
    variants: dict[str, Variant] = {}
    skus = sorted({line.sku for line in lines})
    for start in range(0, len(skus), CHUNK):
        for variant in Variant.objects.filter(sku__in=skus[start : start + CHUNK]).only(
            "pk", "sku"
        ):
            variants[variant.sku] = variant
    seen: set[str] = set()
    for index, line in enumerate(lines):
        found = {}
        if line.sku not in variants:
            found["sku"] = [_("There is no SKU %(sku)s.") % {"sku": line.sku}]
        elif line.sku in seen:
            found["sku"] = [
                _("The SKU %(sku)s is given twice in this movement.") % {"sku": line.sku}
            ]
        seen.add(line.sku)
        message = _quantity_problem(kind, line.quantity)
        if message:
            found["quantity"] = [message]
        if found:
            errors[str(index)] = found
    if errors:
        raise FeedRefused(errors)
    return place, variants


def _quantity_problem(kind: str, quantity) -> str:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        return _("A quantity is a whole number.")
    if abs(quantity) > QUANTITY_MAX:
        return _("A quantity is at most %(n)s.") % {"n": f"{QUANTITY_MAX:,}"}
    if kind == StockFeedKind.COUNT and quantity < 0:
        return _("A count is a whole number, zero or more.")
    if kind == StockFeedKind.RECEIPT and quantity <= 0:
        return _("A receipt adds a whole number of units above zero.")
    if kind == StockFeedKind.ADJUSTMENT and quantity == 0:
        return _("An adjustment changes the quantity by a whole number other than zero.")
    return ""


REPLENISHED_PER_EVENT = 1000


def _record_replenished_many(place: StockLocation, levels: list[StockLevel]) -> None:
    """`stock_replenished` for the SKUs a feed made available again at one location, a
    thousand SKUs per event (a first load of 200,000 lines is 200 events, not 200,000
    tasks); receivers read `variant_ids` (a single move's event has `variant_id`)."""
    from retail import outbox

    for start in range(0, len(levels), REPLENISHED_PER_EVENT):
        chunk = levels[start : start + REPLENISHED_PER_EVENT]
        outbox.record_event(
            "stock_replenished",
            payload={
                "location": place.code,
                "location_id": place.pk,
                "variant_ids": [level.variant_id for level in chunk],
                "skus": [level.variant.sku for level in chunk],
            },
        )


def _write(movement_ref, location, kind, lines, reason, digest, by, api_client) -> FeedResult:
    place, variants = _check(movement_ref, location, kind, lines)
    who = by if by is not None and getattr(by, "is_authenticated", False) else None
    levels = stock_levels_at_for_update(place.pk, (v.pk for v in variants.values()))
    why = (
        reason
        or {
            StockFeedKind.RECEIPT: _("receipt from the stock feed"),
            StockFeedKind.ADJUSTMENT: _("adjustment from the stock feed"),
            StockFeedKind.COUNT: _("count from the stock feed"),
        }[kind]
    )
    targets: list[tuple[int, MovementLine, StockLevel, int]] = []
    errors: dict = {}
    for index, line in enumerate(lines):
        level = levels[variants[line.sku].pk]
        after = line.quantity if kind == StockFeedKind.COUNT else level.on_hand + line.quantity
        if after < 0:
            errors[str(index)] = {
                "quantity": [
                    _("Only %(n)s on hand: cannot take away %(delta)s.")
                    % {"n": level.on_hand, "delta": -line.quantity}
                ]
            }
        targets.append((index, line, level, after))
    if errors:
        raise FeedRefused(errors)
    source = f"feed:{movement_ref}"[:64]
    changes, movements, touched, replenished = [], [], [], []
    now = timezone.now()
    for index, line, level, after in targets:
        before = level.on_hand
        if after == before:
            continue
        if after < level.reserved:
            _resolve_shortage(level, after, who, why)
        was_available = level.available
        level.on_hand = after
        level.updated_at = now
        touched.append(level)
        movements.append(
            StockMovement(
                at=now,
                kind=_LEDGER_KIND[kind],
                location_id=place.pk,
                variant_id=level.variant_id,
                quantity=line.quantity if kind == StockFeedKind.COUNT else abs(line.quantity),
                on_hand_delta=after - before,
                by=who,
                reason=why,
                source=source,
            )
        )
        changes.append((index, line.sku, before, after))
        if was_available == 0 and level.available > 0:
            replenished.append(level)
    bulk_set(touched, ["on_hand", "updated_at"])
    StockMovement.objects.bulk_create(movements, batch_size=CHUNK)
    _record_replenished_many(place, replenished)
    feed = StockFeed.objects.create(
        movement_ref=movement_ref,
        location=place,
        kind=kind,
        body_hash=digest,
        lines=len(lines),
        changed=len(changes),
        reason=reason,
        api_client=api_client,
        by=who,
    )
    detail = {"movement_ref": movement_ref, "kind": kind, "location": place.code}
    detail.update(lines=len(lines), changed=len(changes))
    if api_client is not None:
        detail["api_client"] = api_client.pk
    AuditLog.objects.create(
        actor=who,
        action="stock.feed",
        target_type=StockFeed._meta.label_lower,
        target_id=str(feed.pk),
        detail=detail,
    )
    return FeedResult(movement_ref=movement_ref, applied=len(lines), created=True, changes=changes)
