"""Finance's small hand-built history, made through the real services at the moments a
test needs (`time_machine`), so payments, refunds and the store-credit ledger are
what the shop writes. Online orders are dated in Europe/Lisbon (UTC in December, the
insights conftest); NY is America/New_York (UTC−5), SH Asia/Shanghai (UTC+8).

Shirt A 50.00 (tax 20 %), lamp L 80.00 (tax 10 %). Times UTC unless said.

- 30 Nov 09:00: goodwill — alice gets 40.00 of store credit, at no store.
- S1, 2 Dec 04:30 (23:30 on 1 Dec in New York): alice's till sale at NY, A + L =
  130.00, paid 90.00 by card and 40.00 with her store credit.
- W1, 2 Dec 10:00: bob's web order shipped from the DC, 2 × A + L = 180.00 by card;
  delivered.
- P1, 2 Dec 11:00: carol's web order to collect at SH, L 80.00 by card; cancelled
  at 12:00 — 80.00 refunded to the card.
- 3 Dec 12:00: bob returns one A of W1 at NY, refunded to his card: 50.00 (8.33 tax).
- 4 Dec 15:00 (10:00 in New York): alice returns S1's lamp at NY as store credit:
  80.00 (7.27 tax) — the refund goes back against the card as credit, and 80.00 is
  issued to her balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import time_machine

from orders import credit
from orders import services as order_services
from orders.models import State
from orders.services import LineInput, OrderInput, PaymentInput
from returns import services as return_services
from returns.services import LineAsk
from tests import factories
from tests.insights import factories as f

ADDRESS = {
    "name": "Bob",
    "line1": "1 Rue Montorgueil",
    "city": "Paris",
    "postcode": "75002",
    "country": "FR",
}


@dataclass
class Books:
    ny: object
    sh: object
    a: object
    lamp: object
    clerk: object
    customers: dict
    orders: dict


def travel(when):
    return time_machine.travel(when, tick=False)


def build() -> Books:
    ny = factories.StoreFactory(code="NY", time_zone="America/New_York")
    sh = factories.StoreFactory(code="SH", time_zone="Asia/Shanghai")
    dc = factories.StockLocationFactory(code="DC1", ships_to_customers=True)
    shirts = factories.CategoryFactory(code="shirts", tax_rate=Decimal("20.00"))
    home = factories.CategoryFactory(code="home", tax_rate=Decimal("10.00"))
    a = factories.VariantFactory(product__category=shirts, price=Decimal("50.00"))
    lamp = factories.VariantFactory(product__category=home, price=Decimal("80.00"))
    for location in (dc, factories.store_location(ny), factories.store_location(sh)):
        factories.give_stock(location, a, 10)
        factories.give_stock(location, lamp, 10)
    clerk = factories.StaffFactory(role="associate", home_store=ny)
    c = {name: factories.CustomerFactory(name=name) for name in ("alice", "bob", "carol")}
    o = {}

    with travel(f.at("2026-11-30 09:00")):
        credit.credit_issue(customer=c["alice"], amount=Decimal("40.00"), reason="goodwill")
    with travel(f.at("2026-12-02 04:30")):
        o["S1"] = place(
            "S1", "store", c["alice"], [(a, 1), (lamp, 1)], method="carry_out", store=ny,
            split=[PaymentInput("card", Decimal("90.00")),
                   PaymentInput("store_credit", Decimal("40.00"))],
        )  # fmt: skip
    with travel(f.at("2026-12-02 10:00")):
        o["W1"] = place("W1", "web", c["bob"], [(a, 2), (lamp, 1)], method="ship")
        for fulfilment in o["W1"].fulfillments.all():
            for to in (State.PICKING, State.PACKED, State.SHIPPED, State.DELIVERED):
                fulfilment = order_services.fulfillment_transition(
                    fulfillment=fulfilment, to=to, by=None
                )
    with travel(f.at("2026-12-02 11:00")):
        o["P1"] = place("P1", "web", c["carol"], [(lamp, 1)], method="pickup", store=sh)
    with travel(f.at("2026-12-02 12:00")):
        order_services.order_cancel(order=o["P1"], by=None, reason="changed her mind")
    with travel(f.at("2026-12-03 12:00")):
        give_back(o["W1"], a, "R-W1", ny, clerk, "original")
    with travel(f.at("2026-12-04 15:00")):
        give_back(o["S1"], lamp, "R-S1", ny, clerk, "store_credit")
    return Books(ny, sh, a, lamp, clerk, c, o)


def place(ref, channel, customer, lines, *, method, store=None, split=()):
    total = sum((v.price * q for v, q in lines), Decimal("0.00"))
    order, _created = order_services.order_place(
        OrderInput(
            order_ref=ref,
            channel=channel,
            customer=customer,
            lines=[LineInput(v, q, v.price) for v, q in lines],
            method=method,
            store=store,
            address=ADDRESS if method == "ship" else None,
            tender="card",
            amount=total,
            split=split,
        )
    )
    return order


def give_back(order, variant, ref, store, by, refund_to, units=1):
    line = order.lines.get(variant=variant)
    ret, _created = return_services.return_at_counter(
        order=order,
        asks=[LineAsk(quantity=units, reason="size", order_line=line)],
        store=store,
        by=by,
        return_ref=ref,
        refund_to=refund_to,
    )
    assert ret.state == "completed", ret.state
    return ret
