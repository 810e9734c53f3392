"""Factories for the returns policy tests."""

from __future__ import annotations

from decimal import Decimal

import factory

from orders.models import Order
from returns.models import PolicyException, ReturnPolicy
from tests.factories import CategoryFactory, CustomerFactory


class ReturnPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnPolicy

    category = factory.SubFactory(CategoryFactory)
    window_days = 30


class PolicyExceptionFactory(factory.django.DjangoModelFactory):
    """A customer exception unless told otherwise."""

    class Meta:
        model = PolicyException

    customer = factory.SubFactory(CustomerFactory)
    extra_days = 14
    reason = "Goodwill after a late delivery"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    order_ref = factory.Sequence(lambda n: f"WEB-{n:06d}")
    channel = "web"
    customer = factory.SubFactory(CustomerFactory)
    currency = "GBP"
    subtotal = Decimal("59.90")
    total = Decimal("59.90")
