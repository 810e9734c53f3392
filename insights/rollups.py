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
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from insights import segments
from insights.dates import IN_STORE, ONLINE, in_day, local_day, reporting_tz, today
from insights.models import (
    AssociateDay,
    BrowseDay,
    CustomerChannel,
    CustomerSummary,
    DirtyCustomer,
    DirtyDay,
    FulfilmentFact,
    OrderDay,
    PurchaseFact,
    RefreshMark,
    RefundDay,
    SalesDay,
)
from retail.models import Customer, Store

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CUSTOMER_BATCH = 500
PER_STORE_DAY = (SalesDay, OrderDay, RefundDay, FulfilmentFact)
PER_CUSTOMER = (CustomerChannel, CustomerSummary, PurchaseFact, BrowseDay)
BOPIS_METHODS = ("pickup", "ship_to_store")
SHIP_METHODS = ("ship_from_store", "ship_to_home", "drop_ship")


def window() -> dt.timedelta:
    """The journey window (`AISLE_INSIGHTS_WINDOW_DAYS`)."""
    return dt.timedelta(days=settings.AISLE_INSIGHTS_WINDOW_DAYS)


def kept_value(line_total: Decimal, quantity: int, cancelled: int) -> Decimal:
    """What the units of a line the customer kept were paid: the line total less its
    cancelled units, each unit worth the total ÷ quantity rounded down to the cent
    (the last unit taking the remainder), as `orders.services.units_value` spreads it."""
    if cancelled <= 0:
        return line_total
    if cancelled >= quantity:
        return ZERO
    base = (line_total / quantity).quantize(CENT, rounding=ROUND_DOWN)
    return line_total - base * cancelled


