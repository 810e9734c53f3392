"""Building the rollups of `insights.models` from the records of every app below.

- `mark_days(keys)` / `mark_customers(ids)`: what the domain-event receivers call —
  an idempotent "dirty" row per key, nothing else.
- `refresh_dirty()`: the beat task's work. Each dirty (store, day) is re-computed in
  its own transaction: its dirty row is deleted first, then every rollup row of that
  key deleted and computed again from the records — so running it twice writes the
  same tables, and a change that lands during a refresh marks the key again (its
  insert waits for the refresh to commit) instead of being lost.
- `refresh(full=True)`: rebuild everything, printing progress.

The dates follow `insights.dates`; what each column means is in `insights.models`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from insights.dates import IN_STORE, local_day, today
from insights.models import AssociateDay, DirtyCustomer, DirtyDay, RefreshMark
from insights.rollups.common import (
    CUSTOMER_BATCH,
    PER_CUSTOMER,
    PER_STORE_DAY,
    kept_value,
    tax_in,
    window,
)
from insights.rollups.customers import refresh_customers
from insights.rollups.days import refresh_day
from insights.rollups.journal import credit_day_keys
from insights.rollups.journeys import journey, journey_inputs
from retail.models import Customer, Store

__all__ = [
    "all_day_keys",
    "generation",
    "journey",
    "journey_inputs",
    "kept_value",
    "mark_customers",
    "mark_days",
    "mark_recent",
    "order_keys",
    "refresh",
    "refresh_customers",
    "refresh_day",
    "refresh_dirty",
    "tax_in",
    "window",
]


# --- Marking dirty ----------------------------------------------------------------------------


def mark_days(keys: Iterable[tuple[int | None, dt.date]]) -> int:
    """Mark (store id or None, day) keys dirty (a key already marked stays one row)."""
    rows = [DirtyDay(store_id=store_id, day=day) for store_id, day in set(keys)]
    DirtyDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def mark_customers(ids: Iterable[int | None]) -> int:
    rows = [DirtyCustomer(customer_id=pk) for pk in {i for i in ids if i is not None}]
    known = set(
        Customer.objects.filter(pk__in=[r.customer_id for r in rows]).values_list("pk", flat=True)
    )
    DirtyCustomer.objects.bulk_create(
        [r for r in rows if r.customer_id in known], ignore_conflicts=True
    )
    return len(known)


def order_keys(
    order, *, own_day: bool = True, now: bool = False, when: dt.datetime | None = None
) -> set[tuple[int | None, dt.date]]:
    """The keys an order's change touches: its own day (`own_day`), the day of `when`
    (a return completed then) or today (`now`: a refund paid now), and the days its
    credits (the order's day in the credit's store) and the follow-ups it converts
    count in."""
    from clienteling.models import FollowUpTask, SalesCredit

    store = order.store
    keys = set()
    if own_day:
        keys.add((order.store_id, local_day(order.created_at, store, order.channel)))
    if when is not None or now:
        keys.add((order.store_id, local_day(when or timezone.now(), store, order.channel)))
        if store is not None:  # a hand-over counts on the store's own day
            keys.add((order.store_id, (when or timezone.now()).astimezone(store.tz).date()))
    stores = {s.pk: s for s in Store.objects.all()}
    for store_id in SalesCredit.objects.filter(order_id=order.pk).values_list(
        "store_id", flat=True
    ):
        keys.add((store_id, order.created_at.astimezone(stores[store_id].tz).date()))
    if order.customer_id is not None:
        tasks = FollowUpTask.objects.filter(
            customer_id=order.customer_id,
            state="done",
            done_at__gte=order.created_at - window(),
            done_at__lte=order.created_at,
        ).values_list("store_id", "done_at")
        for store_id, done_at in tasks:
            keys.add((store_id, done_at.astimezone(stores[store_id].tz).date()))
    return keys


# --- The beat task and the rebuild -----------------------------------------------------------

#: Keys re-computed per transaction by the full rebuild.
FULL_BATCH = 50


def _claim_day() -> DirtyDay | None:
    return DirtyDay.objects.select_for_update(skip_locked=True).order_by("day", "pk").first()


GENERATION_KEY = "insights:rollups:generation"


def generation() -> int:
    """The rollups' generation: a new one after every refresh that changed them, so
    figures kept in the cache under an older one are never read again."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        value = time.time_ns()
        cache.add(GENERATION_KEY, value, None)
    return value


