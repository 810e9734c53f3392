"""Reading pickups: the store's queue and its counts, one pickup's page, the order
timeline, the search at the counter and HQ's figures (each a fixed number of queries)."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inventory.models import StockLevel
from orders.models import (
    ENDED,
    Fulfillment,
    FulfillmentLine,
    Order,
    OrderEvent,
    OrderStatus,
    State,
)
from orders.pickup.base import (
    PICKABLE,
    PICKUP_METHODS,
    QUEUE_FILTER,
    REMIND_BEFORE,
    SCAN_MAX,
    clean,
)
from retail.models import Store

# --- Reading: the queue, the order, the figures -----------------------------------


def pickups_at(store: Store) -> QuerySet[Fulfillment]:
    return Fulfillment.objects.filter(pickup_store=store, method__in=PICKUP_METHODS)


def _with_lines(queryset: QuerySet[Fulfillment]) -> QuerySet[Fulfillment]:
    return queryset.select_related("order__customer", "location").prefetch_related(
        Prefetch(
            "lines",
            queryset=FulfillmentLine.objects.select_related("order_line__variant__product"),
        )
    )


class Bucket:
    NEW = "new"
    PICKING = "picking"
    READY = "ready"
    WAITING = "waiting"
    OVERDUE = "overdue"

    ALL = (NEW, PICKING, READY, WAITING, OVERDUE)


def _overdue_q(now: dt.datetime) -> Q:
    return Q(state__in=PICKABLE, ready_by__lt=now) | Q(
        state=State.READY, hold_until__lt=now + REMIND_BEFORE
    )


BUCKET_FILTERS = {
    Bucket.NEW: lambda now: Q(state__in=(State.RESERVED, State.RECEIVED)),
    Bucket.PICKING: lambda now: Q(state=State.PICKING),
    Bucket.READY: lambda now: Q(state=State.READY, checked_in_at__isnull=True),
    Bucket.WAITING: lambda now: Q(state=State.READY, checked_in_at__isnull=False),
    Bucket.OVERDUE: _overdue_q,
}


def _with_counts(queryset: QuerySet[Fulfillment], store: Store) -> QuerySet[Fulfillment]:
    """What a row of the queue shows: the order, its customer, each line's units, and
    the order's parts collected at this store (a split order: `f.order.parts`)."""
    return queryset.select_related("order__customer").prefetch_related(
        Prefetch(
            "lines",
            queryset=FulfillmentLine.objects.only(
                "pk", "fulfillment_id", "quantity", "picked_quantity"
            ),
        ),
        Prefetch(
            "order__fulfillments",
            queryset=order_parts(store).only(
                "pk", "order_id", "method", "state", "ready_by", "location_id"
            ),
            to_attr="parts",
        ),
    )


def order_parts(store: Store) -> QuerySet[Fulfillment]:
    """The fulfilments an order's customer collects at `store`, not ended: the parts of
    a split order (its shelf, a transfer on its way), in order."""
    return pickups_at(store).exclude(state__in=ENDED).order_by("pk")


def _first_part(condition: Q, store: Store) -> Q:
    """Only the first of an order's parts that meet `condition`: a split order is one
    row, with its parts listed in it."""
    earlier = pickups_at(store).filter(condition, order=OuterRef("order"), pk__lt=OuterRef("pk"))
    return ~Q(Exists(earlier))


def pickup_queue(store: Store, *, bucket: str = "", now: dt.datetime | None = None):
    """The store's pickups in hand, one row per order, soonest promised first, with
    their lines and parts."""
    now = now or timezone.now()
    condition = QUEUE_FILTER
    if bucket in BUCKET_FILTERS:
        condition = condition & BUCKET_FILTERS[bucket](now)
    queryset = pickups_at(store).filter(condition).filter(_first_part(condition, store))
    # Customers waiting at the counter come first, then by promised time.
    return _with_counts(queryset, store).order_by(
        F("checked_in_at").asc(nulls_last=True), F("ready_by").asc(nulls_last=True), "pk"
    )


def queue_counts(store: Store, *, now: dt.datetime | None = None) -> dict[str, int]:
    """How many orders are in each bucket, a split order once (one query)."""
    now = now or timezone.now()
    buckets = {name: QUEUE_FILTER & make(now) for name, make in BUCKET_FILTERS.items()}
    row = (
        pickups_at(store)
        .filter(QUEUE_FILTER)
        .aggregate(
            total=Count("pk", filter=_first_part(QUEUE_FILTER, store)),
            **{
                name: Count("pk", filter=condition & _first_part(condition, store))
                for name, condition in buckets.items()
            },
        )
    )
    return {key: value or 0 for key, value in row.items()}


