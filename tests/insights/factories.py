"""Factories for insights' hand-built histories: orders as they end up (lines,
fulfilments, refunds, returns, credits), written directly with the dates a test needs."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import factory

from orders.models import Fulfillment, Order, OrderEvent, OrderLine, Refund
from tests import factories

UTC = dt.UTC


def at(text: str, tz: str = "UTC") -> dt.datetime:
    """`at("2026-12-01 23:30", "Asia/Shanghai")`: an aware datetime."""
    import zoneinfo

    return dt.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo(tz))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    order_ref = factory.Sequence(lambda n: f"INS-{n:06d}")
    channel = "store"
    customer = factory.SubFactory(factories.CustomerFactory)
    currency = "EUR"
    subtotal = Decimal("0.00")
    total = Decimal("0.00")
    status = "completed"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    variant = factory.SubFactory(factories.VariantFactory)
    sku = factory.LazyAttribute(lambda o: o.variant.sku)
    quantity = 1
    catalog_price = factory.LazyAttribute(lambda o: o.variant.price)
    unit_price = factory.LazyAttribute(lambda o: o.catalog_price)
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)
    tax_rate = factory.LazyAttribute(lambda o: o.variant.product.category.tax_rate)
    tax_amount = factory.LazyAttribute(
        lambda o: (o.line_total * o.tax_rate / (100 + o.tax_rate)).quantize(Decimal("0.01"))
    )
    received_quantity = factory.LazyAttribute(lambda o: o.quantity - o.cancelled_quantity)
    cancelled_quantity = 0


class FulfillmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fulfillment

    order = factory.SubFactory(OrderFactory)
    method = "pickup"
    location = factory.LazyAttribute(lambda o: factories.store_location(o.pickup_store))
    pickup_store = None
    state = "collected"


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    order = factory.SubFactory(OrderFactory)
    amount = Decimal("10.00")
    reason = "test"
    tender = "card"


class OrderEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderFactory)
    kind = "fulfillment_changed"


class ReturnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "returns.Return"

    return_ref = factory.Sequence(lambda n: f"RET-{n:06d}")
    code = factory.Sequence(lambda n: f"C{n:08d}")
    state = "completed"
    started_via = "counter"


class ReturnLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "returns.ReturnLine"

    variant = factory.LazyAttribute(lambda o: o.order_line.variant)
    sku = factory.LazyAttribute(lambda o: o.order_line.sku)
    quantity = 1
    reason = "size"


class SellingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clienteling.SellingSession"

    actions = factory.LazyFunction(lambda: {"serving": 1})


class SalesCreditFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clienteling.SalesCredit"

    share = Decimal("100")
    reason = "served"


class FollowUpTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clienteling.FollowUpTask"

    title = "Call back"
    due_on = dt.date(2026, 12, 1)
    state = "done"


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "training.Certification"

    course = factory.SubFactory(factories.CourseFactory)
    number = factory.Sequence(lambda n: f"CERT-{n:06d}")
    issued_at = factory.LazyFunction(lambda: dt.datetime.now(UTC) - dt.timedelta(days=10))
    expires_at = factory.LazyFunction(lambda: dt.datetime.now(UTC) + dt.timedelta(days=300))


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "training.Enrolment"

    course = factory.SubFactory(factories.CourseFactory)
    source = "self"


def view(customer, variant, when, channel="web"):
    from tests.clienteling.factories import BrowsingEventFactory

    return BrowsingEventFactory(
        customer=customer, variant=variant, occurred_at=when, channel=channel, event_id=uuid.uuid4()
    )


def sale(channel, when, lines, *, customer=None, store=None, status="completed", **kwargs):
    """An order placed `when` with `lines` = [(variant, quantity, unit_price[, cancelled])]."""
    order = OrderFactory(
        channel=channel, created_at=when, customer=customer, store=store, status=status, **kwargs
    )
    total = Decimal("0.00")
    for line in lines:
        variant, quantity, price, *rest = line
        cancelled = rest[0] if rest else 0
        OrderLineFactory(
            order=order,
            variant=variant,
            quantity=quantity,
            unit_price=Decimal(price),
            cancelled_quantity=cancelled,
        )
        total += Decimal(price) * quantity
    Order.objects.filter(pk=order.pk).update(subtotal=total, total=total)
    order.refresh_from_db()
    return order


def returned(order, line, units, refund, when, *, store=None, tender="card"):
    """A completed return of `units` of `line`, refunded `refund` on `when`."""
    ret = ReturnFactory(
        order=order,
        customer=order.customer,
        order_channel=order.channel,
        store=store,
        location=factories.store_location(store) if store else None,
        refund_amount=Decimal(refund),
        completed_at=when,
        created_at=when,
    )
    ReturnLineFactory(
        ret=ret,
        order_line=line,
        quantity=units,
        refund_amount=Decimal(refund),
        category=line.variant.product.category,
    )
    OrderLine.objects.filter(pk=line.pk).update(
        claimed_quantity=line.claimed_quantity + units,
        returned_quantity=line.returned_quantity + units,
    )
    RefundFactory(
        order=order, amount=Decimal(refund), at=when, tender=tender, return_ref=ret.return_ref
    )
    return ret
