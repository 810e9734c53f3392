"""One (store, day): every per-store-and-day rollup of the key, deleted and computed
again in one transaction."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from insights.dates import IN_STORE, ONLINE, in_day
from insights.models import (
    AssociateDay,
    FulfilmentFact,
    OrderDay,
    RefundDay,
    SalesDay,
)
from insights.rollups.common import (
    BOPIS_METHODS,
    PER_STORE_DAY,
    ZERO,
    _hours,
    kept_value,
    tax_in,
    window,
)
from insights.rollups.journal import refresh_journal
from insights.rollups.journeys import journey, journey_inputs
from retail.models import Store

# --- One (store, day) ---------------------------------------------------------------------------


def _delete_day(store_id: int | None, day: dt.date) -> None:
    for model in PER_STORE_DAY:
        model.objects.filter(store_id=store_id, day=day).delete()
    if store_id is not None:
        AssociateDay.objects.filter(store_id=store_id, day=day).delete()


def refresh_day(
    store_id: int | None, day: dt.date, *, store: Store | None = None, fresh: bool = False
) -> None:
    """Re-compute every per-store-and-day rollup of one key (idempotent). The full
    rebuild passes the `store` it has loaded and `fresh` (its tables were just emptied:
    nothing of this key to delete)."""
    with transaction.atomic():
        if not fresh:
            _delete_day(store_id, day)
        if store_id is not None and store is None:
            store = Store.objects.filter(pk=store_id).first()
            if store is None:
                return
        orders = _day_orders(store, day)
        order_net = _sales(store, day, orders)
        _refunds(store, day)
        if orders:
            methods = _fulfilments(store, day, orders)
            _orders(store, day, orders, order_net, methods)
        if store is not None:
            _associates(store, day)
        refresh_journal(store, day)


def _day_orders(store: Store | None, day: dt.date) -> dict[int, dict]:
    """The orders of the key's day, by id."""
    from orders.models import Order

    orders = {
        row["id"]: row
        for row in Order.objects.filter(
            Q(store_id=store.pk if store else None)
            & in_day(store, day, at="created_at", channel="channel")
        ).values("id", "channel", "status", "customer_id", "created_at")
    }
    for order in orders.values():
        order.update(at=order["created_at"], products=set(), categories=set())
    return orders


def _sales(store: Store | None, day: dt.date, orders: dict[int, dict]) -> dict[int, Decimal]:
    """`SalesDay`: what was kept of the day's orders, per channel and category, and the
    returns completed that day. Returns each order's kept value."""
    from orders.models import OrderLine
    from returns.models import ReturnLine

    store_id = store.pk if store else None
    lines = []
    if orders:
        lines = OrderLine.objects.filter(
            Q(order__store_id=store_id)
            & in_day(store, day, at="order__created_at", channel="order__channel")
        ).values(
            "order_id",
            "quantity",
            "cancelled_quantity",
            "line_total",
            "catalog_price",
            "tax_rate",
            "variant__product_id",
            "variant__product__category_id",
        )
    sales: dict[tuple[str, int], dict] = defaultdict(
        lambda: {
            "orders": set(),
            "units": 0,
            "cancelled": 0,
            "gross": ZERO,
            "net": ZERO,
            "tax": ZERO,
        }
    )
    order_net: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        order = orders[line["order_id"]]
        category = line["variant__product__category_id"]
        kept_units = line["quantity"] - line["cancelled_quantity"]
        net = kept_value(line["line_total"], line["quantity"], line["cancelled_quantity"])
        cell = sales[(order["channel"], category)]
        if kept_units > 0:
            cell["orders"].add(order["id"])
        cell["units"] += kept_units
        cell["cancelled"] += line["cancelled_quantity"]
        cell["gross"] += line["catalog_price"] * kept_units
        cell["net"] += net
        cell["tax"] += tax_in(net, line["tax_rate"])
        order_net[order["id"]] += net
        order["products"].add(line["variant__product_id"])
        order["categories"].add(category)

    # Returns completed this day, in the bucket of the order they return (a return
    # without a receipt: the receiving store's, as a store sale).
    returned_q = Q(ret__order__isnull=False, ret__order__store_id=store_id) & in_day(
        store, day, at="ret__completed_at", channel="ret__order__channel"
    )
    if store is not None:
        returned_q |= Q(ret__order__isnull=True, ret__store_id=store_id) & _store_local(
            store, day, "ret__completed_at"
        )
    for row in ReturnLine.objects.filter(returned_q, ret__state="completed").values(
        "quantity",
        "refund_amount",
        "category_id",
        "variant__product__category_id",
        "ret__order__channel",
    ):
        channel = row["ret__order__channel"] or "store"
        cell = sales[(channel, row["category_id"] or row["variant__product__category_id"])]
        cell["returned"] = cell.get("returned", 0) + row["quantity"]
        cell["returned_value"] = cell.get("returned_value", ZERO) + row["refund_amount"]

    SalesDay.objects.bulk_create(
        [
            SalesDay(
                day=day,
                store_id=store_id,
                channel=channel,
                category_id=category,
                orders=len(cell["orders"]),
                units=cell["units"],
                units_cancelled=cell["cancelled"],
                gross=cell["gross"],
                discount=cell["gross"] - cell["net"],
                net=cell["net"],
                tax=cell["tax"],
                units_returned=cell.get("returned", 0),
                returned_value=cell.get("returned_value", ZERO),
            )
            for (channel, category), cell in sales.items()
        ]
    )
    return order_net


