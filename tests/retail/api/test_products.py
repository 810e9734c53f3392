"""`PUT /api/v1/products/{style_code}/`: the product-information system's catalog."""

from decimal import Decimal

import pytest

from inventory.catalog_index import catalog_index
from retail import catalogue
from retail.models import AuditLog, PriceChange, Product, ProductTranslation, Variant
from tests import factories
from tests.retail.api.schema import assert_matches_schema

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/JUMPER/"
PATH = "/api/v1/products/{style_code}/"


@pytest.fixture
def writer(api):
    return api("catalog:write")


@pytest.fixture
def knitwear(db):
    return factories.CategoryFactory(code="knitwear", name="Knitwear")


def jumper(**changes) -> dict:
    body = {
        "name": "Merino jumper",
        "brand": "Aisle Basics",
        "category": "Knitwear",
        "description": "Fine merino wool, crew neck.",
        "translations": {"zh-hans": {"name": "美利奴羊毛衫", "description": "细美利奴羊毛。"}},
        "attributes": {"material": "Wool"},
        "variants": [
            {"sku": "JUMPER-M", "barcode": "4006381333931", "price": "59.90", "size": "M"},
            {"sku": "JUMPER-L", "price": "59.90", "size": "L", "colour": "Navy"},
        ],
    }
    body.update(changes)
    return body


def test_put_creates_the_product_with_variants_prices_and_translation(writer, knitwear):
    response = writer.put(URL, jumper())
    assert response.status_code == 201, response.json()
    assert_matches_schema(response, "PUT", PATH)
    body = response.json()
    assert body["style_code"] == "JUMPER"
    assert body["category"] == "Knitwear"
    assert [(v["sku"], v["price"], v["size"]) for v in body["variants"]] == [
        ("JUMPER-L", "59.90", "L"),
        ("JUMPER-M", "59.90", "M"),
    ]
    assert body["translations"] == {
        "zh-hans": {"name": "美利奴羊毛衫", "description": "细美利奴羊毛。"}
    }
    product = Product.objects.get(style_code="JUMPER")
    assert (product.brand, product.attributes, product.active) == (
        "Aisle Basics",
        {"material": "Wool"},
        True,
    )
    # Each variant's first price is in the history the returns policy reads.
    assert PriceChange.objects.filter(variant__product=product).count() == 2
    log = AuditLog.objects.get(action="catalog.product_create")
    assert log.target_id == str(product.pk) and log.detail["source"] == "api"
    assert "api_client" in log.detail


def test_a_resend_changes_nothing_and_answers_200(writer, knitwear):
    assert writer.put(URL, jumper()).status_code == 201
    before = (PriceChange.objects.count(), AuditLog.objects.count())
    again = writer.put(URL, jumper())
    assert again.status_code == 200
    assert_matches_schema(again, "PUT", PATH)
    assert (PriceChange.objects.count(), AuditLog.objects.count()) == before


def test_an_update_keeps_left_out_fields_and_variants_and_records_the_new_price(writer, knitwear):
    writer.put(URL, jumper())
    response = writer.put(
        URL,
        {
            "name": "Merino jumper",
            "category": "knitwear",  # by code
            "variants": [{"sku": "JUMPER-M", "price": "49.90", "active": False}],
        },
    )
    assert response.status_code == 200, response.json()
    product = Product.objects.get(style_code="JUMPER")
    assert product.brand == "Aisle Basics"  # left out: kept
    assert product.description == "Fine merino wool, crew neck."
    assert ProductTranslation.objects.get(product=product).name == "美利奴羊毛衫"
    medium = Variant.objects.get(sku="JUMPER-M")
    assert (medium.price, medium.active, medium.barcode) == (
        Decimal("49.90"),
        False,
        "4006381333931",
    )
    assert Variant.objects.get(sku="JUMPER-L").active  # left out: kept
    assert list(medium.price_changes.order_by("at", "pk").values_list("price", flat=True)) == [
        Decimal("59.90"),
        Decimal("49.90"),
    ]
    log = AuditLog.objects.get(action="catalog.product_update")
    assert log.detail["fields"] == ["variants.JUMPER-M.active", "variants.JUMPER-M.price"]


def test_a_sku_of_another_product_is_a_409_and_nothing_is_written(writer, knitwear):
    other = factories.VariantFactory(sku="JUMPER-L", product__style_code="OTHER")
    response = writer.put(URL, jumper())
    assert response.status_code == 409
    assert_matches_schema(response, "PUT", PATH)
    assert response.json()["code"] == "sku_conflict"
    assert response.json()["skus"] == ["JUMPER-L"]
    assert not Product.objects.filter(style_code="JUMPER").exists()
    assert Variant.objects.get(sku="JUMPER-L").product_id == other.product_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "Hats"}, "category"),
        ({"variants": [{"sku": "JUMPER-M", "price": "59.901"}]}, "variants.0.price"),
        ({"variants": [{"sku": "JUMPER-M", "price": "0"}]}, "variants.0.price"),
        ({"variants": [{"sku": "JUMPER M", "price": "9.00"}]}, "variants.0.sku"),
        ({"variants": [{"sku": "J-1", "price": "9.00", "barcode": "4006381333932"}]}, None),
        ({"variants": []}, "variants"),
        ({"translations": {"fr": {"name": "Pull"}}}, "translations"),
        ({"translations": {"zh-hans": {"name": "  "}}}, "translations.zh-hans.name"),
        ({"name": ""}, "name"),
        (
            {
                "variants": [
                    {"sku": "JUMPER-M", "price": "9.00"},
                    {"sku": "JUMPER-M", "price": "9.00"},
                ]
            },
            "variants.1.sku",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(writer, knitwear, change, field):
    response = writer.put(URL, jumper(**change))
    assert response.status_code == 400, response.json()
    assert_matches_schema(response, "PUT", PATH)
    body = response.json()
    assert body["code"] == "validation_error"
    if field is not None:
        assert any(k == field or k.startswith(f"{field}.") for k in body["errors"]), body

    else:
        assert any(k.endswith("barcode") for k in body["errors"]), body["errors"]
    assert not Product.objects.filter(style_code="JUMPER").exists()
    assert not AuditLog.objects.filter(action__startswith="catalog.").exists()


def test_a_barcode_on_another_variant_is_refused(writer, knitwear):
    factories.VariantFactory(sku="OLD-1", barcode="4006381333931")
    response = writer.put(URL, jumper())
    assert response.status_code == 400
    assert response.json()["errors"]["variants.0.barcode"]


def test_a_style_code_longer_than_32_is_refused(writer, knitwear):
    response = writer.put(f"/api/v1/products/{'S' * 33}/", jumper())
    assert response.status_code == 400
    assert "style_code" in response.json()["errors"]


def test_the_scope_is_needed(api, knitwear):
    assert api("customers:write").put(URL, jumper()).status_code == 403


def test_the_aisle_search_and_the_chinese_name_see_the_product_once_committed(
    writer, knitwear, django_capture_on_commit_callbacks
):
    assert "JUMPER" not in catalog_index().by_style  # the index is loaded before the change
    catalogue.translations()
    with django_capture_on_commit_callbacks(execute=True):
        assert writer.put(URL, jumper()).status_code == 201
    product = Product.objects.get(style_code="JUMPER")
    assert "JUMPER" in catalog_index().by_style
    assert catalogue.product_name_for(product.pk, product.name, "zh-hans") == "美利奴羊毛衫"