def _new_generation() -> None:
    cache.set(GENERATION_KEY, time.time_ns(), None)


def refresh_dirty(*, limit: int = 2000) -> dict[str, int]:
    """Re-compute the dirty days and customers (at most `limit` of each)."""
    try:
        return _refresh_dirty(limit)
    finally:
        _new_generation()


def _refresh_dirty(limit: int) -> dict[str, int]:
    days = customers = 0
    while days < limit:
        with transaction.atomic():
            row = _claim_day()
            if row is None:
                break
            # The dirty row goes first: a mark made while this key is re-computed waits
            # for this transaction and then marks the key again.
            DirtyDay.objects.filter(pk=row.pk).delete()
            refresh_day(row.store_id, row.day)
        days += 1
    while customers < limit:
        with transaction.atomic():
            ids = list(
                DirtyCustomer.objects.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("customer_id", flat=True)[:CUSTOMER_BATCH]
            )
            if not ids:
                break
            DirtyCustomer.objects.filter(customer_id__in=ids).delete()
            refresh_customers(ids)
        customers += len(ids)
    return {"days": days, "customers": customers}


def mark_recent() -> None:
    """What raises no domain event: today's key of every store (sessions, credits
    written by other receivers); customers with new browsing, newly identified
    visitors or new selling sessions since the last look; and the days of store
    purchases that browsing arriving late now shows as webroomed."""
    from clienteling.models import BrowsingEvent, SellingSession, VisitorLink

    now = timezone.now()
    stores = list(Store.objects.all())
    mark_days([(None, today())] + [(s.pk, today(s)) for s in stores])
    for name, model, field in (
        ("browsing", BrowsingEvent, "received_at"),
        ("identified", VisitorLink, "linked_at"),
        ("sessions", SellingSession, "last_action_at"),
    ):
        with transaction.atomic():
            mark, created = RefreshMark.objects.select_for_update().get_or_create(
                source=name, defaults={"at": now}
            )
            if created:
                continue
            rows = model.objects.filter(
                **{f"{field}__gt": mark.at, f"{field}__lte": now, "customer__isnull": False}
            )
            ids = list(rows.values_list("customer_id", flat=True).distinct())
            mark_customers(ids)
            if model is BrowsingEvent and ids:
                _mark_webroomed_days(rows)
            mark.at = now
            mark.save(update_fields=["at"])


def _mark_webroomed_days(new_views) -> None:
    """Store and kiosk purchases within the window after a view that arrived late."""
    from django.db.models import Min

    from orders.models import Order

    first_seen = dict(
        new_views.values("customer_id")
        .annotate(first=Min("occurred_at"))
        .values_list("customer_id", "first")
    )
    earliest = min(first_seen.values())
    stores = {s.pk: s for s in Store.objects.all()}
    keys = set()
    for store_id, channel, customer_id, at in Order.objects.filter(
        customer_id__in=list(first_seen),
        channel__in=IN_STORE,
        created_at__gt=earliest,
        created_at__lte=max(first_seen.values()) + window(),
    ).values_list("store_id", "channel", "customer_id", "created_at"):
        if first_seen[customer_id] < at <= first_seen[customer_id] + window():
            keys.add((store_id, local_day(at, stores.get(store_id), channel)))
    mark_days(keys)


