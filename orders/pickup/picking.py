"""Pick by scan, short lines (re-sourced or cancelled), and marking ready with the
"ready for pickup" message sent once through the outbox."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import StockLevel
from orders import services
from orders.models import Fulfillment, FulfillmentLine, OrderEvent, Refund, State
from orders.pickup.base import (
    SCAN_MAX,
    LinesUnpicked,
    NotHere,
    PickupError,
    WrongItem,
    _at_store,
    _local,
    _locked,
    _log,
    _pickable,
    _start_picking,
    _transition,
    clean,
)
from orders.pickup.codes import _new_code, qr_payload, qr_png
from retail import catalogue, outbox
from retail.messaging import message_send
from retail.models import Store, User, Variant

# --- Pick -------------------------------------------------------------------------------


@dataclass
class ScanOutcome:
    line: FulfillmentLine
    counted: bool
    message: str


def _expected(lines) -> str:
    open_lines = [line for line in lines if line.picked_quantity < line.quantity] or list(lines)
    return ", ".join(
        f"{line.order_line.sku} ({catalogue.product_name(line.order_line.variant.product)})"
        for line in open_lines
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
                % {
                    "found": f"{other.sku} ({catalogue.product_name(other.product)})",
                    "expected": _expected(lines),
                }
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
                "product": catalogue.product_name(
                    order_line.variant.product, order.customer.language or None
                ),
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
        "orders.pickup.picking.pickup_ready_notify",
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
