"""Stock counts on the tablet: scan, review the difference, record; a count below what
is reserved re-sources the orders; HQ sees the differences per store."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from inventory.models import MovementKind, StockLevel, StockMovement
from orders import services
from orders.models import Method, Refund, State
from orders.services import LineInput, OrderInput
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def net(store):
    return {
        "dc": factories.StockLocationFactory(code="DC1"),
        "s01": factories.store_location(store),
        "coat": factories.VariantFactory(sku="COAT-M", price=Decimal("120.00")),
        "hat": factories.VariantFactory(sku="HAT", price=Decimal("15.00")),
        "customer": factories.CustomerFactory(),
    }


@pytest.fixture
def tablet(associate):
    """The associate's tablet (its own client, so that `hq_client` can sit beside it)."""
    c = Client()
    c.force_login(associate)
    return c


def pickup(net, store, ref, variant, quantity):
    order, _created = services.order_place(
        OrderInput(
            order_ref=ref,
            channel="web",
            customer=net["customer"],
            lines=[LineInput(variant, quantity, variant.price)],
            method="pickup",
            store=store,
            tender="card",
            amount=variant.price * quantity,
            fingerprint=ref,
        )
    )
    return order


def level(location, variant):
    return StockLevel.objects.get(location=location, variant=variant)


def counts_at(location):
    return StockMovement.objects.filter(location=location, kind=MovementKind.COUNT).count()


def test_a_count_below_the_reserved_quantity_re_sources_the_order_and_the_ledger_reconciles(
    net, store, tablet, assert_ledger_reconciles
):
    factories.give_stock(net["s01"], net["coat"], 3)
    factories.give_stock(net["dc"], net["coat"], 10)
    order = pickup(net, store, "WEB-1", net["coat"], 2)
    first = order.fulfillments.get()
    assert (first.method, first.location) == (Method.PICKUP, net["s01"])

    tablet.post(reverse("counts:scan"), {"code": net["coat"].barcode})
    review = tablet.get(reverse("counts:sheet"))
    page = review.content.decode()
    # The difference (1 counted against 3 on hand) and the reserved units are shown first.
    assert review.context["rows"][0].difference == -2
    assert "-2" in page and "will be re-sourced" in page
    assert counts_at(net["s01"]) == 0  # nothing recorded before confirming

    token = review.context["sheet"]["token"]
    done = tablet.post(reverse("counts:confirm"), {"token": token})
    assert done.status_code == 302
    coat = level(net["s01"], net["coat"])
    assert (coat.on_hand, coat.reserved) == (1, 0)
    first.refresh_from_db()
    assert first.state == State.CANCELLED
    new = order.fulfillments.exclude(pk=first.pk).get()
    assert (new.method, new.location, new.state) == (
        Method.SHIP_TO_STORE,
        net["dc"],
        State.RESERVED,
    )
    assert level(net["dc"], net["coat"]).reserved == 2
    count_row = StockMovement.objects.get(location=net["s01"], kind=MovementKind.COUNT)
    assert (count_row.quantity, count_row.on_hand_delta) == (1, -2)
    assert count_row.by is not None
    # A replayed confirmation records nothing more.
    replay = tablet.post(reverse("counts:confirm"), {"token": token})
    assert replay.status_code == 409
    assert "already recorded" in replay.content.decode()
    assert counts_at(net["s01"]) == 1
    assert_ledger_reconciles()


def test_a_count_below_reserved_with_no_stock_anywhere_cancels_and_refunds(
    net, store, tablet, assert_ledger_reconciles
):
    factories.give_stock(net["s01"], net["hat"], 1)
    order = pickup(net, store, "WEB-2", net["hat"], 1)
    tablet.post(reverse("counts:scan"), {"code": "HAT", "quantity": "0", "mode": "set"})
    token = tablet.get(reverse("counts:sheet")).context["sheet"]["token"]
    tablet.post(reverse("counts:confirm"), {"token": token})
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Refund.objects.get(order=order).amount == Decimal("15.00")
    assert level(net["s01"], net["hat"]).on_hand == 0
    assert_ledger_reconciles()


