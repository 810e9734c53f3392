"""Insights' part of a customer's data rights (`retail.customer_data`).

The per-customer rollups are figures derived from the customer's orders and browsing:
a merge re-computes them for the survivor (the duplicate keeps none), an export
shows them, an erasure deletes them (the per-store figures hold no customer)."""

from __future__ import annotations

from insights import rollups
from insights.models import (
    BrowseDay,
    CustomerChannel,
    CustomerSummary,
    DirtyCustomer,
    PurchaseFact,
)
from retail.models import Customer

PER_CUSTOMER = (CustomerChannel, CustomerSummary, PurchaseFact, BrowseDay, DirtyCustomer)


def merge(*, survivor: Customer, duplicate: Customer) -> None:
    """Inside the merge's transaction: the duplicate's rollups go, both are
    re-computed by the next refresh."""
    for model in PER_CUSTOMER:
        model.objects.filter(customer=duplicate).delete()
    rollups.mark_customers([survivor.pk, duplicate.pk])


def count(customer: Customer) -> int:
    return PurchaseFact.objects.filter(customer=customer).count()


def export(customer: Customer) -> dict:
    summary = CustomerSummary.objects.filter(customer=customer).first()
    return {
        "segment": summary.segment if summary else "",
        "summary": (
            {
                "orders": summary.orders,
                "net_revenue": f"{summary.net:.2f}",
                "online_product_views": summary.views,
                "assisted_sessions": summary.sessions,
                "first_purchase_at": summary.first_purchase_at,
                "last_purchase_at": summary.last_purchase_at,
            }
            if summary
            else None
        ),
        "channels": [
            {
                "channel": row.channel,
                "orders": row.orders,
                "net_revenue": f"{row.net:.2f}",
                "first_at": row.first_at,
                "last_at": row.last_at,
            }
            for row in CustomerChannel.objects.filter(customer=customer).order_by("channel")
        ],
    }


def erase(customer: Customer) -> None:
    for model in PER_CUSTOMER:
        model.objects.filter(customer=customer).delete()
