"""Factories for clienteling's tests."""

import datetime as dt
import uuid

import factory
from django.utils import timezone

from tests import factories


class BrowsingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clienteling.BrowsingEvent"

    event_id = factory.LazyFunction(uuid.uuid4)
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    kind = "product_view"
    channel = "web"
    customer = factory.SubFactory(factories.CustomerFactory)
    variant = factory.SubFactory(factories.VariantFactory)
    sku = factory.LazyAttribute(lambda o: o.variant.sku if o.variant else "")


def sale(customer, variant, *, store, when=None, ref=None):
    """A till sale (carry-out) of one unit, dated `when`."""
    from orders.models import Order
    from orders.services import LineInput, OrderInput, order_place

    factories.give_stock(factories.store_location(store), variant, 1)
    order, _ = order_place(
        OrderInput(
            order_ref=ref or f"T-{uuid.uuid4().hex[:10]}",
            channel="store",
            customer=customer,
            lines=[LineInput(variant, 1, variant.price)],
            method="carry_out",
            store=store,
            tender="card",
            amount=variant.price,
        )
    )
    if when is not None:
        Order.objects.filter(pk=order.pk).update(created_at=when)
    return order
