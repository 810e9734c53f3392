"""Real arguments for the shipping pages in the access matrix
(tests/retail/test_access_matrix.py): a ship-from-store parcel leaving the world's
store S01."""

from __future__ import annotations

from decimal import Decimal

from tests import factories


def _parcel(world):
    if not hasattr(world, "parcel"):
        from inventory.models import StockLocation
        from orders.services import LineInput, OrderInput, order_place

        shelf = StockLocation.objects.get(code=world.store.code)
        shelf.ships_to_customers = True
        shelf.save()
        variant = factories.VariantFactory(price=Decimal("30.00"))
        factories.give_stock(shelf, variant, 2)
        order, _created = order_place(
            OrderInput(
                order_ref="MATRIX-SHIP",
                channel="web",
                customer=world.customer,
                lines=[LineInput(variant, 1, variant.price)],
                method="ship",
                address={
                    "name": "A",
                    "line1": "1 Rue Montorgueil",
                    "city": "Paris",
                    "postcode": "75002",
                    "country": "FR",
                },
                tender="card",
                amount=variant.price,
            )
        )
        world.parcel = order.fulfillments.get()
        assert world.parcel.location_id == shelf.pk
    return world.parcel


def url_kwargs(world, name: str) -> dict:
    return {"fulfillment_id": _parcel(world).pk}
