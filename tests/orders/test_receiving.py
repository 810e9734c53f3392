"""Receiving a ship-to-store parcel with units short (never arrived) or damaged: the
discrepancy on the order and in HQ's list, damaged units through the ledger into the
store's hold, short units written off, and the order's missing units re-sourced or
cancelled with a refund."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from inventory.models import LocationKind, StockLevel, StockLocation, StockMovement
from orders import services
from orders.models import (
    Fulfillment,
    Method,
    OrderEvent,
    ReceivingDiscrepancy,
    Refund,
    State,
)
from orders.services import LineInput, OrderInput
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def net(store, other_store):
    dc = factories.StockLocationFactory(code="DC1")
    s01 = factories.store_location(store, receives_transfers=True)
    s02 = factories.store_location(other_store, receives_transfers=True)
    return {
        "dc": dc,
        "s01": s01,
        "s02": s02,
        "customer": factories.CustomerFactory(),
        "coat": factories.VariantFactory(sku="COAT-M", price=Decimal("120.00")),
        "scarf": factories.VariantFactory(sku="SCARF", price=Decimal("20.00")),
    }


def place(net, ref, store, lines):
    total = sum(v.price * q for v, q in lines)
    order, _created = services.order_place(
        OrderInput(
            order_ref=ref,
            channel="web",
            customer=net["customer"],
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


def in_transit(net, ref, store, lines) -> Fulfillment:
    """A ship-to-store order from the DC, sent and on the road."""
    order = place(net, ref, store, lines)
    f = order.fulfillments.get()
    assert (f.method, f.location) == (Method.SHIP_TO_STORE, net["dc"])
    services.fulfillment_transition(fulfillment=f, to=State.IN_TRANSIT, by=None)
    return Fulfillment.objects.get(pk=f.pk)


def scan_all(c, f, variant, n):
    for _i in range(n):
        assert (
            c.post(reverse("ship:scan", args=[f.pk]), {"code": variant.barcode}).status_code == 200
        )


def figures(location, variant):
    level = StockLevel.objects.filter(location=location, variant=variant).first()
    return (level.on_hand, level.reserved) if level else (0, 0)


def ledger(location, variant):
    return list(
        StockMovement.objects.filter(location=location, variant=variant)
        .order_by("pk")
        .values_list("kind", "on_hand_delta", "reserved_delta")
    )


def hold_of(net):
    return StockLocation.objects.get(code=f"{net['s01'].code}-HOLD")


def form(f, **per_line):
    """{"good-<line>": n, ...} for every line of `f`, from per_line[sku] = (g, s, d)."""
    data = {}
    for line in f.lines.select_related("order_line"):
        good, short, damaged = per_line.get(line.order_line.sku, (line.quantity, 0, 0))
        data.update(
            {f"good-{line.pk}": good, f"short-{line.pk}": short, f"damaged-{line.pk}": damaged}
        )
    return data


def test_all_good_is_received_as_before(net, store, associate, client, assert_ledger_reconciles):
    factories.give_stock(net["dc"], net["coat"], 5)
    f = in_transit(net, "RCV-OK", store, [(net["coat"], 2)])
    client.force_login(associate)
    scan_all(client, f, net["coat"], 2)
    page = client.get(reverse("ship:detail", args=[f.pk])).content.decode()
    assert f'name="good-{f.lines.get().pk}" value="2"' in page  # all good by default
    response = client.post(reverse("ship:receive", args=[f.pk]), form(f))
    assert response.status_code == 302
    f.refresh_from_db()
    assert (f.state, f.location) == (State.PICKING, net["s01"])
    assert figures(net["s01"], net["coat"]) == (2, 2)
    assert not ReceivingDiscrepancy.objects.exists()
    assert not StockLocation.objects.filter(kind=LocationKind.HOLD).exists()
    assert not Refund.objects.exists()
    assert_ledger_reconciles()


def test_short_and_damaged_units_go_through_the_ledger_and_are_re_sourced(
    net, store, associate, client, assert_ledger_reconciles
):
    factories.give_stock(net["dc"], net["coat"], 7)
    factories.give_stock(net["dc"], net["scarf"], 2)
    f = in_transit(net, "RCV-1", store, [(net["coat"], 4), (net["scarf"], 2)])
    assert figures(net["dc"], net["coat"]) == (3, 0)
    client.force_login(associate)
    scan_all(client, f, net["coat"], 1)
    scan_all(client, f, net["scarf"], 2)
    data = form(f, **{"COAT-M": (1, 2, 1)})
    data["note"] = "box crushed, two missing"
    response = client.post(reverse("ship:receive", args=[f.pk]), data)
    assert response.status_code == 302

    f.refresh_from_db()
    assert (f.state, f.location) == (State.PICKING, net["s01"])
    assert sorted(f.lines.values_list("order_line__variant__sku", "quantity")) == [
        ("COAT-M", 1),
        ("SCARF", 2),
    ]
    # Good units reserved on the shelf; the damaged one in the hold, not sellable.
    assert figures(net["s01"], net["coat"]) == (1, 1)
    assert figures(net["s01"], net["scarf"]) == (2, 2)
    hold = hold_of(net)
    assert hold.kind == LocationKind.HOLD and not hold.sellable_online
    assert figures(hold, net["coat"]) == (1, 0)
    assert ledger(hold, net["coat"]) == [
        ("transfer_in", 1, 0),  # damaged, kept in the hold
        ("transfer_in", 2, 0),  # short: in from the road ...
        ("adjustment", -2, 0),  # ... and written off
    ]
    reasons = list(
        StockMovement.objects.filter(location=hold).order_by("pk").values_list("reason", flat=True)
    )
    assert reasons[0].startswith("damaged on arrival at S01 from DC1")
    assert reasons[2].startswith("written off: never arrived at S01 from DC1")
    # What left the DC equals what arrived plus what was written off.
    out = -sum(d for k, d, _r in ledger(net["dc"], net["coat"]) if k == "transfer_out")
    arrived = sum(
        d
        for loc in (net["s01"], hold)
        for k, d, _r in ledger(loc, net["coat"])
        if k == "transfer_in"
    )
    assert out == arrived == 4

    # The three missing coats are re-sourced: the DC sends three more; nothing refunded.
    d = ReceivingDiscrepancy.objects.get()
    assert (d.sent, d.good, d.short, d.damaged, d.resourced, d.cancelled) == (4, 1, 2, 1, 3, 0)
    assert (d.store, d.from_location, d.by, d.note) == (
        store,
        net["dc"],
        associate,
        "box crushed, two missing",
    )
    new = f.order.fulfillments.exclude(pk=f.pk).get()
    assert (new.method, new.location, new.state, new.pickup_store) == (
        Method.SHIP_TO_STORE,
        net["dc"],
        State.RESERVED,
        store,
    )
    assert new.lines.get().quantity == 3
    assert new.events.get().reason == (
        "replaces units received short or damaged at S01: 2 × COAT-M short, 1 × COAT-M damaged"
    )
    assert figures(net["dc"], net["coat"]) == (3, 3)
    assert f.order.lines.get(variant=net["coat"]).cancelled_quantity == 0
    assert not Refund.objects.filter(order=f.order).exists()
    event = OrderEvent.objects.get(kind="receiving_discrepancy")
    assert (event.by, event.store, event.fulfillment_id) == (associate, store, f.pk)
    assert "1 × COAT-M damaged" in event.reason and "2 × COAT-M short" in event.reason
    assert "box crushed" in event.reason
    f.order.refresh_from_db()
    assert f.order.status == "open"
    # A replay (double tap) changes nothing more.
    assert client.post(reverse("ship:receive", args=[f.pk]), data).status_code == 302
    assert ReceivingDiscrepancy.objects.count() == 1
    assert StockMovement.objects.filter(location=hold).count() == 3
    assert_ledger_reconciles()


def test_missing_units_come_from_the_stores_own_shelf_when_it_has_them(
    net, store, associate, client, assert_ledger_reconciles
):
    factories.give_stock(net["dc"], net["scarf"], 3)
    f = in_transit(net, "RCV-SHELF", store, [(net["scarf"], 3)])
    factories.give_stock(net["s01"], net["scarf"], 4)  # stock arrived on the shelf since
    client.force_login(associate)
    scan_all(client, f, net["scarf"], 2)
    response = client.post(reverse("ship:receive", args=[f.pk]), form(f, SCARF=(2, 0, 1)))
    assert response.status_code == 302
    new = f.order.fulfillments.exclude(pk=f.pk).get()
    assert (new.method, new.location, new.lines.get().quantity) == (
        Method.PICKUP,
        net["s01"],
        1,
    )
    assert figures(net["s01"], net["scarf"]) == (6, 3)  # 2 received + 1 from the shelf
    assert not Refund.objects.exists()
    d = ReceivingDiscrepancy.objects.get()
    assert (d.resourced, d.cancelled) == (1, 0)
    assert_ledger_reconciles()


def test_nothing_good_with_no_stock_anywhere_cancels_and_refunds_the_order(
    net, store, associate, client, assert_ledger_reconciles
):
    factories.give_stock(net["dc"], net["coat"], 2)
    f = in_transit(net, "RCV-NONE", store, [(net["coat"], 2)])
    client.force_login(associate)
    response = client.post(reverse("ship:receive", args=[f.pk]), form(f, **{"COAT-M": (0, 1, 1)}))
    f.refresh_from_db()
    assert f.state == State.CANCELLED and not f.lines.exists()
    assert response.status_code == 302
    # The store still finds the parcel, with what was found.
    page = client.get(response["Location"]).content.decode()
    assert "Cancelled" in page and 'id="discrepancies"' in page
    f.order.refresh_from_db()
    assert f.order.status == "cancelled"
    assert f.order.lines.get().cancelled_quantity == 2
    assert sum(r.amount for r in Refund.objects.filter(order=f.order)) == Decimal("240.00")
    assert figures(net["s01"], net["coat"]) == (0, 0)
    assert figures(hold_of(net), net["coat"]) == (1, 0)
    assert figures(net["dc"], net["coat"]) == (0, 0)
    # A replay: nothing more, no error.
    assert client.post(reverse("ship:receive", args=[f.pk]), form(f)).status_code == 302
    assert Refund.objects.count() == 1
    assert_ledger_reconciles()


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ((2, 1, 0), "must add up to the 2 sent"),
        ((1, 0, 0), "must add up to the 2 sent"),
        ((3, 0, 0), "no count can be more than that"),
        ((0, 3, 0), "no count can be more than that"),
        ((2, -1, 1), "cannot be below zero"),
        (("two", 0, 0), "must be a whole number"),
        ((2, 0, 0), "not scanned yet"),  # good units must have been scanned
    ],
)
def test_bad_counts_are_refused_and_nothing_is_written(
    net, store, associate, client, counts, message
):
    factories.give_stock(net["dc"], net["coat"], 2)
    f = in_transit(net, "RCV-BAD", store, [(net["coat"], 2)])
    client.force_login(associate)
    scan_all(client, f, net["coat"], 1)
    before = (
        StockMovement.objects.count(),
        OrderEvent.objects.count(),
        StockLocation.objects.count(),
    )
    response = client.post(reverse("ship:receive", args=[f.pk]), form(f, **{"COAT-M": counts}))
    assert response.status_code == 400
    assert message in response.content.decode()
    f.refresh_from_db()
    assert f.state == State.IN_TRANSIT and f.lines.get().quantity == 2
    assert not ReceivingDiscrepancy.objects.exists()
    assert before == (
        StockMovement.objects.count(),
        OrderEvent.objects.count(),
        StockLocation.objects.count(),
    )


def test_receiving_in_chinese_refuses_in_chinese(net, store, associate, client):
    factories.give_stock(net["dc"], net["coat"], 2)
    f = in_transit(net, "RCV-ZH", store, [(net["coat"], 2)])
    client.force_login(associate)
    response = client.post(
        reverse("ship:receive", args=[f.pk]),
        form(f, **{"COAT-M": (2, 1, 0)}),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "COAT-M：完好（2）、短缺（1）和损坏（0）之和必须等于发来的 2 件。" in (
        response.content.decode()
    )


def receive_short(net, store, ref, by, *, short=1, damaged=0, variant=None, note=""):
    """A parcel of 2 received through the service with `short`/`damaged` units."""
    from orders import shipping

    variant = variant or net["coat"]
    factories.give_stock(net["dc"], variant, 2)
    f = in_transit(net, ref, store, [(variant, 2)])
    line = f.lines.get()
    good = 2 - short - damaged
    return shipping.transfer_receive(
        fulfillment=f,
        store=store,
        scanned={str(line.pk): good},
        by=by,
        receipt={line.pk: shipping.LineReceipt(good=good, short=short, damaged=damaged)},
        note=note,
    )


@pytest.fixture
def hq_desk(hq_user):
    """HQ's own browser session beside the associate's `client`."""
    other = Client()
    factories.login_with_totp(other, hq_user)
    return other


def test_the_discrepancy_shows_on_the_pickup_page_and_in_admin(
    net, store, associate, client, hq_desk
):
    f = receive_short(net, store, "RCV-PAGE", associate, short=1, note="one missing")
    client.force_login(associate)
    page = client.get(reverse("orders_store:detail", args=[f.pk])).content.decode()
    assert 'id="discrepancies"' in page
    assert "one missing" in page and "Received short or damaged" in page  # card and timeline
    assert "1 × COAT-M short" in page
    order_admin = hq_desk.get(reverse("admin:orders_order_change", args=[f.order_id]))
    assert order_admin.status_code == 200
    assert "receiving discrepanc" in order_admin.content.decode().lower()
    listing = hq_desk.get(reverse("admin:orders_receivingdiscrepancy_changelist"))
    assert listing.status_code == 200 and "RCV-PAGE" in listing.content.decode()


def test_hq_lists_discrepancies_with_filters_and_csv(net, store, other_store, associate, hq_client):
    s02_associate = factories.StaffFactory(role="associate", home_store=other_store)
    receive_short(net, store, "RCV-A", associate, short=1)
    receive_short(net, store, "RCV-B", associate, short=0, damaged=2, variant=net["scarf"])
    receive_short(net, other_store, "RCV-C", s02_associate, short=1, damaged=1)
    url = reverse("ship_hq:discrepancies")
    page = hq_client.get(url).content.decode()
    assert all(ref in page for ref in ("RCV-A", "RCV-B", "RCV-C"))
    only_s02 = hq_client.get(url, {"store": other_store.code}).content.decode()
    assert "RCV-C" in only_s02 and "RCV-A" not in only_s02
    damaged = hq_client.get(url, {"kind": "damaged"}).content.decode()
    assert "RCV-B" in damaged and "RCV-C" in damaged and "RCV-A" not in damaged
    by_sku = hq_client.get(url, {"order": "scarf"}).content.decode()
    assert "RCV-B" in by_sku and "RCV-A" not in by_sku
    # Bad filters: a clear 400, no guess.
    bad = hq_client.get(url, {"store": "NOPE"})
    assert bad.status_code == 400 and "That store code is unknown." in bad.content.decode()
    backwards = hq_client.get(url, {"start": "2026-02-01", "end": "2026-01-01"})
    assert backwards.status_code == 400
    assert "The period ends before it starts." in backwards.content.decode()
    # The CSV holds the filtered rows, figures exact.
    response = hq_client.get(reverse("ship_hq:discrepancies_csv"), {"store": store.code})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert rows[0].startswith("When (UTC),Store,Order,SKU,Sent from,Sent,Good,Short,Damaged")
    body = sorted(r.split(",")[1:11] for r in rows[1:])
    assert body == [
        # Nothing left at the DC to re-source from: cancelled and refunded.
        ["S01", "RCV-A", "COAT-M", "DC1", "2", "1", "1", "0", "0", "1"],
        ["S01", "RCV-B", "SCARF", "DC1", "2", "0", "0", "2", "0", "2"],
    ]


@pytest.mark.parametrize("parcels", [1, 6])
def test_hq_discrepancies_run_in_a_fixed_number_of_queries(
    net, store, associate, hq_client, parcels, django_assert_max_num_queries
):
    for i in range(parcels):
        receive_short(net, store, f"RCV-Q{i}", associate, short=1, damaged=1)
    with django_assert_max_num_queries(12):
        page = hq_client.get(reverse("ship_hq:discrepancies"))
    assert page.content.decode().count('data-order="RCV-Q') == parcels
    with django_assert_max_num_queries(12):
        csv_response = hq_client.get(reverse("ship_hq:discrepancies_csv"))
        rows = b"".join(csv_response.streaming_content).decode().splitlines()
    assert len(rows) == parcels + 1


def test_hq_discrepancies_are_hq_only(net, store, associate, client):
    client.force_login(associate)
    assert client.get(reverse("ship_hq:discrepancies")).status_code == 403
    assert client.get(reverse("ship_hq:discrepancies_csv")).status_code == 403
