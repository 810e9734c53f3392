"""The catalogue in both languages: translations of products, categories and the
catalogue's words edited in admin (validated: a name, one row per language), read
through `retail.catalogue` with the English text as the fallback, shown on the
tablet's cart, pickup and customer pages; the demo catalogue is bilingual."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from retail import catalogue, demo
from retail.models import (
    AttributeTranslation,
    CategoryTranslation,
    Product,
    ProductTranslation,
)
from tests import factories
from tests.orders.pickups import network, place

pytestmark = pytest.mark.django_db


# --- Admin ----------------------------------------------------------------------------


def form_data(client, url: str, fields: dict) -> dict:
    """The admin page's management forms (every inline empty) with `fields` on top."""
    html = client.get(url).content.decode()
    data = {}
    for prefix in re.findall(r'name="([\w-]+)-TOTAL_FORMS"', html):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(fields)
    return data


def product_form(client, category, translations: list[dict]) -> dict:
    fields = {
        "style_code": "KNT-9",
        "name": "Merino crew jumper",
        "brand": "Northline",
        "category": str(category.pk),
        "description": "Fine merino, made to last.",
        "attributes": '{"material": "Merino"}',
        "active": "on",
        "translations-TOTAL_FORMS": str(len(translations)),
    }
    for i, row in enumerate(translations):
        fields.update({f"translations-{i}-{k}": v for k, v in row.items()})
    return form_data(client, reverse("admin:retail_product_add"), fields)


