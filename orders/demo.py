"""Demo orders for `seed_demo`: each part of `orders` seeds its own."""

from __future__ import annotations

from decimal import Decimal

from orders import credit
from orders.models import CreditKind, StoreCreditEntry
from orders.pickup import demo as pickup_demo
from retail.demo import DemoContext
from retail.models import Customer

# A few online customers with store credit to spend: (amount, why it was given).
CREDIT = [
    (Decimal("25.00"), "goodwill: a late delivery"),
    (Decimal("40.00"), "goodwill: a damaged parcel"),
    (Decimal("12.50"), "goodwill: a price promise"),
]


def seed(ctx: DemoContext) -> None:
    pickup_demo.seed(ctx)
    seed_store_credit(ctx)


def seed_store_credit(ctx: DemoContext) -> None:
    """Issued through `orders.credit` like any credit; run twice, issued once (an entry
    with the same reason for the customer is there already)."""
    customers = list(
        Customer.objects.filter(merged_into__isnull=True)
        .exclude(customer_ref=None)
        .order_by("-pk")[: len(CREDIT)]
    )
    issued = 0
    for customer, (amount, reason) in zip(customers, CREDIT, strict=False):
        if StoreCreditEntry.objects.filter(
            account__customer=customer, kind=CreditKind.ISSUED, reason=reason
        ).exists():
            continue
        credit.credit_issue(customer=customer, amount=amount, reason=reason)
        issued += 1
    ctx.stdout.write(f"  {issued} demo store credit balances issued")
