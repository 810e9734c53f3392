"""Stock locations and stock in bulk: counts through the ledger in batches whose
references make a re-run harmless; a stores file gives each store its location."""

from __future__ import annotations

import pytest

from inventory.imports import StockKind
from inventory.models import LocationKind, StockFeed, StockLevel, StockLocation, StockMovement
from tests import factories
from tests.retail.import_files import column, csv_file, export_to, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store):
    dc = factories.StockLocationFactory(code="DC1", name="Paris DC")
    shop = factories.store_location(store)
    variants = [factories.VariantFactory(sku=f"SKU-{n}") for n in range(3)]
    factories.give_stock(dc, variants[0], 10)
    factories.give_stock(dc, variants[1], 5, safety_stock=1)
    factories.give_stock(shop, variants[0], 2)
    return dc, shop, variants


def on_hand(code, sku):
    return StockLevel.objects.get(location__code=code, variant__sku=sku).on_hand


def test_stock_round_trip_changes_exactly_the_edited_count(
    tmp_path, world, assert_ledger_reconciles
):
    def edit(rows):
        [line] = [r for r in rows if r[0] == "DC1" and r[1] == "SKU-1"]
        line[column(rows, "quantity")] = "7"

    path = export_to(tmp_path, "stock", edit=edit)
    ledger = StockMovement.objects.count()
    report = run("stock", path)
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 2}, report.errors
    [change] = report.changes
    assert (change.label, change.changes) == ("DC1 SKU-1", {"quantity": (5, 7)})
    assert on_hand("DC1", "SKU-1") == 7
    assert StockMovement.objects.count() == ledger + 1
    assert_ledger_reconciles()


def test_the_same_stock_file_twice_is_applied_once(tmp_path, world, assert_ledger_reconciles):
    path = csv_file(
        tmp_path,
        [
            ["location", "sku", "quantity", "safety_stock"],
            ["DC1", "SKU-2", "12", "2"],
            ["S01", "SKU-0", "0", ""],
        ],
    )
    first = run("stock", path)
    assert first.summary() == {"created": 0, "updated": 2, "unchanged": 0}, first.errors
    ledger = StockMovement.objects.count()
    second = run("stock", path)
    assert second.summary() == {"created": 0, "updated": 0, "unchanged": 2}
    assert StockMovement.objects.count() == ledger
    assert (on_hand("DC1", "SKU-2"), on_hand("S01", "SKU-0")) == (12, 0)
    level = StockLevel.objects.get(location__code="DC1", variant__sku="SKU-2")
    assert level.safety_stock == 2
    refs = sorted(StockFeed.objects.values_list("movement_ref", flat=True))
    assert [r.split(":")[0] for r in refs] == ["import", "import"]
    assert {r.split(":")[2] for r in refs} == {"DC1", "S01"}
    assert all(r.endswith(":1") and len(r.split(":")[1]) == 16 for r in refs)
    assert_ledger_reconciles()


def test_a_stock_dry_run_changes_nothing(tmp_path, world):
    path = csv_file(tmp_path, [["location", "sku", "quantity"], ["DC1", "SKU-0", "3"]])
    report = run("stock", path, dry_run=True)
    assert report.summary()["updated"] == 1
    assert report.changes[0].changes == {"quantity": (10, 3)}
    assert on_hand("DC1", "SKU-0") == 10
    assert not StockFeed.objects.exists()


def test_bad_stock_rows_are_refused_and_nothing_is_applied(tmp_path, world):
    path = csv_file(
        tmp_path,
        [
            ["location", "sku", "quantity"],
            ["DC1", "SKU-0", "4"],
            ["DC9", "SKU-1", "1"],
            ["DC1", "NOPE", "1"],
            ["DC1", "SKU-2", "-3"],
            ["S01", "SKU-2", "2.5"],
            ["DC1", "SKU-0", "4"],
        ],
    )
    report = run("stock", path)
    assert report.state == "refused"
    assert report.errors == {
        3: {"location": ["There is no stock location with the code DC9."]},
        4: {"sku": ["There is no SKU NOPE."]},
        5: {"quantity": ["-3 is below zero; give zero or more."]},
        6: {"quantity": ["“2.5” is not a whole number."]},
        7: {"sku": ["This row repeats row 2; give each row once."]},
    }
    assert on_hand("DC1", "SKU-0") == 10


def test_a_large_file_goes_in_batches_each_its_own_movement(tmp_path, world, monkeypatch):
    monkeypatch.setattr(StockKind, "batch_size", 2)
    path = csv_file(
        tmp_path,
        [["location", "sku", "quantity"], *(["DC1", f"SKU-{n}", str(n + 20)] for n in range(3))],
    )
    report = run("stock", path)
    assert report.applied_rows == 3
    assert sorted(
        r.rsplit(":", 1)[1] for r in StockFeed.objects.values_list("movement_ref", flat=True)
    ) == ["1", "2"]
    assert on_hand("DC1", "SKU-2") == 22


def test_a_count_below_what_is_reserved_releases_the_shortfall(
    tmp_path, world, assert_ledger_reconciles
):
    from inventory import services

    dc, _shop, variants = world
    services.stock_reserve(
        requests=[services.StockRequest(location_id=dc.pk, variant_id=variants[0].pk, quantity=4)],
        by=None,
    )
    path = csv_file(tmp_path, [["location", "sku", "quantity"], ["DC1", "SKU-0", "1"]])
    report = run("stock", path)
    assert report.state == "applied", report.errors
    level = StockLevel.objects.get(location=dc, variant=variants[0])
    assert (level.on_hand, level.reserved) == (1, 1)
    assert_ledger_reconciles()