def all_day_keys() -> set[tuple[int | None, dt.date]]:
    """Every (store, day) any record falls on."""
    from clienteling.models import FollowUpTask, SalesCredit, SellingSession
    from orders.models import Order, OrderEvent, Payment, Refund
    from returns.models import Return

    stores = {s.pk: s for s in Store.objects.all()}
    keys: set[tuple[int | None, dt.date]] = set()

    def add(store_id, channel, at):
        if at is not None:
            keys.add((store_id, local_day(at, stores.get(store_id), channel)))

    for store_id, channel, at in Order.objects.values_list(
        "store_id", "channel", "created_at"
    ).iterator(chunk_size=5000):
        add(store_id, channel, at)
    for model in (Refund, Payment):  # refunds; payments for the journal (a counter's later)
        for store_id, channel, at in model.objects.values_list(
            "order__store_id", "order__channel", "at"
        ).iterator(chunk_size=5000):
            add(store_id, channel, at)
    keys |= credit_day_keys(stores)
    for order_store, channel, store_id, at in (
        Return.objects.filter(state="completed")
        .values_list("order__store_id", "order__channel", "store_id", "completed_at")
        .iterator(chunk_size=5000)
    ):
        add(order_store if channel else store_id, channel or "store", at)
    for model, field in (
        (SellingSession, "opened_at"),
        (SalesCredit, "order__created_at"),
        (OrderEvent, "at"),
        (FollowUpTask, "done_at"),
    ):
        rows = model.objects.filter(store__isnull=False)
        if model is OrderEvent:
            rows = rows.filter(kind="fulfillment_changed", to_state="collected")
        if model is FollowUpTask:
            rows = rows.filter(state="done")
        for store_id, at in rows.values_list("store_id", field).iterator(chunk_size=5000):
            add(store_id, "store", at)
    return keys


def refresh(*, full: bool = False, out: Callable[[str], None] | None = None) -> dict[str, int]:
    """Bring the rollups up to date: the dirty keys, or (`full`) everything from scratch,
    printing progress to `out`."""
    if not full and not RefreshMark.objects.exists():
        full = True  # never built: build everything once
    if not full:
        mark_recent()
        return refresh_dirty(limit=10**9)
    say = out or (lambda _text: None)
    from clienteling.models import BrowsingEvent, SellingSession
    from orders.models import Order

    with transaction.atomic():
        for model in (*PER_STORE_DAY, AssociateDay, *PER_CUSTOMER, DirtyDay, DirtyCustomer):
            model.objects.all().delete()
    keys = sorted(all_day_keys(), key=lambda k: (k[1], k[0] or 0))
    say(f"days: {len(keys)} (store, day) keys")
    stores = {s.pk: s for s in Store.objects.all()}
    for start in range(0, len(keys), FULL_BATCH):
        # One transaction per batch of keys (each key's work is its own savepoint).
        with transaction.atomic():
            for store_id, day in keys[start : start + FULL_BATCH]:
                if store_id is None or store_id in stores:
                    refresh_day(store_id, day, store=stores.get(store_id), fresh=True)
        done = min(start + FULL_BATCH, len(keys))
        if done % 200 == 0 or done == len(keys):
            say(f"days: {done}/{len(keys)}")
    customers = set(
        Order.objects.filter(customer__isnull=False).values_list("customer_id", flat=True)
    )
    customers |= set(
        BrowsingEvent.objects.filter(customer__isnull=False).values_list("customer_id", flat=True)
    )
    customers |= set(SellingSession.objects.values_list("customer_id", flat=True))
    ids = sorted(customers)
    say(f"customers: {len(ids)}")
    for start in range(0, len(ids), CUSTOMER_BATCH):
        refresh_customers(ids[start : start + CUSTOMER_BATCH])
        say(f"customers: {min(start + CUSTOMER_BATCH, len(ids))}/{len(ids)}")
    now = timezone.now()
    for name in ("browsing", "identified", "sessions"):
        RefreshMark.objects.update_or_create(source=name, defaults={"at": now})
    _new_generation()
    return {"days": len(keys), "customers": len(ids)}
