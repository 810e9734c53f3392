"""Real arguments for the returns pages in the access matrix
(tests/retail/test_access_matrix.py): a web order delivered to the world's customer
and a return of it started online."""

from __future__ import annotations

from decimal import Decimal

from tests import factories


def _returned(world):
    if not hasattr(world, "returned"):
        from returns import services
        from returns.services import LineAsk
        from tests.returns import world as returns_world

        dc = factories.StockLocationFactory(code="DC-RET", ships_to_customers=True)
        variant = factories.VariantFactory(price=Decimal("30.00"))
        factories.give_stock(dc, variant, 2)
        order = returns_world.delivered([(variant, 1)], ref="MATRIX-RET", customer=world.customer)
        ret, _created = services.return_request(
            order=order,
            return_ref="MATRIX-RET-1",
            asks=[LineAsk(quantity=1, reason="size", order_line=order.lines.get())],
        )
        world.returned = (order, ret)
    return world.returned


def url_kwargs(world, name: str) -> dict:
    order, ret = _returned(world)
    if name == "returns_store:signals_clear":
        return {"customer_id": world.customer.pk}
    if name.startswith("returns_store:order") or name == "returns_store:preview":
        return {"order_id": order.pk}
    return {"pk": ret.pk}
