"""Orders that returns take back: a web order delivered to a home address, a pickup
collected in store; a second store to return them at."""

from __future__ import annotations

from decimal import Decimal

from orders import services
from orders.models import State
from orders.services import LineInput, OrderInput
from tests import factories

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Rue Montorgueil",
    "city": "Paris",
    "postcode": "75002",
    "country": "FR",
}


def network(*, units=10):
    """Two stores with shelves, a DC that ships, a jumper (60.00, 20 % tax) and a scarf."""
    s1 = factories.StoreFactory(code="S01", name="Aisle Soho")
    s2 = factories.StoreFactory(code="S02", name="Aisle Lyon", time_zone="Europe/Paris")
    shelf1, shelf2 = factories.store_location(s1), factories.store_location(s2)
    dc = factories.StockLocationFactory(code="DC1", ships_to_customers=True)
    category = factories.CategoryFactory(tax_rate=Decimal("20.00"))
    jumper = factories.VariantFactory(
        sku="JUMPER-M", price=Decimal("60.00"), product__category=category
    )
    scarf = factories.VariantFactory(
        sku="SCARF-1", price=Decimal("20.00"), product__category=category
    )
    for variant in (jumper, scarf):
        factories.give_stock(dc, variant, units)
        factories.give_stock(shelf1, variant, units)
        factories.give_stock(shelf2, variant, units)
    return {
        "s1": s1,
        "s2": s2,
        "shelf1": shelf1,
        "shelf2": shelf2,
        "dc": dc,
        "jumper": jumper,
        "scarf": scarf,
    }


def delivered(lines, *, ref="WEB-1", customer=None, discount=Decimal("0.00"), payments=None):
    """A web order shipped from the DC and delivered: lines are (variant, quantity)."""
    customer = customer or factories.CustomerFactory(name="Ada Lovelace", language="en")
    total = sum((v.price * q for v, q in lines), Decimal("0.00")) - discount
    order, _created = services.order_place(
        OrderInput(
            order_ref=ref,
            channel="web",
            customer=customer,
            lines=[LineInput(v, q, v.price) for v, q in lines],
            method="ship",
            address=ADDRESS,
            discount=discount,
            tender="card",
            amount=total,
            payment_reference="psp",
            fingerprint=ref,
        )
    )
    if payments:  # several tenders: the first payment replaced by these
        from orders.models import Payment

        order.payments.all().delete()
        for tender, amount in payments:
            Payment.objects.create(order=order, tender=tender, amount=amount)
    for f in order.fulfillments.all():
        for to in (State.PICKING, State.PACKED, State.SHIPPED, State.DELIVERED):
            f = services.fulfillment_transition(fulfillment=f, to=to, by=None)
    order.refresh_from_db()
    return order
