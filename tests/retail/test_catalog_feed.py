"""`retail.catalog_feed.catalog_apply`: many products at once, all or nothing."""

from decimal import Decimal

import pytest

from retail.catalog_feed import CatalogRefused, ProductIn, VariantIn, catalog_apply
from retail.models import PriceChange, Product, Variant
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tops(db):
    return factories.CategoryFactory(code="tops", name="Tops")


def product(style, *skus, price="10.00", **kw):
    return ProductIn(
        style_code=style,
        name=f"Product {style}",
        category="Tops",
        variants=[VariantIn(sku=s, price=Decimal(price)) for s in skus],
        **kw,
    )


def test_a_dry_run_reports_each_change_and_writes_nothing(tops):
    factories.VariantFactory(
        sku="A-1",
        price=Decimal("10.00"),
        product__style_code="A",
        product__category=tops,
        product__name="Product A",
    )
    outcomes = catalog_apply(
        [product("A", "A-1", price="12.00"), product("B", "B-1", "B-2")], dry_run=True
    )
    assert [(o.style_code, o.created) for o in outcomes] == [("A", False), ("B", True)]
    assert outcomes[0].changes == {"variants.A-1.price": ("10.00", "12.00")}
    assert set(outcomes[1].changes) == {"product", "variants.B-1", "variants.B-2"}
    assert not Product.objects.filter(style_code="B").exists()
    assert Variant.objects.get(sku="A-1").price == Decimal("10.00")


def test_one_bad_product_refuses_the_whole_batch_with_every_error(tops):
    with pytest.raises(CatalogRefused) as refused:
        catalog_apply(
            [
                product("A", "A-1"),
                product("B", "B-1", price="1.234"),
                product("C", "A-1"),
            ]
        )
    errors = refused.value.errors
    assert set(errors) == {1, 2}
    assert "variants.0.price" in errors[1]
    assert "variants.0.sku" in errors[2]  # A-1 given twice in one batch
    assert not Product.objects.exists()


def test_applying_the_same_batch_twice_changes_nothing_the_second_time(tops):
    batch = [product("A", "A-1", "A-2", active=True), product("B", "B-1")]
    first = catalog_apply(batch)
    assert all(o.created for o in first)
    prices = PriceChange.objects.count()
    second = catalog_apply([product("A", "A-1", "A-2", active=True), product("B", "B-1")])
    assert all(not o.created and not o.changes for o in second)
    assert PriceChange.objects.count() == prices == 3


def test_an_empty_barcode_clears_it_and_none_keeps_it(tops):
    catalog_apply(
        [ProductIn("A", "A", "Tops", [VariantIn("A-1", Decimal("5"), barcode="4006381333931")])]
    )
    catalog_apply([ProductIn("A", "A", "Tops", [VariantIn("A-1", Decimal("5"))])])
    assert Variant.objects.get(sku="A-1").barcode == "4006381333931"
    outcome = catalog_apply(
        [ProductIn("A", "A", "Tops", [VariantIn("A-1", Decimal("5"), barcode="")])]
    )
    assert outcome[0].changes == {"variants.A-1.barcode": ("4006381333931", None)}
    assert Variant.objects.get(sku="A-1").barcode is None


def test_an_update_writes_every_kind_of_field(tops):
    knit = factories.CategoryFactory(code="knit", name="Knitwear")
    catalog_apply(
        [
            ProductIn(
                "A",
                "Jumper",
                "Tops",
                [VariantIn("A-1", Decimal("5.00"), size="M", colour="Navy")],
                translations={"zh-hans": {"name": "毛衣"}},
                attributes={"material": "Wool"},
            )
        ]
    )
    catalog_apply(
        [
            ProductIn(
                "A",
                "Merino jumper",
                "knit",
                [
                    VariantIn(
                        "A-1",
                        Decimal("7.50"),
                        barcode="4006381333931",
                        size="L",
                        colour="",
                        active=False,
                    )
                ],
                translations={"zh-hans": {"name": "美利奴毛衣", "description": "细羊毛"}},
                attributes={"material": "Merino", "gauge": 12},
                active=False,
            )
        ]
    )
    product = Product.objects.get(style_code="A")
    assert (product.name, product.category, product.attributes, product.active) == (
        "Merino jumper",
        knit,
        {"material": "Merino", "gauge": 12},
        False,
    )
    variant = Variant.objects.get(sku="A-1")
    assert (variant.price, variant.barcode, variant.size, variant.colour, variant.active) == (
        Decimal("7.50"),
        "4006381333931",
        "L",
        "",
        False,
    )
    translation = product.translations.get()
    assert (translation.name, translation.description) == ("美利奴毛衣", "细羊毛")
