"""What `orders` keeps about a customer, for the data rights (`retail.data_rights`):
orders (kept for accounting, anonymised on erasure) and store credit."""

from __future__ import annotations

from orders import shapes
from orders.models import Order, OrderStatus, StoreCredit, StoreCreditEntry
from retail.data_rights import webhook_bodies_redact
from retail.models import Customer


def orders_export(customer: Customer) -> list[dict]:
    result = []
    for order in Order.objects.filter(customer=customer).order_by("created_at", "pk"):
        loaded = shapes.load_order(order.order_ref)
        shape = shapes.order_shape(loaded)
        shape["delivery_address"] = order.address
        shape["store"] = order.store.code if order.store_id else None
        result.append(shape)
    return result


def orders_blocks(customer: Customer) -> dict:
    """Open orders block an erasure (they still need the customer's contact)."""
    refs = list(
        Order.objects.filter(customer=customer, status=OrderStatus.OPEN)
        .order_by("order_ref")
        .values_list("order_ref", flat=True)
    )
    return {"orders": refs} if refs else {}


def orders_erase(customer: Customer) -> None:
    """Orders stay with their totals, lines, tax, payments and refunds, without the
    person: no customer, no delivery address; kept webhook bodies lose the reference."""
    ids = list(Order.objects.filter(customer=customer).values_list("pk", flat=True))
    if not ids:
        return
    from orders.webhooks import SUBJECT

    refs = {customer.customer_ref} if customer.customer_ref else set()
    webhook_bodies_redact(subject_type=SUBJECT, subject_ids=ids, refs=refs)
    Order.objects.filter(pk__in=ids).update(customer=None, address=None)


def credit_export(customer: Customer) -> dict | None:
    account = StoreCredit.objects.filter(customer=customer).first()
    if account is None:
        return None
    return {
        "balance": str(account.balance),
        "entries": [
            {
                "at": e.at,
                "kind": e.kind,
                "amount": str(e.amount),
                "balance_after": str(e.balance_after),
                "order_ref": e.order.order_ref if e.order_id else None,
                "return_ref": e.return_ref,
            }
            for e in StoreCreditEntry.objects.filter(account=account)
            .select_related("order")
            .order_by("at", "pk")
        ],
    }


def credit_blocks(customer: Customer) -> dict:
    """An unspent balance blocks an erasure (it is the customer's money)."""
    account = StoreCredit.objects.filter(customer=customer, balance__gt=0).first()
    return {"store_credit": str(account.balance)} if account else {}


def credit_erase(customer: Customer) -> None:
    """Nothing to remove: the ledger (its balance zero, or the erasure is blocked) is
    append-only and stays for accounting on the tombstone profile, which has no name
    or contact any more; it holds amounts, order and return references only."""


def active_since(since):
    """Customers who placed an order since then (`retail.retention`)."""
    return Order.objects.filter(created_at__gte=since, customer__isnull=False).values("customer_id")
