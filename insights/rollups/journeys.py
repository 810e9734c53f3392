"""Journeys: did a purchase follow an online view (webrooming) or in-store service or a
kiosk visit (showrooming) within the journey window?"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from insights.dates import IN_STORE, ONLINE
from insights.rollups.common import window


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
