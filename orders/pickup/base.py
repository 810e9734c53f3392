"""What every part of the pickup journey shares: its constants, input cleaning,
refusals, and the locked, evented way a pickup changes."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from orders import services, webhooks
from orders.models import Fulfillment, Method, Order, OrderEvent, State
from retail.models import Store, User

PICKUP_METHODS = (Method.PICKUP, Method.SHIP_TO_STORE)
# A pickup in the store's hands: on its shelf (reserved pickup, received
# ship-to-store), being picked, or ready.
QUEUE_FILTER = Q(state__in=(State.RECEIVED, State.PICKING, State.READY)) | Q(
    state=State.RESERVED, method=Method.PICKUP
)
PICKABLE = frozenset({State.RESERVED, State.RECEIVED, State.PICKING})
# Reminder this long before the hold ends; "overdue" this close to its end.
REMIND_BEFORE = dt.timedelta(days=1)
# Wrong codes allowed per device (a kiosk, or an associate's tablet session) in a
# window; the settings `AISLE_PICKUP_DEVICE_GUESSES` and `AISLE_PICKUP_CODE_MISSES`
# (an order's code locks after that many wrong codes) override them.
GUESS_LIMIT = 10
GUESS_WINDOW = 600  # seconds
CODE_MISSES = 5
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


class PaymentDue(PickupError):
    status, code = 409, "payment_due"


class TooManyGuesses(PickupError):
    status, code = 429, "throttled"


class CodeLocked(PickupError):
    """Too many wrong codes for this order: a manager unlocks it, or the associate
    hands over after checking the customer's ID."""

    status, code = 423, "code_locked"


class NotAllowed(PickupError):
    status, code = 403, "permission_denied"


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
    services.pickups_changed(order, fulfillment)
    event = OrderEvent.objects.create(
        order=order,
        fulfillment=fulfillment,
        kind=kind,
        store=store,
        from_state=from_state,
        to_state=to_state,
        by=by if by is not None and getattr(by, "is_authenticated", False) else None,
        reason=str(reason)[:300],
    )
    webhooks.order_changed(event)  # every change is a webhook to the online channel
    return event


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


def _local(moment: dt.datetime | None, store: Store) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment, store.tz).strftime("%Y-%m-%d %H:%M")


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
