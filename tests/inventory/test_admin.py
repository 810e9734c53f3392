"""HQ changes stock in admin only through the ledger; the ledger is read-only."""

import pytest

from inventory.models import StockLevel, StockMovement, Transfer
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(store):
    dc = factories.StockLocationFactory(code="DC1")
    shop = factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M")
    return dc, shop, jumper


def test_receipt_and_adjustment_with_a_reason_write_the_ledger(
    hq_client, setup, assert_ledger_reconciles
):
    dc, _shop, jumper = setup
    url = "/admin/inventory/stocklevel/change-stock/"
    assert hq_client.get(url).status_code == 200
    response = hq_client.post(
        url,
        {
            "location": dc.pk,
            "sku": "JUMPER-M",
            "kind": "receipt",
            "quantity": 12,
            "reason": "delivery 88",
        },
    )
    assert response.status_code == 302
    hq_client.post(
        url,
        {
            "location": dc.pk,
            "sku": jumper.barcode,
            "kind": "adjustment",
            "quantity": -2,
            "reason": "damaged",
        },
    )
    assert StockLevel.objects.get(location=dc, variant=jumper).on_hand == 10
    assert list(StockMovement.objects.order_by("pk").values_list("kind", "reason")) == [
        ("receipt", "delivery 88"),
        ("adjustment", "damaged"),
    ]
    # Too much taken away: refused with the reason, nothing written.
    response = hq_client.post(
        url,
        {
            "location": dc.pk,
            "sku": "JUMPER-M",
            "kind": "adjustment",
            "quantity": -50,
            "reason": "x",
        },
    )
    assert response.status_code == 200
    assert "cannot take away" in response.content.decode()
    assert StockMovement.objects.count() == 2
    assert hq_client.get("/admin/inventory/stocklevel/?q=JUMPER").status_code == 200
    assert_ledger_reconciles()


def test_unknown_sku_is_refused_with_a_message(hq_client, setup):
    dc, _shop, _jumper = setup
    response = hq_client.post(
        "/admin/inventory/stocklevel/change-stock/",
        {"location": dc.pk, "sku": "NOPE", "kind": "receipt", "quantity": 1, "reason": "x"},
    )
    assert "No product has this SKU or barcode." in response.content.decode()
    assert not StockMovement.objects.exists()


def test_transfers_are_requested_shipped_and_received_in_admin(
    hq_client, setup, assert_ledger_reconciles
):
    dc, shop, jumper = setup
    factories.give_stock(dc, jumper, 5)
    response = hq_client.post(
        "/admin/inventory/transfer/add/",
        {"from_location": dc.pk, "to_location": shop.pk, "lines": "JUMPER-M 3", "reason": "top-up"},
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    for action in ("ship_transfers", "receive_transfers"):
        hq_client.post(
            "/admin/inventory/transfer/", {"action": action, "_selected_action": [transfer.pk]}
        )
    transfer.refresh_from_db()
    assert transfer.state == "received"
    assert StockLevel.objects.get(location=shop, variant=jumper).on_hand == 3
    bad = hq_client.post(
        "/admin/inventory/transfer/add/",
        {"from_location": dc.pk, "to_location": shop.pk, "lines": "JUMPER-M 99", "reason": ""},
    )
    assert bad.status_code == 200
    assert Transfer.objects.count() == 1
    assert_ledger_reconciles()


def test_the_ledger_cannot_be_edited_in_admin(hq_client, setup):
    dc, _shop, jumper = setup
    factories.give_stock(dc, jumper, 1)
    movement = StockMovement.objects.get()
    assert hq_client.get("/admin/inventory/stockmovement/").status_code == 200
    assert (
        hq_client.post(
            f"/admin/inventory/stockmovement/{movement.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert hq_client.get("/admin/inventory/stockmovement/add/").status_code == 403
