"""Where clienteling served a customer, for HQ's audit alerts
(`retail.audit.register_served`): notes, follow-up tasks, outreach and carts."""

from __future__ import annotations

from clienteling.models import Cart, FollowUpTask, Note, Outreach


def served_pairs(customer_ids: set[int], store_ids: set[int]) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for model in (Note, FollowUpTask, Outreach, Cart):
        rows = model.objects.filter(customer__in=customer_ids, store__in=store_ids)
        found |= set(rows.values_list("customer", "store").distinct())
    return found