def tax_in(amount: Decimal, rate: Decimal) -> Decimal:
    """The tax included in a tax-inclusive amount at `rate` per cent."""
    return (amount * rate / (Decimal(100) + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def _hours(later: dt.datetime | None, earlier: dt.datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return round((later - earlier).total_seconds() / 3600, 4)


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


# --- Journeys --------------------------------------------------------------------------------


def journey_inputs(customer_ids: Iterable[int], since: dt.datetime, until: dt.datetime):
    """Online product views, assisted-selling sessions and kiosk visits (a kiosk order,
    a pickup check-in) of these customers in [since, until], by customer."""
    from clienteling.models import BrowsingEvent, SellingSession
    from orders.models import Fulfillment, Order

    ids = [i for i in set(customer_ids) if i is not None]
    views: dict[int, list] = defaultdict(list)
    touches: dict[int, list] = defaultdict(list)
    if not ids:
        return views, touches
    for row in BrowsingEvent.objects.filter(
        customer_id__in=ids,
        kind="product_view",
        channel__in=ONLINE,
        occurred_at__gte=since,
        occurred_at__lte=until,
    ).values_list(
        "customer_id", "occurred_at", "variant__product_id", "variant__product__category_id"
    ):
        views[row[0]].append(row[1:])
    for customer_id, at in SellingSession.objects.filter(
        customer_id__in=ids, last_action_at__gte=since, last_action_at__lte=until
    ).values_list("customer_id", "last_action_at"):
        touches[customer_id].append(at)
    for customer_id, at in Order.objects.filter(
        customer_id__in=ids, channel="kiosk", created_at__gte=since, created_at__lte=until
    ).values_list("customer_id", "created_at"):
        touches[customer_id].append(at)
    for customer_id, at in Fulfillment.objects.filter(
        order__customer_id__in=ids, checked_in_at__gte=since, checked_in_at__lte=until
    ).values_list("order__customer_id", "checked_in_at"):
        touches[customer_id].append(at)
    return views, touches


def journey(order: dict, views: dict, touches: dict) -> tuple[bool, bool]:
    """(webroomed, showroomed) for one order (see `insights.kpis.webrooming` and
    `showrooming` for the definitions)."""
    customer = order["customer_id"]
    if customer is None:
        return False, False
    at, since = order["at"], order["at"] - window()
    if order["channel"] in IN_STORE:
        webroomed = any(
            since <= seen < at and (product in order["products"] or category in order["categories"])
            for seen, product, category in views.get(customer, ())
        )
        return webroomed, False
    showroomed = any(since <= touched < at for touched in touches.get(customer, ()))
    return False, showroomed


# --- One (store, day) ---------------------------------------------------------------------------


def _delete_day(store_id: int | None, day: dt.date) -> None:
    for model in PER_STORE_DAY:
        model.objects.filter(store_id=store_id, day=day).delete()
    if store_id is not None:
        AssociateDay.objects.filter(store_id=store_id, day=day).delete()


def refresh_day(store_id: int | None, day: dt.date) -> None:
    """Re-compute every per-store-and-day rollup of one key (idempotent)."""
    with transaction.atomic():
        _delete_day(store_id, day)
        store = None
        if store_id is not None:
            store = Store.objects.filter(pk=store_id).first()
            if store is None:
                return
        _sales(store, day)
        if store is not None:
            _associates(store, day)


def _sales(store: Store | None, day: dt.date) -> None:
    from clienteling.models import SalesCredit
    from orders.models import Fulfillment, Order, OrderEvent, OrderLine, Refund
    from returns.models import ReturnLine

    store_id = store.pk if store else None
    orders = {
        row["id"]: row
        for row in Order.objects.filter(
            Q(store_id=store_id) & in_day(store, day, at="created_at", channel="channel")
        ).values("id", "channel", "status", "customer_id", "created_at")
    }
    if orders:
        lines = list(
            OrderLine.objects.filter(
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
        )
    else:
        lines = []

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
    for order in orders.values():
        order.update(at=order["created_at"], products=set(), categories=set())
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

    # Refunds paid this day.
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
    if not orders:
        return

    # Fulfilments of the day's orders, with their timings.
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

    # Orders, with their journeys and what associates were credited for them.
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


# --- Customers ---------------------------------------------------------------------------------


def refresh_customers(ids: Iterable[int]) -> int:
    """Re-compute the per-customer rollups of these customers (idempotent); a customer
    merged into another (the survivor has its orders now), erased or gone keeps none."""
    from clienteling.models import BrowsingEvent, SellingSession
    from orders.models import Fulfillment, Order, OrderLine, Refund

    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return 0
    with transaction.atomic():
        for model in PER_CUSTOMER:
            model.objects.filter(customer_id__in=ids).delete()
        live = list(
            Customer.objects.filter(
                pk__in=ids, merged_into__isnull=True, erased_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if not live:
            return 0
        stores = {s.pk: s for s in Store.objects.all()}
        orders = {
            row["id"]: dict(row, net=ZERO, units=0, returned=0, products=set(), categories=set())
            for row in Order.objects.filter(customer_id__in=live)
            .exclude(status="cancelled")
            .values("id", "customer_id", "channel", "store_id", "created_at")
        }
        for row in OrderLine.objects.filter(order_id__in=list(orders)).values(
            "order_id",
            "quantity",
            "cancelled_quantity",
            "returned_quantity",
            "line_total",
            "variant__product_id",
            "variant__product__category_id",
        ):
            order = orders[row["order_id"]]
            order["net"] += kept_value(
                row["line_total"], row["quantity"], row["cancelled_quantity"]
            )
            order["units"] += row["quantity"] - row["cancelled_quantity"]
            order["returned"] += row["returned_quantity"]
            order["products"].add(row["variant__product_id"])
            order["categories"].add(row["variant__product__category_id"])
        for order_id, refunded in (
            Refund.objects.filter(order_id__in=list(orders))
            .exclude(return_ref="")
            .values("order_id")
            .annotate(total=Sum("amount"))
            .values_list("order_id", "total")
        ):
            orders[order_id]["net"] -= refunded
        for order in orders.values():
            order["at"] = order["created_at"]
            order["day"] = local_day(order["at"], stores.get(order["store_id"]), order["channel"])

        views: dict[int, list] = defaultdict(list)
        for row in BrowsingEvent.objects.filter(
            customer_id__in=live, kind="product_view", channel__in=ONLINE
        ).values_list(
            "customer_id", "occurred_at", "variant__product_id", "variant__product__category_id"
        ):
            views[row[0]].append(row[1:])
        sessions: dict[int, list] = defaultdict(list)
        for customer_id, at in SellingSession.objects.filter(customer_id__in=live).values_list(
            "customer_id", "last_action_at"
        ):
            sessions[customer_id].append(at)
        touches: dict[int, list] = defaultdict(list)
        kiosk_visits: dict[int, int] = defaultdict(int)
        for customer_id, at in Order.objects.filter(
            customer_id__in=live, channel="kiosk"
        ).values_list("customer_id", "created_at"):
            touches[customer_id].append(at)
            kiosk_visits[customer_id] += 1
        for customer_id, at in Fulfillment.objects.filter(
            order__customer_id__in=live, checked_in_at__isnull=False
        ).values_list("order__customer_id", "checked_in_at"):
            touches[customer_id].append(at)
            kiosk_visits[customer_id] += 1
        for customer_id, ats in sessions.items():
            touches[customer_id].extend(ats)

        # An order that moved here with a merge may still be rolled up under the
        # duplicate (marked dirty too, maybe in another batch): it is this customer's now.
        PurchaseFact.objects.filter(order_id__in=list(orders)).delete()
        by_customer: dict[int, list] = defaultdict(list)
        for order in orders.values():
            by_customer[order["customer_id"]].append(order)
        _write_customers(live, by_customer, views, sessions, touches, kiosk_visits)
    return len(live)


def _write_customers(live, by_customer, views, sessions, touches, kiosk_visits) -> None:
    channels, summaries, facts, browse_days = [], [], [], []
    tz = reporting_tz()
    for customer_id in live:
        mine = sorted(by_customer.get(customer_id, []), key=lambda o: (o["at"], o["id"]))
        seen = sorted(views.get(customer_id, []))
        per_channel: dict[str, list] = defaultdict(list)
        webroomed = showroomed = 0
        for order in mine:
            per_channel[order["channel"]].append(order)
            web, show = journey(order, views, touches)
            webroomed += web
            showroomed += show
            facts.append(
                PurchaseFact(
                    order_id=order["id"],
                    customer_id=customer_id,
                    day=order["day"],
                    at=order["at"],
                    channel=order["channel"],
                    net=order["net"],
                    units=order["units"],
                    units_returned=order["returned"],
                )
            )
        for channel, orders in per_channel.items():
            channels.append(
                CustomerChannel(
                    customer_id=customer_id,
                    channel=channel,
                    orders=len(orders),
                    net=sum((o["net"] for o in orders), ZERO),
                    units=sum(o["units"] for o in orders),
                    units_returned=sum(o["returned"] for o in orders),
                    first_at=orders[0]["at"],
                    last_at=orders[-1]["at"],
                )
            )
        summary = CustomerSummary(
            customer_id=customer_id,
            views=len(seen),
            first_view_at=seen[0][0] if seen else None,
            last_view_at=seen[-1][0] if seen else None,
            sessions=len(sessions.get(customer_id, ())),
            kiosk_visits=kiosk_visits.get(customer_id, 0),
            orders=len(mine),
            online_orders=sum(1 for o in mine if o["channel"] in ONLINE),
            store_orders=sum(1 for o in mine if o["channel"] in IN_STORE),
            net=sum((o["net"] for o in mine), ZERO),
            units=sum(o["units"] for o in mine),
            units_returned=sum(o["returned"] for o in mine),
            first_purchase_at=mine[0]["at"] if mine else None,
            last_purchase_at=mine[-1]["at"] if mine else None,
            webroomed_orders=webroomed,
            showroomed_orders=showroomed,
        )
        summary.segment = segments.classify(summary)
        summaries.append(summary)
        # Browsing days and the first order within the window after each day's first view.
        days: dict[dt.date, list] = {}
        for at, _product, _category in seen:
            days.setdefault(at.astimezone(tz).date(), []).append(at)
        for day, ats in days.items():
            first = ats[0]
            bought = next((o for o in mine if first <= o["at"] <= first + window()), None)
            browse_days.append(
                BrowseDay(
                    customer_id=customer_id,
                    day=day,
                    views=len(ats),
                    converted_channel=bought["channel"] if bought else "",
                )
            )
    CustomerChannel.objects.bulk_create(channels)
    CustomerSummary.objects.bulk_create(summaries)
    PurchaseFact.objects.bulk_create(facts)
    BrowseDay.objects.bulk_create(browse_days)


# --- The beat task and the rebuild -----------------------------------------------------------


def _claim_day() -> DirtyDay | None:
    return DirtyDay.objects.select_for_update(skip_locked=True).order_by("day", "pk").first()


def refresh_dirty(*, limit: int = 2000) -> dict[str, int]:
    """Re-compute the dirty days and customers (at most `limit` of each)."""
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
    written by other receivers), and customers with new browsing or sessions since the
    last look."""
    from clienteling.models import BrowsingEvent, SellingSession

    now = timezone.now()
    stores = list(Store.objects.all())
    mark_days([(None, today())] + [(s.pk, today(s)) for s in stores])
    for name, model, field, customer in (
        ("browsing", BrowsingEvent, "received_at", "customer_id"),
        ("sessions", SellingSession, "last_action_at", "customer_id"),
    ):
        with transaction.atomic():
            mark, created = RefreshMark.objects.select_for_update().get_or_create(
                source=name, defaults={"at": now}
            )
            if created:
                continue
            ids = (
                model.objects.filter(**{f"{field}__gt": mark.at, f"{field}__lte": now})
                .exclude(**{f"{customer}__isnull": True})
                .values_list(customer, flat=True)
                .distinct()
            )
            mark_customers(list(ids))
            mark.at = now
            mark.save(update_fields=["at"])


def all_day_keys() -> set[tuple[int | None, dt.date]]:
    """Every (store, day) any record falls on."""
    from clienteling.models import FollowUpTask, SalesCredit, SellingSession
    from orders.models import Order, OrderEvent, Refund
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
    for store_id, channel, at in Refund.objects.values_list(
        "order__store_id", "order__channel", "at"
    ).iterator(chunk_size=5000):
        add(store_id, channel, at)
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
    for n, (store_id, day) in enumerate(keys, 1):
        refresh_day(store_id, day)
        if n % 200 == 0 or n == len(keys):
            say(f"days: {n}/{len(keys)}")
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
    for name in ("browsing", "sessions"):
        RefreshMark.objects.update_or_create(source=name, defaults={"at": now})
    return {"days": len(keys), "customers": len(ids)}