def test_a_shelf_is_counted_unit_by_unit_and_sku_by_sku(net, store, tablet):
    factories.give_stock(net["s01"], net["coat"], 5)
    for _ in range(3):
        tablet.post(reverse("counts:scan"), {"code": net["coat"].barcode})
    tablet.post(reverse("counts:scan"), {"code": "hat", "quantity": "4"})
    tablet.post(reverse("counts:scan"), {"code": "HAT", "quantity": "2", "mode": "set"})
    rows = {r.variant.sku: r for r in tablet.get(reverse("counts:sheet")).context["rows"]}
    assert (rows["COAT-M"].counted, rows["COAT-M"].difference) == (3, -2)
    assert (rows["HAT"].counted, rows["HAT"].difference) == (2, 2)
    tablet.post(reverse("counts:remove"), {"variant": net["hat"].pk})
    response = tablet.get(reverse("counts:sheet"))
    tablet.post(reverse("counts:confirm"), {"token": response.context["sheet"]["token"]})
    assert level(net["s01"], net["coat"]).on_hand == 3
    assert not StockLevel.objects.filter(location=net["s01"], variant=net["hat"]).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "NO-SUCH-SKU"}, "No product has the barcode or SKU"),
        ({"code": "HAT", "quantity": "-3"}, "whole number, zero or more"),
        ({"code": "HAT", "quantity": "two"}, "whole number, zero or more"),
        ({"code": "HAT", "quantity": "1000000"}, "not plausible"),
        ({"code": "HAT", "quantity": "0"}, "whole number, zero or more"),
    ],
)
def test_bad_scans_are_refused_with_a_message_and_change_nothing(net, store, tablet, data, message):
    factories.give_stock(net["s01"], net["hat"], 2)
    tablet.post(reverse("counts:scan"), {"code": "HAT"})
    before = tablet.get(reverse("counts:sheet")).context["sheet"]
    response = tablet.post(reverse("counts:scan"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert message in response.content.decode()
    after = tablet.get(reverse("counts:sheet")).context["sheet"]
    assert after == before
    assert counts_at(net["s01"]) == 0


def test_a_stale_or_empty_confirmation_records_nothing(net, store, tablet):
    factories.give_stock(net["s01"], net["hat"], 2)
    empty = tablet.post(reverse("counts:confirm"), {"token": "x"})
    assert empty.status_code == 409
    tablet.post(reverse("counts:scan"), {"code": "HAT"})
    stale = tablet.get(reverse("counts:sheet")).context["sheet"]["token"]
    tablet.post(reverse("counts:scan"), {"code": "HAT"})  # the sheet changed since review
    assert tablet.post(reverse("counts:confirm"), {"token": stale}).status_code == 409
    assert counts_at(net["s01"]) == 0
    assert level(net["s01"], net["hat"]).on_hand == 2


def test_count_pages_need_csrf(net, associate):
    c = Client(enforce_csrf_checks=True)
    c.force_login(associate)
    assert c.post(reverse("counts:scan"), {"code": "HAT"}).status_code == 403


def test_hq_sees_count_differences_per_store(
    net, store, other_store, tablet, hq_client, assert_ledger_reconciles
):
    s02 = factories.store_location(other_store)
    factories.give_stock(net["s01"], net["coat"], 5)
    factories.give_stock(s02, net["coat"], 5)
    tablet.post(reverse("counts:scan"), {"code": "COAT-M", "quantity": "3"})
    token = tablet.get(reverse("counts:sheet")).context["sheet"]["token"]
    tablet.post(reverse("counts:confirm"), {"token": token})
    page = hq_client.get(reverse("counts_hq:differences"))
    assert page.status_code == 200
    per_store = {row["location__store__code"]: row for row in page.context["per_store"]}
    assert set(per_store) == {"S01"}
    assert (per_store["S01"]["missing"], per_store["S01"]["net"]) == (-2, -2)
    only = hq_client.get(reverse("counts_hq:differences"), {"store": "S02"})
    assert list(only.context["page"].object_list) == []
    assert_ledger_reconciles()


@pytest.mark.parametrize("skus", [1, 8])
def test_count_sheet_and_hq_page_run_in_a_fixed_number_of_queries(
    net, store, tablet, hq_client, skus, django_assert_max_num_queries
):
    variants = [factories.VariantFactory() for _ in range(skus)]
    for v in variants:
        factories.give_stock(net["s01"], v, 2)
        tablet.post(reverse("counts:scan"), {"code": v.barcode})
    with django_assert_max_num_queries(9):
        response = tablet.get(reverse("counts:sheet"))
    assert len(response.context["rows"]) == skus
    tablet.post(reverse("counts:confirm"), {"token": response.context["sheet"]["token"]})
    with django_assert_max_num_queries(12):
        page = hq_client.get(reverse("counts_hq:differences"))
    assert len(page.context["page"].object_list) == skus


def test_the_same_sheet_recorded_twice_is_recorded_once(net, store, associate):
    from inventory import counts

    factories.give_stock(net["s01"], net["hat"], 4)
    sheet = {"location": net["s01"], "counts": {net["hat"].pk: 3}, "by": associate}
    counts.count_record(**sheet, source="count:abc")
    with pytest.raises(counts.AlreadyRecorded):
        counts.count_record(**sheet, source="count:abc")
    assert counts_at(net["s01"]) == 1
    assert level(net["s01"], net["hat"]).on_hand == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_confirmations_of_one_sheet_record_it_once(assert_ledger_reconciles):
    import threading

    from django.db import connections

    from inventory import counts

    store = factories.StoreFactory(code="S01")
    shelf = factories.store_location(store)
    hat = factories.VariantFactory(sku="HAT")
    factories.give_stock(shelf, hat, 9)
    barrier = threading.Barrier(20)
    outcomes = []

    def confirm():
        try:
            barrier.wait()
            counts.count_record(location=shelf, counts={hat.pk: 4}, by=None, source="count:race")
            outcomes.append("recorded")
        except counts.AlreadyRecorded:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["recorded"] + ["refused"] * 19
    assert counts_at(shelf) == 1
    assert level(shelf, hat).on_hand == 4
    assert_ledger_reconciles()
