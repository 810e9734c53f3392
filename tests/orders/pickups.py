"""Helpers for the pickup tests: a store with a shelf, a DC, products and orders."""

from __future__ import annotations

from decimal import Decimal

from orders import services
from orders.services import LineInput, OrderInput
from tests import factories


def network(store, *, shelf_units=5, dc_units=0):
    """The store's shelf with a jumper and a scarf (and a DC holding `dc_units` of each)."""
    shelf = factories.store_location(store)
    dc = factories.StockLocationFactory(code="DC1")
    jumper = factories.VariantFactory(
        sku=f"JUMPER-{store.code}", price=Decimal("60.00"), product__name="Merino jumper"
    )
    scarf = factories.VariantFactory(
        sku=f"SCARF-{store.code}", price=Decimal("20.00"), product__name="Wool scarf"
    )
    for variant in (jumper, scarf):
        if shelf_units:
            factories.give_stock(shelf, variant, shelf_units)
        if dc_units:
            factories.give_stock(dc, variant, dc_units)
    return {"shelf": shelf, "dc": dc, "jumper": jumper, "scarf": scarf}


def place(store, lines, *, ref="WEB-1", customer=None):
    """A pickup order at `store`: lines are (variant, quantity)."""
    customer = customer or factories.CustomerFactory(name="Ada Lovelace", language="en")
    total = sum(v.price * q for v, q in lines)
    order, _created = services.order_place(
        OrderInput(
            order_ref=ref,
            channel="web",
            customer=customer,
            lines=[LineInput(v, q, v.price) for v, q in lines],
            method="pickup",
            store=store,
            tender="card",
            amount=total,
            payment_reference="psp",
            fingerprint=ref,
        )
    )
    return order


def pick_all(fulfillment, store, by=None):
    from orders import pickup

    for line in fulfillment.lines.select_related("order_line__variant"):
        for _n in range(line.quantity):
            pickup.pickup_scan(
                fulfillment=fulfillment, code=line.order_line.variant.barcode, by=by, store=store
            )


def make_ready(fulfillment, store, by=None):
    from orders import pickup

    pick_all(fulfillment, store, by)
    return pickup.pickup_mark_ready(fulfillment=fulfillment, by=by, store=store)
