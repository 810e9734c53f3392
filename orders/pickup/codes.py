"""Pickup codes and their QR image, and finding a ready pickup by code with guesses
limited per device and per order."""

from __future__ import annotations

import functools
import io
import secrets

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from orders.models import Fulfillment, State
from orders.pickup.base import (
    CODE_MISSES,
    CODE_RE,
    GUESS_LIMIT,
    GUESS_WINDOW,
    PICKUP_METHODS,
    QR_RE,
    CodeLocked,
    NotHere,
    PickupError,
    TooManyGuesses,
    WrongCode,
    _check_collectable,
    clean,
)
from orders.pickup.queue import pickups_at
from retail import limits
from retail.models import Store

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


# --- Wrong codes: limited per device and per order, in the database ---------------------
# A device is the signed-in account at the screen (a kiosk, an associate's tablet); its
# wrong codes slow that device only. An order's wrong codes lock that order's code until
# a manager unlocks it. Both are kept in the database (`retail.limits`, the order's
# fields), so a cache outage cannot lift them. Misses are counted after the caller's
# transaction has rolled back (`counting_misses`).

DEVICE_SCOPE = "pickup-device"


def device_limit() -> int:
    return getattr(settings, "AISLE_PICKUP_DEVICE_GUESSES", GUESS_LIMIT)


def order_limit() -> int:
    return getattr(settings, "AISLE_PICKUP_CODE_MISSES", CODE_MISSES)


def _device(store: Store, by) -> str:
    if by is not None and getattr(by, "is_authenticated", False) and by.pk:
        return f"user:{by.pk}"
    return f"store:{store.pk}"


def _guard(store: Store, by=None) -> None:
    if limits.reached(DEVICE_SCOPE, _device(store, by), limit=device_limit(), window=GUESS_WINDOW):
        raise TooManyGuesses(
            _("Too many wrong pickup codes on this screen. Wait a few minutes and try again.")
        )


def _check_unlocked(f: Fulfillment) -> None:
    if f.code_locked_at is not None:
        raise CodeLocked(
            _(
                "This order's pickup code is locked after too many wrong codes. A manager "
                "unlocks it, or the customer collects with their ID at the counter."
            )
        )


def _miss(exc: PickupError, fulfillment_id: int | None = None) -> PickupError:
    """Mark a refusal as a wrong code, to be counted by `counting_misses`."""
    exc.miss = True
    exc.miss_fulfillment_id = fulfillment_id
    return exc


def _guess_failed(store: Store, by=None, fulfillment_id: int | None = None) -> None:
    """Count one wrong code for the device and, when known, for the order."""
    limits.hit(DEVICE_SCOPE, _device(store, by))
    if fulfillment_id is None:
        return
    Fulfillment.objects.filter(pk=fulfillment_id).update(code_misses=F("code_misses") + 1)
    Fulfillment.objects.filter(
        pk=fulfillment_id, code_misses__gte=order_limit(), code_locked_at__isnull=True
    ).update(code_locked_at=timezone.now())


def counting_misses(func):
    """Count the wrong codes `func` refused once its transaction has rolled back (a
    count inside it would roll back with it)."""

    @functools.wraps(func)
    def wrapper(*args, store: Store, by=None, **kwargs):
        try:
            return func(*args, store=store, by=by, **kwargs)
        except PickupError as exc:
            if getattr(exc, "miss", False) and not getattr(exc, "miss_counted", False):
                exc.miss_counted = True
                _guess_failed(store, by, exc.miss_fulfillment_id)
            raise

    return wrapper


def _resolve_code(*, store: Store, text: str, by=None) -> Fulfillment:
    text = clean(text)
    _guard(store, by)
    match = QR_RE.match(text)
    base = Fulfillment.objects.select_related("order__customer", "pickup_store")
    if match:
        fid, code, signature = int(match[1]), match[2], match[3]
        if not constant_time_compare(signature, _sign(fid, code)):
            raise _miss(WrongCode(_("This QR code is not valid: it has been altered.")))
        f = base.filter(pk=fid, method__in=PICKUP_METHODS).first()
        if f is None or not constant_time_compare(f.pickup_code, code):
            raise _miss(WrongCode(_("This QR code is no longer valid. Ask for the pickup code.")))
    elif CODE_RE.match(text):
        candidates = base.filter(pickup_code=text, method__in=PICKUP_METHODS)
        f = (
            candidates.filter(pickup_store=store, state=State.READY).first()
            or candidates.filter(pickup_store=store).order_by("-pk").first()
        )
        if f is None:
            if candidates.filter(state=State.READY).exclude(pickup_store=store).exists():
                raise _miss(NotHere(_("This pickup code is for an order at another store.")))
            raise _miss(
                WrongCode(_("No order has this pickup code. Check the code and try again."))
            )
    else:
        raise _miss(
            WrongCode(_("A pickup code is six digits, or scan the QR code in the message."))
        )
    if f.pickup_store_id != store.pk:
        try:
            _check_collectable(f, store)
        except PickupError as exc:
            raise _miss(exc) from None
    _check_collectable(f, store)
    _check_unlocked(f)
    return f


@counting_misses
def resolve_code(*, store: Store, text: str, by=None) -> Fulfillment:
    """The ready pickup at `store` that a typed code or a scanned QR names.

    Wrong, altered and other stores' codes count as guesses of the device (`by`, the
    account at the screen); a locked order's code is refused."""
    return _resolve_code(store=store, text=text, by=by)


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
