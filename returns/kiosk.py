"""Returns started at the kiosk: what the kiosk shows a customer who proved an order
(`kiosk.proof`), and the services its pages call.

The customer sees the order's lines in customer wording — what may go back, until
when, and what it refunds — picks lines, quantities and reasons, and confirms: a
return `requested`, started via the kiosk at the kiosk's store, claiming the units
(`services.return_request`, as the API does). The associate finishes it at the counter
by scanning its code (`services.find`, `services.return_receive`). A kiosk return not
finished within the kiosk store's local day is cancelled by a beat task
(`kiosk_returns_expire`), which frees its claim.

Nothing here shows more of the customer than the first name.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orders.models import Order, OrderLine
from orders.returning import NotReturnable
from retail import catalogue
from retail.dates import when_text
from retail.models import Store, User
from returns import services
from returns.models import Reason, Return, ReturnState, StartedVia
from returns.services import LineAsk, Quote, ReturnError

REF_MAX = 64


def all_returned_message() -> str:
    return _(
        "Everything in this order has already been returned, or is in a return you started before."
    )


class KioskRefused(ReturnError):
    """A kiosk return refused, with a message for the customer; nothing written."""

    status, code = 400, "kiosk_return_refused"


class KioskNotReturnable(KioskRefused):
    status, code = 409, "not_returnable"


@dataclass
class KioskLine:
    """One order line as the customer sees it at the kiosk."""

    line: OrderLine
    returnable_units: int
    returnable: bool
    note: str  # why (not), in customer wording
    unit_refund: Decimal

    @property
    def name(self) -> str:
        return catalogue.product_name(self.line.variant.product)

    @property
    def choices(self) -> range:
        return range(self.returnable_units + 1)


def clean_ref(text: str) -> str:
    """What the customer typed or scanned, as an order reference (a receipt's QR code
    carries `AISLE-ORDER:<ref>`)."""
    text = "".join(ch for ch in str(text or "") if ch > " " and ch != "\x7f")[: REF_MAX + 12]
    if text.upper().startswith("AISLE-ORDER:"):
        text = text.split(":", 1)[1]
    return text[:REF_MAX]


def order_for_ref(ref: str) -> Order | None:
    """The order with this reference (as typed, or in any case), with its customer."""
    if not ref:
        return None
    orders = Order.objects.select_related("customer")
    return orders.filter(order_ref=ref).first() or orders.filter(order_ref__iexact=ref).first()


def _customer_note(view: services.LineView) -> str:
    verdict = view.verdict
    day = when_text(verdict.window_ends.date(), "date") if verdict.window_ends else ""
    if verdict.returnable:
        return _("You can return this until %(date)s.") % {"date": day}
    if verdict.code == "not_received":
        return _("Not with you yet: it can be returned once you have collected or received it.")
    if verdict.code == "exceeds_returnable":
        return _("Already returned, or in a return you started before.")
    if verdict.code == "final_sale":
        return _("Final sale: this item cannot be returned.")
    if verdict.code == "window_closed":
        return _("The time to return this item ended on %(date)s.") % {"date": day}
    return _("This item cannot be returned here. Ask at the counter.")


def kiosk_lines(order: Order, *, store: Store, at: datetime | None = None) -> list[KioskLine]:
    """Every line of the order with what the customer may return, in a fixed number of
    queries."""
    return [
        KioskLine(
            line=view.line,
            returnable_units=view.returnable_units if view.returnable else 0,
            returnable=view.returnable,
            note=_customer_note(view),
            unit_refund=view.unit_refund,
        )
        for view in services.explain_order(order, store=store, at=at)
    ]


def _all_claimed(lines) -> bool:
    return bool(lines) and all(
        0 < line.line.received_quantity <= line.line.claimed_quantity for line in lines
    )


def nothing_left(lines) -> str:
    """Why nothing of the order can be returned at the kiosk ("" when something can).
    `lines`: KioskLines or `services.LineView`s."""
    if any(line.returnable for line in lines):
        return ""
    if _all_claimed(lines):
        return all_returned_message()
    return _("Nothing in this order can be returned now. Each item says why.")


def _asks(order: Order, store: Store, picks: Mapping[int, tuple[int, str]]):
    """The customer's picks (order line id -> (units, reason)) checked in customer
    wording: KioskRefused / KioskNotReturnable naming every item that cannot go back."""
    views = {v.line.pk: v for v in services.explain_order(order, store=store)}
    if _all_claimed(list(views.values())):
        raise KioskNotReturnable(all_returned_message(), field="lines")
    picks = {line_id: pick for line_id, pick in picks.items() if pick[0] != 0}
    if not picks:
        whole = nothing_left(list(views.values()))
        raise KioskRefused(whole or _("Choose at least one item to return."), field="lines")
    refused = []
    asks = []
    for line_id, (units, reason) in sorted(picks.items()):
        view = views.get(line_id)
        if view is None:
            raise KioskRefused(_("This item is not part of your order. Start again."))
        name = catalogue.product_name(view.line.variant.product)
        if units < 0:
            raise KioskRefused(_("Choose how many of each item you return."), field="quantity")
        if reason not in Reason.values:
            raise KioskRefused(
                _("Tell us why you return %(name)s.") % {"name": name}, field="reason"
            )
        if not view.returnable:
            refused.append(f"{name}: {_customer_note(view)}")
        elif units > view.returnable_units:
            refused.append(
                _("%(name)s: you can return at most %(n)s.")
                % {"name": name, "n": view.returnable_units}
            )
        else:
            asks.append(LineAsk(quantity=units, reason=reason, order_line=view.line))
    if refused:
        raise KioskNotReturnable(" ".join(refused), field="lines")
    return asks, list(views.values())


def kiosk_quote(*, order: Order, store: Store, picks: Mapping[int, tuple[int, str]]) -> Quote:
    """What the picked units would refund (nothing written)."""
    asks, views = _asks(order, store, picks)
    try:
        return services.quote(order=order, asks=asks, store=store, views=views)
    except NotReturnable:
        raise KioskNotReturnable(
            _("Some of these items cannot be returned. Start again.")
        ) from None


def return_ref_for(store: Store, nonce: str) -> str:
    return f"KR-{store.code}-{nonce[:16].upper()}"


def kiosk_return_start(
    *,
    order: Order,
    store: Store,
    picks: Mapping[int, tuple[int, str]],
    nonce: str,
    kiosk_user: User | None = None,
) -> Return:
    """The customer confirms at the kiosk: a return `requested`, started via the kiosk
    at `store`, claiming the units (the page's `nonce` makes a double tap one return).
    Raises KioskRefused (customer wording); nothing is written then."""
    if not (len(nonce) == 32 and nonce.isalnum()):
        raise KioskRefused(_("The page is out of date: start again."))
    asks, _views = _asks(order, store, picks)
    fingerprint = hashlib.sha256(
        "|".join(f"{a.order_line.pk}:{a.quantity}:{a.reason}" for a in asks).encode()
    ).hexdigest()
    try:
        ret, _created = services.return_request(
            order=order,
            return_ref=return_ref_for(store, nonce),
            asks=asks,
            fingerprint=fingerprint,
            via=StartedVia.KIOSK,
            store=store,
            by=kiosk_user,
        )
    except NotReturnable:
        raise KioskNotReturnable(
            _("Some of these items were just returned another way. Start again.")
        ) from None
    except ReturnError:
        raise KioskRefused(
            _("This return cannot be started here. Ask an associate at the counter.")
        ) from None
    return ret


# --- The day-end sweep --------------------------------------------------------------------


def _tz(ret: Return):
    return ret.store.tz if ret.store_id else zoneinfo.ZoneInfo(settings.TIME_ZONE)


def kiosk_returns_expire(*, now: datetime | None = None) -> int:
    """Cancel every kiosk return still `requested` after the local day it was started
    (in its kiosk store's time zone), freeing its claim, with the reason in its
    history. Idempotent; catches up after a missed beat. Returns how many it cancelled."""
    now = now or timezone.now()
    waiting = list(
        Return.objects.filter(
            started_via=StartedVia.KIOSK, state=ReturnState.REQUESTED, created_at__lt=now
        )
        .select_related("store")
        .order_by("pk")
    )
    cancelled = 0
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Started at the kiosk and not finished at the counter the same day")
        for ret in waiting:
            tz = _tz(ret)
            if timezone.localtime(ret.created_at, tz).date() >= timezone.localtime(now, tz).date():
                continue
            done = services.return_cancel(
                ret=ret, by=None, store=ret.store, reason=reason, only_if=ReturnState.REQUESTED
            )
            cancelled += done.state == ReturnState.CANCELLED
    return cancelled
