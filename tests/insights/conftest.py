"""A small hand-built history (the figures each test expects are worked out by hand in
the test, from the story told here).

Stores: SH (Asia/Shanghai, UTC+8) and NY (America/New_York, UTC−5); online orders are
dated in Europe/Lisbon (UTC in December). Shirts (tax 20 %): A 50.00, B 30.00; home
(tax 10 %): lamp L 80.00. Associates: ann (SH), ben (NY). All times UTC unless said.

- alice views A on the web 30 Nov 10:00; ann serves her at SH 1 Dec 10:00 (serving +
  note). O1: store SH 1 Dec 15:30 (23:30 in Shanghai): 2 × A at 50 (100.00) and L at
  70 (catalog 80): 170.00, credited to ann. O3: web, shipped home from the DC,
  2 Dec 10:00: 3 × B at 30 = 90.00; one B returned at NY 3 Dec 12:00, 30.00 refunded
  to card.
- bob views L on the web 25 Nov. ben's follow-up for bob done at NY 1 Dec 14:00.
  O2: store NY 2 Dec 04:30 (23:30 on 1 Dec in New York): B at 30, credited to ben.
- carol: ann serves her at SH 29 Nov 08:00; she views L on the web 1 Dec 20:00. O4: web,
  pickup at SH, 2 Dec 09:00: L at 80; ready 13:00 (4 h), collected by ann 3 Dec 13:00
  (held 24 h); credited 80.00 to ann.
- dan: O5: app, pickup at SH, 2 Dec 12:00: A at 50; ready 14:00 (2 h), expired —
  the unit cancelled, the order cancelled, 50.00 refunded 3 Dec 12:00.
- erin views L twice on the web 2 Dec (10:00, 11:00); never buys.
- frank: O6 store NY 10 Nov 15:00: L at 80; O7 web, shipped home, 3 Dec 09:00: A at 50.
- gina: O8 web, shipped home, 1 Jun 2026 10:00: A at 50.
- hana views B on the web 2 Dec 08:00; O9: store SH 2 Dec 10:00: B at 30.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests import factories
from tests.insights import factories as f


@dataclass
class World:
    sh: object
    ny: object
    ann: object
    ben: object
    customers: dict
    orders: dict
    variants: dict


@pytest.fixture(autouse=True)
def _reporting_time_zone(settings):
    settings.AISLE_REPORTING_TIME_ZONE = "Europe/Lisbon"
    settings.AISLE_INSIGHTS_WINDOW_DAYS = 14
    settings.AISLE_CURRENCY = "EUR"


@pytest.fixture
def world(db) -> World:
    sh = factories.StoreFactory(code="SH", time_zone="Asia/Shanghai")
    ny = factories.StoreFactory(code="NY", time_zone="America/New_York")
    dc = factories.StockLocationFactory(code="DC1")
    shirts = factories.CategoryFactory(code="shirts", tax_rate=Decimal("20.00"))
    home = factories.CategoryFactory(code="home", tax_rate=Decimal("10.00"))
    a = factories.VariantFactory(product__category=shirts, price=Decimal("50.00"))
    b = factories.VariantFactory(product__category=shirts, price=Decimal("30.00"))
    lamp = factories.VariantFactory(product__category=home, price=Decimal("80.00"))
    ann = factories.StaffFactory(role="associate", home_store=sh, email="ann@test.aisle")
    ben = factories.StaffFactory(role="associate", home_store=ny, email="ben@test.aisle")
    c = {
        name: factories.CustomerFactory(name=name)
        for name in ("alice", "bob", "carol", "dan", "erin", "frank", "gina", "hana")
    }
    o = {}

    # alice
    f.view(c["alice"], a, f.at("2026-11-30 10:00"))
    f.SellingSessionFactory(
        associate=ann,
        store=sh,
        customer=c["alice"],
        opened_at=f.at("2026-12-01 10:00"),
        last_action_at=f.at("2026-12-01 10:00"),
        actions={"serving": 1, "note": 1},
    )
    o[1] = f.sale(
        "store", f.at("2026-12-01 15:30"), [(a, 2, "50.00"), (lamp, 1, "70.00")],
        customer=c["alice"], store=sh,
    )  # fmt: skip
    f.SalesCreditFactory(
        order=o[1], associate=ann, store=sh, channel="store", amount=Decimal("170.00")
    )
    o[3] = f.sale("web", f.at("2026-12-02 10:00"), [(b, 3, "30.00")], customer=c["alice"])
    f.FulfillmentFactory(order=o[3], method="ship_to_home", location=dc, state="delivered")
    f.returned(o[3], o[3].lines.get(), 1, "30.00", f.at("2026-12-03 12:00"), store=ny)

    # bob
    f.view(c["bob"], lamp, f.at("2026-11-25 10:00"))
    f.FollowUpTaskFactory(
        customer=c["bob"], store=ny, assigned_to=ben, done_at=f.at("2026-12-01 14:00")
    )
    o[2] = f.sale("store", f.at("2026-12-02 04:30"), [(b, 1, "30.00")], customer=c["bob"], store=ny)
    f.SalesCreditFactory(order=o[2], associate=ben, store=ny, channel="store", amount=Decimal("30"))

    # carol
    f.SellingSessionFactory(
        associate=ann,
        store=sh,
        customer=c["carol"],
        opened_at=f.at("2026-11-29 08:00"),
        last_action_at=f.at("2026-11-29 08:00"),
    )
    f.view(c["carol"], lamp, f.at("2026-12-01 20:00"))
    o[4] = f.sale(
        "web", f.at("2026-12-02 09:00"), [(lamp, 1, "80.00")], customer=c["carol"], store=sh
    )
    pickup = f.FulfillmentFactory(
        order=o[4],
        pickup_store=sh,
        state="collected",
        ready_at=f.at("2026-12-02 13:00"),
        collected_at=f.at("2026-12-03 13:00"),
    )
    f.OrderEventFactory(
        order=o[4],
        fulfillment=pickup,
        by=ann,
        store=sh,
        from_state="ready",
        to_state="collected",
        at=f.at("2026-12-03 13:00"),
    )
    f.SalesCreditFactory(order=o[4], associate=ann, store=sh, channel="web", amount=Decimal("80"))

    # dan
    o[5] = f.sale(
        "app", f.at("2026-12-02 12:00"), [(a, 1, "50.00", 1)],
        customer=c["dan"], store=sh, status="cancelled",
    )  # fmt: skip
    f.FulfillmentFactory(
        order=o[5], pickup_store=sh, state="expired", ready_at=f.at("2026-12-02 14:00")
    )
    f.RefundFactory(order=o[5], amount=Decimal("50.00"), at=f.at("2026-12-03 12:00"))

    # erin
    f.view(c["erin"], lamp, f.at("2026-12-02 10:00"))
    f.view(c["erin"], lamp, f.at("2026-12-02 11:00"))

    # frank
    o[6] = f.sale(
        "store", f.at("2026-11-10 15:00"), [(lamp, 1, "80.00")], customer=c["frank"], store=ny
    )
    o[7] = f.sale("web", f.at("2026-12-03 09:00"), [(a, 1, "50.00")], customer=c["frank"])
    f.FulfillmentFactory(order=o[7], method="ship_to_home", location=dc, state="delivered")

    # gina
    o[8] = f.sale("web", f.at("2026-06-01 10:00"), [(a, 1, "50.00")], customer=c["gina"])

    # hana
    f.view(c["hana"], b, f.at("2026-12-02 08:00"))
    o[9] = f.sale(
        "store", f.at("2026-12-02 10:00"), [(b, 1, "30.00")], customer=c["hana"], store=sh
    )

    return World(sh, ny, ann, ben, c, o, {"a": a, "b": b, "lamp": lamp})