def test_locations_round_trip_and_store_locations_stay_out(tmp_path, world):
    factories.StockLocationFactory(code="SUP1", name="Wool Mill", kind="supplier", lead_time_days=5)

    def edit(rows):
        [sup] = [r for r in rows if r[0] == "SUP1"]
        sup[column(rows, "lead_time_days")] = "3"

    path = export_to(tmp_path, "locations", edit=edit)
    assert "S01" not in [line.split(",")[0] for line in path.read_text().splitlines()]
    report = run("locations", path)
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 1}, report.errors
    assert report.changes[0].changes == {"lead_time_days": (5, 3)}


def test_a_store_location_cannot_be_imported_as_a_location(tmp_path, world):
    path = csv_file(
        tmp_path,
        [
            ["code", "name", "kind"],
            ["S01", "Shop", "dc"],
            ["S05", "Shop", "store"],
            ["DC2", "North", "dc"],
        ],
    )
    report = run("locations", path)
    assert report.state == "refused"
    assert list(report.errors) == [2, 3]
    assert not StockLocation.objects.filter(code="DC2").exists()


def test_a_new_store_gets_its_stock_location(tmp_path, world):
    header = [
        "code",
        "name",
        "address_line1",
        "city",
        "postcode",
        "country",
        "latitude",
        "longitude",
    ]
    path = csv_file(
        tmp_path,
        [header, ["S07", "Lille", "1 Rue Faidherbe", "Lille", "59000", "FR", "50.6367", "3.0703"]],
    )
    report = run("stores", path)
    assert report.summary()["created"] == 1, report.errors
    location = StockLocation.objects.get(code="S07")
    assert (location.kind, location.store.code, location.postcode) == (
        LocationKind.STORE,
        "S07",
        "59000",
    )
    stock = csv_file(
        tmp_path, [["location", "sku", "quantity"], ["S07", "SKU-0", "3"]], "stock.csv"
    )
    assert run("stock", stock).state == "applied"
    assert on_hand("S07", "SKU-0") == 3


def test_a_batch_the_ledger_refuses_keeps_the_batches_before_it(tmp_path, world, monkeypatch):
    """Stock is applied per batch: what the validation could not see (here its look-ups
    are switched off) refuses that batch only, the batch before it stays applied, and
    the fixed file changes nothing that was applied already."""
    monkeypatch.setattr(StockKind, "batch_size", 2)
    real_check = StockKind.check
    monkeypatch.setattr(StockKind, "check", lambda self, batch: {})
    rows = [["location", "sku", "quantity"], ["DC1", "SKU-0", "30"], ["DC1", "SKU-1", "31"]]
    path = csv_file(tmp_path, [*rows, ["DC1", "GONE", "1"]], "first.csv")
    monkeypatch.setattr(
        "inventory.imports.StockKind.apply",
        _apply_without_check(StockKind.apply),
    )
    report = run("stock", path)
    assert report.state == "refused"
    assert report.applied_rows == 2
    assert report.errors == {4: {"sku": ["There is no SKU GONE."]}}
    assert (on_hand("DC1", "SKU-0"), on_hand("DC1", "SKU-1")) == (30, 31)
    monkeypatch.setattr(StockKind, "check", real_check)
    assert run("stock", path).state == "refused"  # the validation sees it, before any batch
    fixed = run("stock", csv_file(tmp_path, rows, "fixed.csv"))
    assert fixed.summary() == {"created": 0, "updated": 0, "unchanged": 2}


def _apply_without_check(apply):
    def wrapped(self, batch, *, by, dry_run):
        if self.locations is None:
            self.locations = {loc.code: loc for loc in StockLocation.objects.all()}
        from retail.models import Variant

        self.variant_ids.update(
            Variant.objects.filter(sku__in=[r.item.sku for r in batch]).values_list("sku", "pk")
        )
        return apply(self, batch, by=by, dry_run=dry_run)

    return wrapped


def test_the_same_locations_file_twice_changes_nothing(tmp_path, world):
    path = csv_file(
        tmp_path,
        [
            ["code", "name", "kind", "country", "time_zone", "latitude", "longitude"],
            ["DC2", "Lyon DC", "dc", "fr", "Europe/Paris", "45.75", "4.85"],
            ["SUP9", "Mill", "Supplier", "", "", "", ""],
        ],
    )
    first = run("locations", path)
    assert first.summary() == {"created": 2, "updated": 0, "unchanged": 0}, first.errors
    assert StockLocation.objects.get(code="SUP9").kind == LocationKind.SUPPLIER
    assert run("locations", path).summary() == {"created": 0, "updated": 0, "unchanged": 2}


def test_running_the_same_stock_file_again_finishes_a_run_stopped_half_way(
    tmp_path, world, monkeypatch, assert_ledger_reconciles
):
    from inventory import feed

    monkeypatch.setattr(StockKind, "batch_size", 2)
    path = csv_file(
        tmp_path,
        [["location", "sku", "quantity"], *(["DC1", f"SKU-{n}", str(40 + n)] for n in range(3))],
    )
    real = feed.stock_movement_apply

    def dies_at_the_second_batch(**kwargs):
        if kwargs["movement_ref"].endswith(":2"):
            raise RuntimeError("the worker was killed")
        return real(**kwargs)

    monkeypatch.setattr(feed, "stock_movement_apply", dies_at_the_second_batch)
    with pytest.raises(RuntimeError):
        run("stock", path)
    assert on_hand("DC1", "SKU-0") == 40
    assert not StockLevel.objects.filter(location__code="DC1", variant__sku="SKU-2").exists()
    monkeypatch.setattr(feed, "stock_movement_apply", real)
    report = run("stock", path)
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 2}
    assert on_hand("DC1", "SKU-2") == 42
    assert StockFeed.objects.count() == 2
    assert_ledger_reconciles()
