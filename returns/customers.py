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
