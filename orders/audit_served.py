"""Where orders served a customer, for HQ's audit alerts (`retail.audit.register_served`)."""

from __future__ import annotations

from orders.models import Fulfillment, Order


def served_pairs(customer_ids: set[int], store_ids: set[int]) -> set[tuple[int, int]]:
    """(customer, store) pairs with an order placed or sold at the store, or a pickup there."""
    orders = Order.objects.filter(customer__in=customer_ids, store__in=store_ids).values_list(
        "customer", "store"
    )
    pickups = Fulfillment.objects.filter(
        order__customer__in=customer_ids, pickup_store__in=store_ids
    ).values_list("order__customer", "pickup_store")
    return set(orders.distinct()) | set(pickups.distinct())