def _refunds(store: Store | None, day: dt.date) -> None:
    """`RefundDay`: refunds paid on the day for orders of the key's store."""
    from orders.models import Refund

    store_id = store.pk if store else None
    refunds: dict[tuple, dict] = defaultdict(lambda: {"n": 0, "amount": ZERO, "tax": ZERO})
    for row in Refund.objects.filter(
        Q(order__store_id=store_id) & in_day(store, day, at="at", channel="order__channel")
    ).values("order__channel", "tender", "to_store_credit", "return_ref", "amount", "tax_amount"):
        key = (
            row["order__channel"],
            row["tender"],
            row["to_store_credit"],
            bool(row["return_ref"]),
        )
        cell = refunds[key]
        cell["n"] += 1
        cell["amount"] += row["amount"]
        cell["tax"] += row["tax_amount"]
    RefundDay.objects.bulk_create(
        [
            RefundDay(
                day=day,
                store_id=store_id,
                channel=channel,
                tender=tender,
                to_store_credit=credit,
                from_return=from_return,
                refunds=cell["n"],
                amount=cell["amount"],
                tax=cell["tax"],
            )
            for (channel, tender, credit, from_return), cell in refunds.items()
        ]
    )


def _fulfilments(store: Store | None, day: dt.date, orders: dict[int, dict]) -> dict:
    """`FulfilmentFact`: the day's orders' fulfilments (not till sales) with their
    timings. Returns each order's fulfilment methods."""
    from orders.models import Fulfillment, OrderEvent

    store_id = store.pk if store else None
    fulfilments = list(
        Fulfillment.objects.filter(order_id__in=list(orders))
        .exclude(method="carry_out")
        .values(
            "id",
            "order_id",
            "method",
            "state",
            "pickup_store_id",
            "location__store_id",
            "ready_at",
            "collected_at",
        )
    )
    shipped_at: dict[int, dt.datetime] = {}
    short: dict[int, int] = defaultdict(int)
    for fid, kind, to_state, at in OrderEvent.objects.filter(
        fulfillment_id__in=[f["id"] for f in fulfilments],
        kind__in=("fulfillment_changed", "line_short"),
    ).values_list("fulfillment_id", "kind", "to_state", "at"):
        if kind == "line_short":
            short[fid] += 1
        elif to_state == "shipped" and fid not in shipped_at:
            shipped_at[fid] = at
    methods: dict[int, set[str]] = defaultdict(set)
    facts = []
    for f in fulfilments:
        order = orders[f["order_id"]]
        methods[order["id"]].add(f["method"])
        held = f["collected_at"] if f["state"] == "collected" else None
        facts.append(
            FulfilmentFact(
                day=day,
                store_id=store_id,
                fulfillment_id=f["id"],
                fulfilled_at_id=f["pickup_store_id"] or f["location__store_id"],
                channel=order["channel"],
                method=f["method"],
                state=f["state"],
                hours_to_ready=_hours(f["ready_at"], order["at"]),
                hours_held=_hours(held, f["ready_at"]),
                hours_to_ship=_hours(shipped_at.get(f["id"]), order["at"]),
                short_lines=short.get(f["id"], 0),
            )
        )
    FulfilmentFact.objects.bulk_create(facts)
    return methods


