"""Demo orders for `seed_demo`: each part of `orders` seeds its own."""

from __future__ import annotations

from orders.pickup import demo as pickup_demo
from retail.demo import DemoContext


def seed(ctx: DemoContext) -> None:
    pickup_demo.seed(ctx)
