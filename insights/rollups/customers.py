"""Per customer: channels, summary (with the segment), purchases and browsing days."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Sum

from insights import segments
from insights.dates import IN_STORE, ONLINE, local_day, reporting_tz
from insights.models import (
    BrowseDay,
    CustomerChannel,
    CustomerSummary,
    PurchaseFact,
)
from insights.rollups.common import PER_CUSTOMER, ZERO, kept_value, window
from insights.rollups.journeys import journey
from retail.models import Customer, Store

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