def test_hq_adds_a_product_with_its_chinese_name_in_admin(hq_client):
    category = factories.CategoryFactory(code="knitwear", name="Knitwear")
    zh = {
        "language": "zh-hans",
        "name": " 美利奴羊毛圆领毛衣 ",
        "description": "细腻的美利奴羊毛。",
    }
    response = hq_client.post(
        reverse("admin:retail_product_add"), product_form(hq_client, category, [zh])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = ProductTranslation.objects.get(product__style_code="KNT-9")
    assert (row.language, row.name, row.description) == (
        "zh-hans",
        "美利奴羊毛圆领毛衣",  # trimmed
        "细腻的美利奴羊毛。",
    )
    page = hq_client.get(reverse("admin:retail_product_change", args=[row.product_id]))
    assert "美利奴羊毛圆领毛衣" in page.content.decode()


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{"language": "zh-hans", "name": "   "}], "This field is required."),
        (
            [{"language": "zh-hans", "name": "羊毛"}, {"language": "zh-hans", "name": "毛衣"}],
            "Please correct the duplicate data for language",
        ),
        ([{"language": "en", "name": "Jumper"}], "Select a valid choice."),
        ([{"language": "fr", "name": "Pull"}], "Select a valid choice."),
    ],
)
def test_a_bad_translation_is_refused_and_nothing_written(hq_client, rows, message):
    category = factories.CategoryFactory(code="knitwear", name="Knitwear")
    response = hq_client.post(
        reverse("admin:retail_product_add"), product_form(hq_client, category, rows)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Product.objects.exists() and not ProductTranslation.objects.exists()


def test_a_translation_with_only_spaces_is_refused_by_the_model():
    row = ProductTranslation(product=factories.ProductFactory(), language="zh-hans", name="  ")
    with pytest.raises(Exception, match="cannot be empty"):
        row.full_clean()


def test_hq_edits_a_category_name_and_a_catalogue_word(hq_client):
    category = factories.CategoryFactory(code="outerwear", name="Outerwear")
    url = reverse("admin:retail_category_change", args=[category.pk])
    data = form_data(
        hq_client,
        url,
        {
            "code": "outerwear",
            "name": "Outerwear",
            "tax_rate": "20.00",
            "translations-TOTAL_FORMS": "1",
            "translations-0-language": "zh-hans",
            "translations-0-name": "外套",
        },
    )
    assert hq_client.post(url, data).status_code == 302
    assert CategoryTranslation.objects.get(category=category).name == "外套"
    add = reverse("admin:retail_attributetranslation_add")
    blank = hq_client.post(add, {"source": "Navy", "language": "zh-hans", "text": " "})
    assert blank.status_code == 200 and "This field is required." in blank.content.decode()
    assert hq_client.post(add, {"source": "Navy", "language": "zh-hans", "text": "藏青色"})
    twice = hq_client.post(add, {"source": "Navy", "language": "zh-hans", "text": "海军蓝"})
    assert twice.status_code == 200
    assert AttributeTranslation.objects.get().text == "藏青色"
    with translation.override("zh-hans"):
        assert catalogue.term("navy") == "藏青色"
        assert catalogue.category_name(category) == "外套"


def test_only_hq_opens_the_translations_in_admin(client, store):
    client.force_login(factories.StaffFactory(role="store_manager", home_store=store))
    response = client.get(reverse("admin:retail_attributetranslation_changelist"))
    assert response.status_code in (302, 403)


# --- Reading --------------------------------------------------------------------------


def test_names_fall_back_to_english_without_a_translation():
    category = factories.CategoryFactory(code="knitwear", name="Knitwear")
    jumper = factories.ProductFactory(name="Merino crew jumper", category=category)
    scarf = factories.ProductFactory(name="Wool scarf", category=category)
    factories.ProductTranslationFactory(
        product=jumper, name="美利奴羊毛圆领毛衣", description="细腻。"
    )
    with translation.override("zh-hans"):
        assert catalogue.product_name(jumper) == "美利奴羊毛圆领毛衣"
        assert catalogue.product_name(scarf) == "Wool scarf"  # not translated
        assert catalogue.category_name(category) == "Knitwear"
        assert catalogue.product_description(jumper) == "细腻。"
        assert catalogue.product_description(scarf) == scarf.description
        assert catalogue.term("Cobalt") == "Cobalt"
    with translation.override("en"):
        assert catalogue.product_name(jumper) == "Merino crew jumper"
    assert catalogue.product_name({"id": jumper.pk, "name": "x"}, "zh-hans") == "美利奴羊毛圆领毛衣"
    assert catalogue.reader_language("zh-cn") == "zh-hans"
    assert catalogue.reader_language("en-gb") is None
    assert catalogue.reader_language("fr") is None


# --- Pages ----------------------------------------------------------------------------


@pytest.fixture
def tablet(store):
    client = Client()
    client.force_login(factories.StaffFactory(role="associate", home_store=store))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def test_the_cart_and_the_pickup_lines_read_in_chinese(tablet, store):
    net = network(store)
    factories.ProductTranslationFactory(product=net["jumper"].product, name="美利奴羊毛毛衣")
    factories.AttributeTranslationFactory(source="navy", text="藏青色")
    added = tablet.post(reverse("cart:add"), {"sku": net["jumper"].sku}, HTTP_HX_REQUEST="true")
    assert "美利奴羊毛毛衣" in added.content.decode()
    cart = tablet.get(reverse("cart:detail")).content.decode()
    assert "美利奴羊毛毛衣" in cart and "藏青色" in cart and "Merino jumper" not in cart
    f = place(store, [(net["jumper"], 1), (net["scarf"], 1)]).fulfillments.get()
    pickup = tablet.get(reverse("orders_store:detail", args=[f.pk])).content.decode()
    assert "美利奴羊毛毛衣" in pickup and "Wool scarf" in pickup  # the scarf: no translation
    tablet.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = tablet.get(reverse("orders_store:detail", args=[f.pk])).content.decode()
    assert "Merino jumper" in english and "美利奴羊毛毛衣" not in english


def test_the_customer_page_shows_product_cards_in_chinese(tablet, store):
    from tests.clienteling.factories import BrowsingEventFactory

    net = network(store)
    factories.ProductTranslationFactory(product=net["jumper"].product, name="美利奴羊毛毛衣")
    customer = factories.CustomerFactory(tracking_consent=True, preferred_store=store)
    BrowsingEventFactory(customer=customer, variant=net["jumper"])
    panel = tablet.get(f"/store/customers/{customer.pk}/").content.decode()
    viewed = panel[panel.index('id="viewed"') :]
    assert "美利奴羊毛毛衣" in viewed and "Merino jumper" not in viewed


# --- The demo catalogue ---------------------------------------------------------------


def test_every_demo_product_category_and_word_has_a_chinese_name():
    plans = list(demo.catalog_plan("small"))
    assert plans and all(p.translations["zh-hans"]["name"] for p in plans)
    by_name = {p.product["name"]: p.translations["zh-hans"] for p in plans}
    assert by_name["Wool-Blend Overcoat"]["name"] == "羊毛混纺大衣"
    assert by_name["Merino V-Neck Jumper"]["name"] == "美利奴羊毛V领毛衣"
    assert "Northline 出品的" in by_name["Wool-Blend Overcoat"]["description"]
    [glossary] = demo.catalogue_glossaries()
    assert {c.code for c in demo.CATEGORIES} == set(glossary["categories"])
    words = {**glossary["materials"], **glossary["terms"]}
    for colour, _code, _rgb in demo.COLOURS:
        assert colour in words
    for size in {s for c in demo.CATEGORIES for s in c.sizes if not s.isdigit()}:
        assert size in words or size in ("XS", "S", "M", "L", "XL")
    for word in (*demo.FITS, *demo.CARE, "material", "care", "fit"):
        assert word in words


def test_seeding_the_demo_catalogue_twice_duplicates_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ctx = demo.DemoContext(scale="small", stdout=io.StringIO())
    demo.seed_catalog(ctx)
    counts = (
        ProductTranslation.objects.count(),
        CategoryTranslation.objects.count(),
        AttributeTranslation.objects.count(),
    )
    assert counts[0] == Product.objects.count() and counts[1] == len(demo.CATEGORIES)
    ProductTranslation.objects.filter(name="羊毛混纺大衣").update(name="旧名称")
    demo.seed_catalog(ctx)
    assert (
        ProductTranslation.objects.count(),
        CategoryTranslation.objects.count(),
        AttributeTranslation.objects.count(),
    ) == counts
    assert not ProductTranslation.objects.filter(name="旧名称").exists()  # put right again
    with translation.override("zh-hans"):
        overcoat = Product.objects.get(name="Wool-Blend Overcoat")
        assert catalogue.product_name(overcoat) == "羊毛混纺大衣"
        assert catalogue.category_name(overcoat.category) == "外套"
        assert dict(catalogue.attributes(overcoat))["材质"] == "羊毛混纺"


# --- For the catalog API (issue #22) ----------------------------------------------------


def test_translations_are_set_in_the_catalog_apis_shape(django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    from retail.models import AuditLog
    from retail.services import product_translations_set

    jumper = factories.ProductFactory(name="Merino crew jumper")
    with django_capture_on_commit_callbacks(execute=True):
        changed = product_translations_set(
            product=jumper,
            translations={"zh-hans": {"name": " 美利奴羊毛毛衣 ", "description": "细腻。"}},
            by=None,
        )
    assert changed == ["zh-hans"]
    assert catalogue.translations_json(jumper) == {
        "zh-hans": {"name": "美利奴羊毛毛衣", "description": "细腻。"}
    }
    assert catalogue.product_name(jumper, "zh-hans") == "美利奴羊毛毛衣"
    # The same again changes nothing; a name alone keeps the description.
    assert (
        product_translations_set(
            product=jumper, translations={"zh-hans": {"name": "美利奴羊毛毛衣"}}, by=None
        )
        == []
    )
    assert AuditLog.objects.filter(action="product.translations_set").count() == 1
    for bad, key in (
        ({"zh-hans": {"name": ""}}, "translations.zh-hans.name"),
        ({"zh-hans": {"description": "x"}}, "translations.zh-hans.name"),
        ({"fr": {"name": "Pull"}}, "translations.fr"),
        ({"zh-hans": "毛衣"}, "translations.zh-hans"),
        ({"zh-hans": {"name": "毛衣", "description": 3}}, "translations.zh-hans.description"),
    ):
        with pytest.raises(ValidationError) as refused:
            product_translations_set(product=jumper, translations=bad, by=None)
        assert key in refused.value.message_dict, bad
    assert ProductTranslation.objects.get().name == "美利奴羊毛毛衣"  # nothing written