def annotate_for_display(fulfillments, now: dt.datetime) -> None:
    """Set `bucket`, `overdue`, `waited_since` and the pick progress on each row."""
    for f in fulfillments:
        lines = list(f.lines.all())
        f.units = sum(line.quantity for line in lines)
        f.picked = sum(line.picked_quantity for line in lines)
        if f.state == State.READY:
            f.bucket = Bucket.WAITING if f.checked_in_at else Bucket.READY
        elif f.state == State.PICKING:
            f.bucket = Bucket.PICKING
        else:
            f.bucket = Bucket.NEW
        f.overdue = bool(
            (f.state in PICKABLE and f.ready_by and f.ready_by < now)
            or (f.state == State.READY and f.hold_until and f.hold_until < now + REMIND_BEFORE)
        )
        if f.bucket == Bucket.WAITING:
            f.waited_since = f.checked_in_at
        elif f.bucket == Bucket.READY:
            f.waited_since = f.ready_at or f.order.created_at
        else:
            f.waited_since = f.order.created_at


def pickup_for_store(store: Store, pk: int) -> Fulfillment | None:
    """One pickup of this store, with everything its page shows."""
    return _with_lines(pickups_at(store)).select_related("pickup_store").filter(pk=pk).first()


def shelf_stock(fulfillment: Fulfillment) -> dict[int, StockLevel]:
    """variant_id -> the stock row at the fulfilment's location (one query)."""
    variant_ids = [line.order_line.variant_id for line in fulfillment.lines.all()]
    return {
        level.variant_id: level
        for level in StockLevel.objects.filter(
            location_id=fulfillment.location_id, variant_id__in=variant_ids
        )
    }


#: What each kind of order event is called on the screens.
EVENT_LABELS = {
    "order_placed": gettext_lazy("Order placed"),
    "order_status": gettext_lazy("Order status"),
    "fulfillment_created": gettext_lazy("Fulfilment created"),
    "fulfillment_changed": gettext_lazy("Fulfilment moved"),
    "line_cancelled": gettext_lazy("Line cancelled"),
    "item_picked": gettext_lazy("Item picked"),
    "line_short": gettext_lazy("Not on the shelf"),
    "customer_checked_in": gettext_lazy("Customer checked in"),
    "line_refused": gettext_lazy("Refused at hand-over"),
    "pickup_reminded": gettext_lazy("Reminder sent"),
    "handed_over_without_code": gettext_lazy("Handed over without the code"),
    "receiving_discrepancy": gettext_lazy("Received short or damaged"),
}


def _state_label(value: str) -> str:
    if value in State.values:
        return str(State(value).label)
    if value in OrderStatus.values:
        return str(OrderStatus(value).label)
    return value


def order_timeline(order: Order) -> list[OrderEvent]:
    """Every event of the order, oldest first: who, when, where (one query), with
    each event's and state's name for the screen."""
    events = list(
        OrderEvent.objects.filter(order=order)
        .select_related("by", "store", "fulfillment__location")
        .order_by("at", "pk")
    )
    for event in events:
        event.label = EVENT_LABELS.get(event.kind, event.kind)
        event.from_label = _state_label(event.from_state)
        event.to_label = _state_label(event.to_state)
    return events


def pickup_search(store: Store, text: str, limit: int = 20) -> list[Fulfillment]:
    """The store's pickups in hand matching an order ref, part of a customer's name, or
    their whole phone number or e-mail (the rules of customer search: `retail.audit`)."""
    from retail.audit import QueryKind, query_or_none

    text = clean(text)[:SCAN_MAX]
    if not text:
        return []
    condition = Q(order__order_ref__iexact=text)
    query = query_or_none(text, store.country or None)
    if query is not None and query.kind == QueryKind.PHONE:
        condition |= Q(order__customer__phone=query.value)
    elif query is not None and query.kind == QueryKind.EMAIL:
        condition |= Q(order__customer__email__iexact=query.value)
    elif query is not None:
        condition |= Q(order__customer__name__icontains=query.value)
    queryset = pickups_at(store).filter(QUEUE_FILTER).filter(condition)
    return list(_with_counts(queryset, store).order_by("-state", "pk")[:limit])


def hq_figures(store_ids, *, since: dt.datetime) -> dict[int, dict]:
    """Per store: pickups waiting now, ready now, not collected (expired) since `since`,
    and the average time from order to ready since `since` (one query)."""
    to_ready = ExpressionWrapper(
        F("ready_at") - F("order__created_at"), output_field=DurationField()
    )
    rows = (
        Fulfillment.objects.filter(pickup_store__in=store_ids, method__in=PICKUP_METHODS)
        .values("pickup_store")
        .annotate(
            waiting=Count("pk", filter=QUEUE_FILTER),
            ready=Count("pk", filter=Q(state=State.READY)),
            customers_waiting=Count("pk", filter=Q(state=State.READY, checked_in_at__isnull=False)),
            not_collected=Count("pk", filter=Q(state=State.EXPIRED, updated_at__gte=since)),
            collected=Count("pk", filter=Q(state=State.COLLECTED, collected_at__gte=since)),
            to_ready=Avg(to_ready, filter=Q(ready_at__gte=since)),
        )
    )
    return {row["pickup_store"]: row for row in rows}
