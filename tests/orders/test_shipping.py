"""Ship-to-store and ship-from-store on the tablet: pick lists, sending, receiving by
scanning, pick, pack, packing slip, ship with tracking, delivered - with the ledger."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from inventory.models import MovementKind, StockLevel, StockMovement
from orders import services
from orders.models import Fulfillment, Method, OrderEvent, State
from orders.services import LineInput, OrderInput
from tests import factories

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Rue de la Charité",
    "city": "Lyon",
    "postcode": "69002",
    "country": "FR",
}


@pytest.fixture
def net(store, other_store):
    dc = factories.StockLocationFactory(code="DC1")
    s01 = factories.store_location(store, receives_transfers=True)
    s02 = factories.store_location(other_store, ships_to_customers=True, receives_transfers=True)
    return {
        "dc": dc,
        "s01": s01,
        "s02": s02,
        "customer": factories.CustomerFactory(),
        "coat": factories.VariantFactory(sku="COAT-M", price=Decimal("120.00")),
        "scarf": factories.VariantFactory(sku="SCARF", price=Decimal("20.00")),
    }


@pytest.fixture
def s02_associate(other_store):
    return factories.StaffFactory(role="associate", home_store=other_store)


def place(net, ref, *, method, store=None, lines, address=None):
    total = sum(v.price * q for v, q in lines)
    order, _created = services.order_place(
        OrderInput(
            order_ref=ref,
            channel="web",
            customer=net["customer"],
            lines=[LineInput(v, q, v.price) for v, q in lines],
            method=method,
            store=store,
            address=address,
            tender="card",
            amount=total,
            payment_reference="psp",
            fingerprint=ref,
        )
    )
    return order


def tablet(client, user):
    client.force_login(user)
    return client


def ledger(location, variant):
    return list(
        StockMovement.objects.filter(location=location, variant=variant)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def no_drift() -> str:
    out = StringIO()
    call_command("stock_reconcile", stdout=out)
    return out.getvalue()


def test_ship_to_store_from_the_dc_is_received_by_scanning_and_reaches_collected(
    net, store, associate, client, assert_ledger_reconciles
):
    factories.give_stock(net["dc"], net["coat"], 5)
    order = place(net, "STS-1", method="pickup", store=store, lines=[(net["coat"], 2)])
    f = order.fulfillments.get()
    assert (f.method, f.state, f.location) == (Method.SHIP_TO_STORE, State.RESERVED, net["dc"])
    # The DC's pick list is at HQ: it lists the parcel and marks it sent, once.
    hq = Client()
    factories.login_with_totp(hq, factories.StaffFactory(role="hq_admin"))
    pick_list = hq.get(reverse("ship_hq:pick_lists")).content.decode()
    assert "STS-1" in pick_list and "2 × COAT-M" in pick_list
    assert hq.post(reverse("ship_hq:send", args=[f.pk])).status_code == 302
    assert hq.post(reverse("ship_hq:send", args=[f.pk])).status_code == 302  # a replay
    assert (
        "No ship-to-store parcel is waiting"
        in hq.get(reverse("ship_hq:pick_lists")).content.decode()
    )
    assert StockLevel.objects.get(location=net["dc"], variant=net["coat"]).on_hand == 3

    c = tablet(client, associate)
    page = c.get(reverse("ship:queue"))
    assert page.status_code == 200 and "STS-1" in page.content.decode()
    scan_url = reverse("ship:scan", args=[f.pk])
    receive_url = reverse("ship:receive", args=[f.pk])
    # Receiving before every unit is scanned is refused; nothing changes.
    refused = c.post(receive_url)
    assert refused.status_code == 400 and "not scanned yet" in refused.content.decode()
    wrong = c.post(scan_url, {"code": net["scarf"].barcode})
    assert wrong.status_code == 400
    assert "is not in this order" in wrong.content.decode()
    assert "COAT-M" in wrong.content.decode()
    assert c.post(scan_url, {"code": net["coat"].barcode}).status_code == 200
    assert c.post(scan_url, {"code": "coat-m"}).status_code == 200  # a typed SKU
    extra = c.post(scan_url, {"code": net["coat"].barcode})
    assert "already scanned" in extra.content.decode()
    f.refresh_from_db()
    assert f.state == State.IN_TRANSIT  # scanning alone changes nothing
    assert c.post(receive_url).status_code == 302
    f.refresh_from_db()
    assert (f.state, f.location) == (State.PICKING, net["s01"])
    assert c.post(receive_url).status_code == 302  # a replay receives once
    assert StockLevel.objects.get(location=net["s01"], variant=net["coat"]).reserved == 2
    assert list(f.events.values_list("to_state", flat=True)) == [
        "reserved",
        "in_transit",
        "received",
        "picking",
    ]
    # From here the pickup journey: ready, then handed over.
    services.fulfillment_transition(fulfillment=f, to=State.READY, by=associate)
    services.fulfillment_transition(fulfillment=f, to=State.COLLECTED, by=associate)
    order.refresh_from_db()
    assert order.status == "completed"
    assert ledger(net["dc"], net["coat"]) == ["receipt", "reservation", "transfer_out"]
    assert ledger(net["s01"], net["coat"]) == ["transfer_in", "sale"]
    assert StockLevel.objects.filter(location=net["s01"], variant=net["coat"]).values_list(
        "on_hand", "reserved"
    ).get() == (0, 0)
    assert "no drift" in no_drift()
    assert_ledger_reconciles()


def test_ship_to_store_from_another_store_is_sent_from_its_pick_list(
    net, store, other_store, associate, s02_associate, client, assert_ledger_reconciles
):
    factories.give_stock(net["s02"], net["scarf"], 3)
    order = place(net, "STS-2", method="pickup", store=store, lines=[(net["scarf"], 1)])
    f = order.fulfillments.get()
    assert (f.method, f.location) == (Method.SHIP_TO_STORE, net["s02"])
    # The pickup store cannot send it: only the source's pick list can.
    c = tablet(client, associate)
    assert c.post(reverse("ship:send", args=[f.pk])).status_code == 404
    c = tablet(client, s02_associate)
    queue = c.get(reverse("ship:queue")).content.decode()
    assert "STS-2" in queue and "Pick lists: send to another store" in queue
    detail = c.get(reverse("ship:detail", args=[f.pk])).content.decode()
    assert "SCARF" in detail and "Sent to S01" in detail
    assert c.post(reverse("ship:send", args=[f.pk])).status_code == 302
    assert c.post(reverse("ship:send", args=[f.pk])).status_code == 302  # replay: once
    f.refresh_from_db()
    assert f.state == State.IN_TRANSIT
    assert ledger(net["s02"], net["scarf"]) == ["receipt", "reservation", "transfer_out"]
    # The sender can neither scan it in nor receive it: it is for the pickup store.
    assert c.post(reverse("ship:scan", args=[f.pk]), {"code": "SCARF"}).status_code == 409
    wrong_store = c.post(reverse("ship:receive", args=[f.pk]))
    assert wrong_store.status_code == 400
    assert "for another store" in wrong_store.content.decode()
    c = tablet(client, associate)
    c.post(reverse("ship:scan", args=[f.pk]), {"code": net["scarf"].barcode})
    assert c.post(reverse("ship:receive", args=[f.pk])).status_code == 302
    f.refresh_from_db()
    assert f.state == State.PICKING
    assert ledger(net["s01"], net["scarf"]) == ["transfer_in"]
    assert_ledger_reconciles()


def test_ship_from_store_is_picked_packed_shipped_with_tracking_and_delivered(
    net, other_store, s02_associate, client, assert_ledger_reconciles
):
    factories.give_stock(net["s02"], net["coat"], 2)
    factories.give_stock(net["s02"], net["scarf"], 4)
    order = place(
        net,
        "SFS-1",
        method="ship",
        lines=[(net["coat"], 1), (net["scarf"], 2)],
        address=ADDRESS,
    )
    f = order.fulfillments.get()
    assert (f.method, f.location) == (Method.SHIP_FROM_STORE, net["s02"])
    c = tablet(client, s02_associate)
    queue = c.get(reverse("ship:queue")).content.decode()
    assert "SFS-1" in queue and "Ship to customers: pick and pack" in queue
    scan_url = reverse("ship:scan", args=[f.pk])
    pack_url = reverse("ship:pack", args=[f.pk])
    ship_url = reverse("ship:ship", args=[f.pk])
    # A wrong barcode is refused, naming what is expected; nothing changes.
    wrong = c.post(scan_url, {"code": "5000000000000"})
    assert wrong.status_code == 400 and "COAT-M" in wrong.content.decode()
    f.refresh_from_db()
    assert f.state == State.RESERVED
    # The first unit scanned starts the pick.
    c.post(scan_url, {"code": net["coat"].barcode})
    f.refresh_from_db()
    assert f.state == State.PICKING
    assert c.post(pack_url).status_code == 400  # two scarves still to scan
    c.post(scan_url, {"code": net["scarf"].barcode})
    c.post(scan_url, {"code": net["scarf"].barcode})
    assert c.post(pack_url).status_code == 302
    f.refresh_from_db()
    assert f.state == State.PACKED
    slip = c.get(reverse("ship:slip", args=[f.pk])).content.decode()
    assert "Packing slip" in slip and "12 Rue de la Charité" in slip and "SCARF" in slip
    # Shipping needs the carrier's tracking reference.
    no_ref = c.post(ship_url, {"tracking_ref": "  "})
    assert no_ref.status_code == 400
    assert "tracking reference" in no_ref.content.decode()
    bad_ref = c.post(ship_url, {"tracking_ref": "<script>"})
    assert bad_ref.status_code == 400
    f.refresh_from_db()
    assert (f.state, f.tracking_ref) == (State.PACKED, "")
    assert c.post(ship_url, {"tracking_ref": "JD0002 1234 5678"}).status_code == 302
    assert c.post(ship_url, {"tracking_ref": "JD0002 1234 5678"}).status_code == 302  # replay
    other = c.post(ship_url, {"tracking_ref": "OTHER-123"})
    assert other.status_code == 400 and "already shipped" in other.content.decode()
    f.refresh_from_db()
    assert (f.state, f.tracking_ref) == (State.SHIPPED, "JD0002 1234 5678")
    assert c.post(reverse("ship:delivered", args=[f.pk])).status_code == 302
    f.refresh_from_db()
    order.refresh_from_db()
    assert f.state == State.DELIVERED and order.status == "completed"
    assert ledger(net["s02"], net["coat"]) == ["receipt", "reservation", "sale"]
    assert ledger(net["s02"], net["scarf"]) == ["receipt", "reservation", "sale"]
    assert (
        StockMovement.objects.filter(
            location=net["s02"], kind=MovementKind.SALE, source__startswith="order_line:"
        ).count()
        == 2
    )
    assert list(
        OrderEvent.objects.filter(fulfillment=f).order_by("pk").values_list("to_state", flat=True)
    ) == ["reserved", "picking", "packed", "shipped", "delivered"]
    assert "no drift" in no_drift()
    assert_ledger_reconciles()


def test_another_stores_parcels_are_not_found(net, store, other_store, associate, client):
    factories.give_stock(net["s02"], net["coat"], 1)
    order = place(net, "SFS-2", method="ship", lines=[(net["coat"], 1)], address=ADDRESS)
    f = order.fulfillments.get()
    c = tablet(client, associate)  # works at S01; the parcel leaves S02
    assert c.get(reverse("ship:detail", args=[f.pk])).status_code == 404
    assert c.post(reverse("ship:pack", args=[f.pk])).status_code == 404
    assert c.get(reverse("ship:slip", args=[f.pk])).status_code == 404
    f.refresh_from_db()
    assert f.state == State.RESERVED


def test_shipping_pages_need_csrf(net, other_store, s02_associate):
    from django.test import Client

    factories.give_stock(net["s02"], net["coat"], 1)
    order = place(net, "SFS-3", method="ship", lines=[(net["coat"], 1)], address=ADDRESS)
    f = order.fulfillments.get()
    c = Client(enforce_csrf_checks=True)
    c.force_login(s02_associate)
    assert c.post(reverse("ship:scan", args=[f.pk]), {"code": "COAT-M"}).status_code == 403
    assert Fulfillment.objects.get(pk=f.pk).state == State.RESERVED


@pytest.mark.parametrize("orders", [1, 6])
def test_ship_queue_and_detail_run_in_a_fixed_number_of_queries(
    net, other_store, s02_associate, client, orders, django_assert_max_num_queries
):
    factories.give_stock(net["s02"], net["coat"], 20)
    factories.give_stock(net["s02"], net["scarf"], 20)
    factories.give_stock(net["dc"], net["coat"], 20)
    for i in range(orders):
        place(
            net,
            f"Q-{i}",
            method="ship",
            lines=[(net["scarf"], 1), (net["coat"], 1)],
            address=ADDRESS,
        )
    first = Fulfillment.objects.filter(location=net["s02"]).order_by("pk").first()
    c = tablet(client, s02_associate)
    c.get(reverse("ship:queue"))  # warm the session and the network cache
    with django_assert_max_num_queries(6):
        response = c.get(reverse("ship:queue"))
    assert response.content.decode().count("Q-") >= orders
    with django_assert_max_num_queries(6):
        assert c.get(reverse("ship:detail", args=[first.pk])).status_code == 200


@pytest.mark.parametrize("orders", [1, 6])
def test_hq_pick_lists_run_in_a_fixed_number_of_queries(
    net, store, hq_client, orders, django_assert_max_num_queries
):
    factories.give_stock(net["dc"], net["coat"], 50)
    factories.give_stock(net["dc"], net["scarf"], 50)
    for i in range(orders):
        place(
            net,
            f"DC-{i}",
            method="pickup",
            store=store,
            lines=[(net["coat"], 1), (net["scarf"], 2)],
        )
    with django_assert_max_num_queries(12):
        page = hq_client.get(reverse("ship_hq:pick_lists"))
    assert page.content.decode().count("DC-") == orders
