"""What `returns` keeps about a customer, for `retail.customer_data` (registered in
`ReturnsConfig.ready`): the policy exceptions HQ granted them. Returns themselves
point at orders, which `orders` moves on a merge."""

from __future__ import annotations

from returns.models import PolicyException


def merge_customer(*, survivor, duplicate) -> None:
    """A merged customer's exceptions follow them to the surviving profile."""
    PolicyException.objects.filter(customer=duplicate).update(customer=survivor)


def count_customer(customer) -> int:
    return PolicyException.objects.filter(customer=customer).count()


# --- Data rights (`retail.data_rights`) ---------------------------------------------


def _returns_of(customer):
    from django.db.models import Q

    from returns.models import Return

    return Return.objects.filter(Q(customer=customer) | Q(order__customer=customer)).distinct()


def returns_export(customer) -> list[dict]:
    from returns import shapes

    return [
        {
            **shapes.return_shape(shapes.load_return(ret.return_ref)),
            "store": ret.store.code if ret.store_id else None,
            "decision_reason": ret.decision_reason,
        }
        for ret in _returns_of(customer).select_related("store").order_by("created_at", "pk")
    ]


def returns_blocks(customer) -> dict:
    """A return not yet finished (requested, awaiting approval) blocks an erasure."""
    from returns.models import OPEN_STATES

    refs = sorted(
        _returns_of(customer).filter(state__in=OPEN_STATES).values_list("return_ref", flat=True)
    )
    return {"returns": refs} if refs else {}


def returns_erase(customer) -> None:
    """Returns stay for accounting (lines, refunds, tax), without the person; they
    keep no contact data of their own."""
    from returns.models import Return

    Return.objects.filter(customer=customer).update(customer=None)


def exceptions_export(customer) -> list[dict]:
    return [
        {
            "order_ref": e.order.order_ref if e.order_id else None,
            "purchased_from": e.purchased_from,
            "purchased_to": e.purchased_to,
            "extra_days": e.extra_days,
            "final_sale_waived": e.waive_final_sale,
            "valid_until": e.valid_until,
            "reason": e.reason,
        }
        for e in PolicyException.objects.filter(customer=customer).select_related("order")
    ]


def exceptions_erase(customer) -> None:
    """HQ's policy exceptions for this customer are deleted."""
    PolicyException.objects.filter(customer=customer).delete()
