"""Stock moves only through the ledger; reservations never oversell."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from inventory import services
from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.services import InsufficientStock, StockError, StockRequest
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def dc(db):
    return factories.StockLocationFactory(code="DC1")


@pytest.fixture
def jumper(db):
    return factories.VariantFactory(sku="JUMPER-M")


@pytest.fixture
def scarf(db):
    return factories.VariantFactory(sku="SCARF")


def level(location, variant):
    return StockLevel.objects.get(location=location, variant=variant)


def test_receipt_and_reservation_write_ledger_rows_and_figures(
    dc, jumper, assert_ledger_reconciles
):
    factories.give_stock(dc, jumper, 10, safety_stock=2)
    services.stock_reserve(
        requests=[StockRequest(dc.pk, jumper.pk, 3, "order_line:1")], by=None, reason="web order"
    )
    row = level(dc, jumper)
    assert (row.on_hand, row.reserved, row.safety_stock, row.available) == (10, 3, 2, 5)
    kinds = list(StockMovement.objects.order_by("pk").values_list("kind", "source"))
    assert kinds == [("receipt", ""), ("reservation", "order_line:1")]
    assert_ledger_reconciles()


def test_reservation_short_anywhere_reserves_nothing(dc, jumper, scarf, assert_ledger_reconciles):
    factories.give_stock(dc, jumper, 5)
    factories.give_stock(dc, scarf, 1)
    with pytest.raises(InsufficientStock) as info:
        services.stock_reserve(
            requests=[StockRequest(dc.pk, jumper.pk, 2), StockRequest(dc.pk, scarf.pk, 2)],
            by=None,
        )
    assert info.value.skus == ["SCARF"]
    assert level(dc, jumper).reserved == 0
    assert not StockMovement.objects.filter(kind=MovementKind.RESERVATION).exists()
    assert_ledger_reconciles()


def test_safety_stock_is_never_promised(dc, jumper):
    factories.give_stock(dc, jumper, 4, safety_stock=3)
    with pytest.raises(InsufficientStock):
        services.stock_reserve(requests=[StockRequest(dc.pk, jumper.pk, 2)], by=None)
    services.stock_reserve(requests=[StockRequest(dc.pk, jumper.pk, 1)], by=None)


def test_available_is_never_shown_below_zero(dc, jumper):
    factories.give_stock(dc, jumper, 2, safety_stock=5)
    assert level(dc, jumper).available == 0


def test_database_refuses_an_oversell_even_past_the_services(dc, jumper):
    factories.give_stock(dc, jumper, 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(location=dc, variant=jumper).update(reserved=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(location=dc, variant=jumper).update(reserved=-1)


def test_ledger_rows_cannot_be_changed(dc, jumper):
    factories.give_stock(dc, jumper, 2)
    movement = StockMovement.objects.get()
    with pytest.raises(PermissionError):
        movement.save()
    with pytest.raises(PermissionError):
        StockMovement.objects.all().delete()


def test_release_and_sale_from_reservation(dc, jumper, assert_ledger_reconciles):
    factories.give_stock(dc, jumper, 5)
    request = StockRequest(dc.pk, jumper.pk, 2, "order_line:9")
    services.stock_reserve(requests=[request], by=None)
    services.stock_sell(requests=[request], by=None, from_reserved=True)
    row = level(dc, jumper)
    assert (row.on_hand, row.reserved) == (3, 0)
    services.stock_reserve(requests=[request], by=None)
    services.stock_release(requests=[request], by=None, reason="cancelled")
    assert level(dc, jumper).reserved == 0
    assert_ledger_reconciles()


def test_till_sale_takes_reserved_units_after_releasing_them(dc, jumper, assert_ledger_reconciles):
    calls = []

    def handler(*, level, shortfall, by, reason):
        calls.append(shortfall)
        services.stock_release(
            requests=[StockRequest(level.location_id, level.variant_id, shortfall, "order_line:1")],
            by=by,
            reason=reason,
        )

    services.register_shortage_handler(handler)
    try:
        factories.give_stock(dc, jumper, 3)
        services.stock_reserve(
            requests=[StockRequest(dc.pk, jumper.pk, 3, "order_line:1")], by=None
        )
        services.stock_sell(
            requests=[StockRequest(dc.pk, jumper.pk, 2)], by=None, from_reserved=False
        )
    finally:
        services._shortage_handlers.remove(handler)
    row = level(dc, jumper)
    assert calls == [2]
    assert (row.on_hand, row.reserved) == (1, 1)
    kinds = list(StockMovement.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["receipt", "reservation", "release", "sale"]
    assert_ledger_reconciles()


def test_till_sale_beyond_the_shelf_is_refused(dc, jumper):
    factories.give_stock(dc, jumper, 1)
    with pytest.raises(InsufficientStock):
        services.stock_sell(
            requests=[StockRequest(dc.pk, jumper.pk, 2)], by=None, from_reserved=False
        )
    assert level(dc, jumper).on_hand == 1


def test_count_below_reserved_releases_then_sets_on_hand(dc, jumper, assert_ledger_reconciles):
    factories.give_stock(dc, jumper, 5)
    services.stock_reserve(requests=[StockRequest(dc.pk, jumper.pk, 4, "order_line:3")], by=None)
    services.stock_count(location=dc, variant=jumper, counted=2, by=None)
    row = level(dc, jumper)
    assert (row.on_hand, row.reserved) == (2, 2)
    count = StockMovement.objects.get(kind=MovementKind.COUNT)
    assert (count.quantity, count.on_hand_delta) == (2, -3)
    assert_ledger_reconciles()


@pytest.mark.parametrize("quantity", [0, -1, "3", 1.5])
def test_bad_quantities_are_refused_and_change_nothing(dc, jumper, quantity):
    factories.give_stock(dc, jumper, 5)
    with pytest.raises(StockError):
        services.stock_reserve(requests=[StockRequest(dc.pk, jumper.pk, quantity)], by=None)
    assert StockMovement.objects.count() == 1


def test_adjustment_needs_a_reason_and_cannot_go_below_zero(dc, jumper):
    factories.give_stock(dc, jumper, 2)
    with pytest.raises(StockError):
        services.stock_adjust(location=dc, variant=jumper, delta=-1, by=None, reason=" ")
    with pytest.raises(StockError):
        services.stock_adjust(location=dc, variant=jumper, delta=-3, by=None, reason="damaged")
    services.stock_adjust(location=dc, variant=jumper, delta=-2, by=None, reason="damaged")
    assert level(dc, jumper).on_hand == 0


def test_transfer_moves_stock_with_ledger_rows_at_each_location(
    dc, jumper, store, assert_ledger_reconciles
):
    shop = factories.store_location(store)
    factories.give_stock(dc, jumper, 6)
    transfer = services.transfer_create(
        from_location=dc, to_location=shop, lines={jumper: 4}, by=None
    )
    assert level(dc, jumper).reserved == 4
    services.transfer_ship(transfer=transfer, by=None)
    assert (level(dc, jumper).on_hand, level(dc, jumper).reserved) == (2, 0)
    with pytest.raises(StockError):
        services.transfer_ship(transfer=transfer, by=None)
    services.transfer_receive(transfer=transfer, by=None)
    assert level(shop, jumper).on_hand == 4
    sources = set(StockMovement.objects.filter(source=transfer.ref).values_list("kind", "location"))
    assert sources == {("reservation", dc.pk), ("transfer_out", dc.pk), ("transfer_in", shop.pk)}
    assert_ledger_reconciles()


def test_replenishment_from_zero_records_a_stock_replenished_event(dc, jumper):
    from retail.models import OutboxEntry

    factories.give_stock(dc, jumper, 1)
    factories.give_stock(dc, jumper, 1)  # still available: no second event
    events = OutboxEntry.objects.filter(name="stock_replenished")
    assert events.count() == 1
    assert events.get().payload["sku"] == "JUMPER-M"


def test_stock_reconcile_command_reports_drift_and_exits_non_zero(dc, jumper, capsys):
    factories.give_stock(dc, jumper, 3)
    call_command("stock_reconcile")
    assert "no drift" in capsys.readouterr().out
    StockLevel.objects.filter(location=dc, variant=jumper).update(on_hand=7)
    with pytest.raises(SystemExit) as info:
        call_command("stock_reconcile")
    assert info.value.code == 1
    assert "JUMPER-M: on hand 7 (ledger 3)" in capsys.readouterr().out