def _orders(store, day: dt.date, orders: dict[int, dict], order_net: dict, methods: dict) -> None:
    """`OrderDay`: the day's orders per channel, with their journeys and what associates
    were credited for them."""
    from clienteling.models import SalesCredit

    store_id = store.pk if store else None
    credited: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for order_id, amount, reversed_amount in SalesCredit.objects.filter(
        order_id__in=list(orders)
    ).values_list("order_id", "amount", "reversed_amount"):
        credited[order_id] += amount - reversed_amount
    times = [o["at"] for o in orders.values()]
    views, touches = journey_inputs(
        (o["customer_id"] for o in orders.values()), min(times) - window(), max(times)
    )
    per_channel: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for order in orders.values():
        cell = per_channel[order["channel"]]
        net = order_net.get(order["id"], ZERO)
        cell["orders"] += 1
        cell["net"] += net
        cell["attributed"] += credited.get(order["id"], ZERO)
        if order["status"] == "cancelled":
            cell["cancelled"] += 1
        if order["channel"] in ONLINE:
            if methods[order["id"]] & set(BOPIS_METHODS):
                cell["bopis"] += 1
            if "ship_from_store" in methods[order["id"]]:
                cell["sfs"] += 1
        if order["status"] == "cancelled":
            continue
        webroomed, showroomed = journey(order, views, touches)
        if webroomed:
            cell["webroomed"] += 1
            cell["webroomed_net"] += net
        if showroomed:
            cell["showroomed"] += 1
            cell["showroomed_net"] += net
    OrderDay.objects.bulk_create(
        [
            OrderDay(
                day=day,
                store_id=store_id,
                channel=channel,
                orders=cell["orders"],
                cancelled_orders=cell["cancelled"],
                net=Decimal(cell["net"]),
                bopis_orders=cell["bopis"],
                sfs_orders=cell["sfs"],
                webroomed_orders=cell["webroomed"],
                webroomed_net=Decimal(cell["webroomed_net"]),
                showroomed_orders=cell["showroomed"],
                showroomed_net=Decimal(cell["showroomed_net"]),
                attributed_net=Decimal(cell["attributed"]),
            )
            for channel, cell in per_channel.items()
        ]
    )


def _store_local(store: Store, day: dt.date, at: str) -> Q:
    from insights.dates import day_bounds

    start, end = day_bounds(day, store.tz)
    return Q(**{f"{at}__gte": start, f"{at}__lt": end})


def _associates(store: Store, day: dt.date) -> None:
    """Associates' figures in the store on its local day."""
    from clienteling.models import FollowUpTask, SalesCredit, SellingSession
    from orders.models import Order, OrderEvent

    cells: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for associate_id, actions in SellingSession.objects.filter(
        Q(store=store) & _store_local(store, day, "opened_at")
    ).values_list("associate_id", "actions"):
        cell = cells[associate_id]
        cell["sessions"] += 1
        cell["actions"] += sum(int(n) for n in (actions or {}).values())
    for associate_id, channel, amount, reversed_amount in SalesCredit.objects.filter(
        Q(store=store) & _store_local(store, day, "order__created_at")
    ).values_list("associate_id", "channel", "amount", "reversed_amount"):
        cell = cells[associate_id]
        family = "store" if channel in IN_STORE else "online"
        cell["credited_orders"] += 1
        cell[f"credited_{family}"] += amount
        cell[f"reversed_{family}"] += reversed_amount
    for (by_id,) in OrderEvent.objects.filter(
        Q(store=store, kind="fulfillment_changed", to_state="collected", by__isnull=False)
        & _store_local(store, day, "at")
    ).values_list("by_id"):
        cells[by_id]["pickups_handed"] += 1
    tasks = list(
        FollowUpTask.objects.filter(
            Q(store=store, state="done", assigned_to__isnull=False)
            & _store_local(store, day, "done_at")
        ).values_list("assigned_to_id", "customer_id", "done_at")
    )
    if tasks:
        bought: dict[int, list] = defaultdict(list)
        for customer_id, at in (
            Order.objects.filter(
                customer_id__in={t[1] for t in tasks},
                created_at__gte=min(t[2] for t in tasks),
                created_at__lte=max(t[2] for t in tasks) + window(),
            )
            .exclude(status="cancelled")
            .values_list("customer_id", "created_at")
        ):
            bought[customer_id].append(at)
        for assigned_to, customer_id, done_at in tasks:
            cell = cells[assigned_to]
            cell["followups_done"] += 1
            if any(done_at < at <= done_at + window() for at in bought.get(customer_id, ())):
                cell["followups_converted"] += 1
    AssociateDay.objects.bulk_create(
        [
            AssociateDay(
                day=day,
                store=store,
                associate_id=associate_id,
                sessions=cell["sessions"],
                actions=cell["actions"],
                credited_orders=cell["credited_orders"],
                credited_store=Decimal(cell["credited_store"]),
                credited_online=Decimal(cell["credited_online"]),
                reversed_store=Decimal(cell["reversed_store"]),
                reversed_online=Decimal(cell["reversed_online"]),
                pickups_handed=cell["pickups_handed"],
                followups_done=cell["followups_done"],
                followups_converted=cell["followups_converted"],
            )
            for associate_id, cell in cells.items()
        ]
    )
