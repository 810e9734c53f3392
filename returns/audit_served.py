"""Where returns served a customer, for HQ's audit alerts (`retail.audit.register_served`)."""

from __future__ import annotations

from returns.models import Return


def served_pairs(customer_ids: set[int], store_ids: set[int]) -> set[tuple[int, int]]:
    """(customer, store) pairs with a return received at the store."""
    rows = Return.objects.filter(customer__in=customer_ids, store__in=store_ids)
    return set(rows.values_list("customer", "store").distinct())
