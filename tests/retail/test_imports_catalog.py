"""The catalog in bulk: one row per variant, through catalog_apply."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retail.imports import base
from retail.imports.catalog import CatalogKind
from retail.models import PriceChange, Product, Variant
from tests import factories
from tests.retail.import_files import column, csv_file, export_to, run

pytestmark = pytest.mark.django_db

HEADER = [
    "style_code",
    "name",
    "name_zh",
    "brand",
    "category",
    "description",
    "description_zh",
    "attributes",
    "product_active",
    "sku",
    "barcode",
    "price",
    "size",
    "colour",
    "active",
]


def row(style="JMP-1", sku="JMP-1-M", price="59.90", **cells):
    values = {
        "style_code": style,
        "name": "Merino jumper",
        "name_zh": "美利奴毛衣",
        "brand": "Northwind",
        "category": "knit",
        "description": "Soft.",
        "description_zh": "",
        "attributes": '{"material": "Merino wool"}',
        "product_active": "yes",
        "sku": sku,
        "barcode": "",
        "price": price,
        "size": "M",
        "colour": "navy",
        "active": "yes",
        **cells,
    }
    return [values[c] for c in HEADER]


@pytest.fixture
def knit(db):
    return factories.CategoryFactory(code="knit", name="Knitwear")


@pytest.fixture
def catalog(knit):
    jumper = factories.ProductFactory(
        style_code="JMP-1",
        name="Merino jumper",
        category=knit,
        attributes={"fit": "slim", "gsm": 220},
    )
    factories.ProductTranslationFactory(product=jumper, name="美利奴毛衣")
    for size in ("S", "M"):
        factories.VariantFactory(product=jumper, sku=f"JMP-1-{size}", size=size)
    scarf = factories.ProductFactory(style_code="SCF-1", name="=cmd|' /C calc'!A0", category=knit)
    factories.VariantFactory(product=scarf, sku="SCF-1", size="", colour="", barcode=None)
    return jumper


def test_new_products_are_grouped_by_style_code(tmp_path, knit):
    path = csv_file(
        tmp_path,
        [
            HEADER,
            row(sku="JMP-1-S", size="S"),
            row(style="SCF-1", sku="SCF-1", price="19.00", attributes=""),
            row(sku="JMP-1-M"),
        ],
    )
    report = run("catalog", path)
    assert report.summary() == {"created": 3, "updated": 0, "unchanged": 0}, report.errors
    jumper = Product.objects.get(style_code="JMP-1")
    assert jumper.attributes == {"material": "Merino wool"}
    assert jumper.translations.get(language="zh-hans").name == "美利奴毛衣"
    assert sorted(jumper.variants.values_list("sku", flat=True)) == ["JMP-1-M", "JMP-1-S"]
    assert PriceChange.objects.filter(variant__product=jumper).count() == 2


def test_round_trip_changes_exactly_the_edited_price(tmp_path, catalog):
    def edit(rows):
        [m] = [r for r in rows if r[column(rows, "sku")] == "JMP-1-M"]
        m[column(rows, "price")] = "49.90"

    path = export_to(tmp_path, "catalog", edit=edit)
    report = run("catalog", path)
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 2}, report.errors
    [change] = report.changes
    assert (change.label, change.changes) == ("JMP-1 JMP-1-M", {"price": ("59.90", "49.90")})
    assert Variant.objects.get(sku="JMP-1-M").price == Decimal("49.90")
    assert Product.objects.get(style_code="SCF-1").name == "=cmd|' /C calc'!A0"
    assert Product.objects.get(style_code="JMP-1").attributes == {"fit": "slim", "gsm": 220}
    second = run("catalog", path)
    assert second.summary() == {"created": 0, "updated": 0, "unchanged": 3}


def test_a_product_split_across_batches_is_one_product(tmp_path, knit, monkeypatch):
    monkeypatch.setattr(CatalogKind, "batch_size", 2)
    path = csv_file(
        tmp_path,
        [HEADER, *(row(sku=f"JMP-1-{n}", size=str(n)) for n in range(5))],
    )
    report = run("catalog", path, dry_run=True)
    assert report.summary() == {"created": 5, "updated": 0, "unchanged": 0}, report.errors
    assert not Product.objects.exists()
    report = run("catalog", path)
    assert report.summary()["created"] == 5
    assert Product.objects.get().variants.count() == 5


def test_a_sku_claimed_by_two_products_is_refused(tmp_path, catalog):
    path = csv_file(
        tmp_path,
        [
            HEADER,
            row(style="NEW-1", sku="JMP-1-M"),  # belongs to JMP-1 already
            row(style="NEW-2", sku="X-1"),
            row(style="NEW-3", sku="X-1"),  # twice in the file
        ],
    )
    report = run("catalog", path)
    assert report.state == "refused"
    assert report.errors[2] == {"sku": ["The SKU JMP-1-M belongs to the product JMP-1."]}
    assert report.errors[4] == {"sku": ["X-1 is also on row 3; give it once."]}
    assert not Product.objects.filter(style_code__startswith="NEW").exists()


def test_bad_cells_are_reported_by_row_and_column(tmp_path, catalog):
    path = csv_file(
        tmp_path,
        [
            HEADER,
            row(style="NEW-1", sku="N-1", price="19.999"),
            row(style="NEW-2", sku="N-2", category="shoes"),
            row(style="NEW-3", sku="N-3", attributes="{material: wool}", barcode="123"),
            row(style="NEW-4", sku="N 4", product_active="perhaps"),
        ],
    )
    report = run("catalog", path)
    assert report.state == "refused"
    assert report.errors[2] == {"price": ["A price has at most two decimals: “19.999” has more."]}
    assert report.errors[3] == {"category": ["There is no category with the code or name “shoes”."]}
    assert set(report.errors[4]) == {"attributes", "barcode"}
    assert set(report.errors[5]) == {"sku", "product_active"}
    assert not Product.objects.filter(style_code__startswith="NEW").exists()


def test_rows_of_one_product_must_agree(tmp_path, knit):
    path = csv_file(
        tmp_path,
        [HEADER, row(sku="A"), row(sku="B", name="Merino jumper!"), row(sku="C", brand="Other")],
    )
    report = run("catalog", path)
    assert report.state == "refused"
    assert (
        list(report.errors[3]) == ["name"]
        and "Row 2 gives the product JMP-1" in (report.errors[3]["name"][0])
    )
    assert list(report.errors[4]) == ["brand"]


def test_an_error_found_by_catalog_apply_maps_back_to_its_row(tmp_path, catalog, monkeypatch):
    """What only the feed finds (here: a name too long for the model, checks switched off
    in the validation) comes back by row and column, and nothing is applied."""
    monkeypatch.setattr(CatalogKind, "check", lambda self, batch: {})
    monkeypatch.setattr("retail.imports.catalog._model_errors", lambda *a: [])
    path = csv_file(
        tmp_path,
        [HEADER, row(style="NEW-1", sku="N-1"), row(style="NEW-2", sku="N-2", name="x" * 300)],
    )
    report = run("catalog", path)
    assert report.state == "refused"
    assert list(report.errors) == [3] and list(report.errors[3]) == ["name"]
    assert not Product.objects.filter(style_code__startswith="NEW").exists()


def test_the_catalog_kind_is_registered_with_its_columns():
    assert base.get("catalog").column_names() == HEADER
