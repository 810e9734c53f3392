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


# --- Appointments ---------------------------------------------------------------------


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clienteling.Topic"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.Sequence(lambda n: f"Topic {n}")
    name_zh = factory.Sequence(lambda n: f"主题 {n}")
    minutes = 60
    buffer_minutes = 0
    skill = None
    set_aside = True


def offer(topic, *stores):
    """The stores offer the topic."""
    from clienteling.models import TopicOffering

    for store in stores:
        TopicOffering.objects.get_or_create(topic=topic, store=store)
    return topic


def works(associate, store, *, weekdays=range(7), starts=(9, 0), ends=(17, 0), pause=None):
    """The associate's working hours at the store: `pause` is ((h, m), (h, m))."""
    from clienteling.models import WorkingHours

    for weekday in weekdays:
        WorkingHours.objects.update_or_create(
            associate=associate,
            weekday=weekday,
            defaults={
                "store": store,
                "starts": dt.time(*starts),
                "ends": dt.time(*ends),
                "break_starts": dt.time(*pause[0]) if pause else None,
                "break_ends": dt.time(*pause[1]) if pause else None,
            },
        )
    return associate


def skilled(user, skill, level):
    """An assessed (official) level, through training's service."""
    from training.services.levels import level_record

    return level_record(
        user=user, skill=skill, level=level, track="official", source="manager", by=None
    )


def associate_at(store, *, first_name=None, last_name=None, **work):
    """A new associate of the store, working there (see `works`)."""
    names = {k: v for k, v in (("first_name", first_name), ("last_name", last_name)) if v}
    person = factories.StaffFactory(role="associate", home_store=store, **names)
    return works(person, store, **work)
