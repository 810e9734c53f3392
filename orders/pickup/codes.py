"""Pickup codes and their QR image, and finding a ready pickup by code with guesses
limited per store."""

from __future__ import annotations

import io
import secrets

from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from orders.models import Fulfillment, State
from orders.pickup.base import (
    CODE_RE,
    GUESS_LIMIT,
    GUESS_WINDOW,
    PICKUP_METHODS,
    QR_RE,
    NotHere,
    TooManyGuesses,
    WrongCode,
    _check_collectable,
    clean,
)
from orders.pickup.queue import pickups_at
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
