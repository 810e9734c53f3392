"""The endless aisle in both languages: a query in Chinese finds Chinese words inside
names (羊毛 finds the wool products), English queries work as before, the tablet
shows the catalogue in its language, and the pages run the same queries either way."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.aisle import Filters, _terms, catalog_search
from retail import demo
from retail.models import Product
from tests import factories

pytestmark = pytest.mark.django_db


def product(style, name, zh, *, category, colour="navy", size="M"):
    p = factories.ProductFactory(style_code=style, name=name, brand="Fellside", category=category)
    if zh:
        factories.ProductTranslationFactory(product=p, name=zh)
    factories.VariantFactory(product=p, sku=f"{style}-{size}", size=size, colour=colour)
    return p


@pytest.fixture
def catalogue(db):
    outer = factories.CategoryFactory(code="outerwear", name="Outerwear")
    knit = factories.CategoryFactory(code="knitwear", name="Knitwear")
    acc = factories.CategoryFactory(code="accessories", name="Accessories")
    factories.CategoryTranslationFactory(category=outer, name="外套")
    factories.CategoryTranslationFactory(category=knit, name="针织衫")
    factories.AttributeTranslationFactory(source="Navy", text="藏青色")
    factories.AttributeTranslationFactory(source="Camel", text="驼色")
    return {
        "overcoat": product("OUT-1", "Wool-Blend Overcoat", "羊毛混纺大衣", category=outer),
        "trench": product(
            "OUT-2", "Waxed Cotton Trench Coat", "蜡棉风衣", category=outer, colour="Camel"
        ),
        "lambswool": product("KNT-1", "Lambswool Crew Jumper", "羔羊毛圆领毛衣", category=knit),
        "merino": product("ACC-1", "Merino Scarf", "美利奴羊毛围巾", category=acc),
        "alpaca": product("KNT-2", "Alpaca-Blend Cardigan", "羊驼毛混纺开衫", category=knit),
        "cashmere": product("ACC-2", "Cashmere Beanie", "羊绒针织帽", category=acc),
        # Not translated: shown and found in English whatever the tablet's language.
        "plain": product("ACC-3", "Wool Tote Bag", None, category=acc, colour="Black"),
    }


def found(query, **filters) -> set[str]:
    store = factories.StoreFactory(code="S01")
    page = catalog_search(query=query, store=store, filters=Filters(**filters))
    return {hit.product.style_code for hit in page.hits}


def test_yangmao_finds_the_wool_products_and_only_them(catalogue):
    # 羊毛 (wool) inside 羊毛混纺大衣, 羔羊毛圆领毛衣 and 美利奴羊毛围巾; not alpaca
    # (羊驼毛), cashmere (羊绒) or a product nobody translated.
    assert found("羊毛") == {"OUT-1", "KNT-1", "ACC-1"}
    assert found("羊绒") == {"ACC-2"}
    assert found("大衣") == {"OUT-1"}
    assert found("丝绸") == set()


def test_english_queries_find_what_they_did(catalogue):
    assert found("wool") == {"OUT-1", "KNT-1", "ACC-3"}  # lambswool; the untranslated bag
    assert found("coat") == {"OUT-1", "OUT-2"}
    assert found("merino scarf") == {"ACC-1"}
    assert found("knitwear") == {"KNT-1", "KNT-2"}
    assert found("OUT-2-m") == {"OUT-2"}  # a SKU from its start


def test_mixed_and_unspaced_chinese_queries(catalogue):
    assert found("羊毛 coat") == {"OUT-1"}
    assert found("wool 毛衣") == {"KNT-1"}
    assert found("羊毛coat") == {"OUT-1"}  # no space between the scripts
    assert found("羊毛大衣") == {"OUT-1"}  # two words typed as one: 羊毛 and 大衣
    assert found("羊毛围巾") == {"ACC-1"}
    assert found("羊毛开衫") == set()  # 开衫 is the alpaca one
    assert _terms("羊毛大衣 Coat") == ["羊毛", "大衣", "coat"]


def test_chinese_category_and_colour_names_are_searched(catalogue):
    assert found("外套") == {"OUT-1", "OUT-2"}
    assert found("驼色") == {"OUT-2"}
    assert found("藏青 针织衫") == {"KNT-1", "KNT-2"}


def test_a_changed_translation_is_found_at_once(catalogue):
    assert found("羊毛") == {"OUT-1", "KNT-1", "ACC-1"}
    factories.ProductTranslationFactory(product=catalogue["plain"], name="羊毛托特包")
    assert found("托特包") == {"ACC-3"}
    assert found("羊毛") == {"OUT-1", "KNT-1", "ACC-1", "ACC-3"}
    catalogue["overcoat"].translations.all().delete()
    assert found("大衣") == set()
    assert found("overcoat") == {"OUT-1"}


@pytest.fixture
def tablet(store):
    client = Client()
    client.force_login(factories.StaffFactory(role="associate", home_store=store))
    return client


def chinese(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def test_the_aisle_shows_chinese_names_to_a_chinese_tablet(tablet, catalogue):
    url = reverse("aisle:search")
    english = tablet.get(url, {"q": "wool"}).content.decode()
    assert "Wool-Blend Overcoat" in english and "羊毛混纺大衣" not in english
    assert "Outerwear" in english and ">外套<" not in english
    html = chinese(tablet).get(url, {"q": "羊毛"}).content.decode()
    assert "羊毛混纺大衣" in html and "Wool-Blend Overcoat" not in html
    assert "外套" in html  # the category on the card and in the filter
    assert '<option value="navy">藏青色</option>' in html  # the filter keeps the value
    product = tablet.get(reverse("aisle:product", args=["OUT-1"])).content.decode()
    assert "<h1>羊毛混纺大衣</h1>" in product and "藏青色" in product


def test_a_product_without_translation_reads_in_english(tablet, catalogue):
    html = chinese(tablet).get(reverse("aisle:search"), {"q": "tote"}).content.decode()
    assert "Wool Tote Bag" in html
    product = tablet.get(reverse("aisle:product", args=["ACC-3"])).content.decode()
    assert "<h1>Wool Tote Bag</h1>" in product


def count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_aisle_pages_run_the_same_queries_in_both_languages_at_two_sizes(tablet, store, catalogue):
    search, page = reverse("aisle:search"), reverse("aisle:product", args=["OUT-1"])
    count(tablet, search, {"q": "wool"})  # the index and the names are loaded once
    count(tablet, page)
    english = (count(tablet, search, {"q": "wool"}), count(tablet, page))
    chinese(tablet)
    count(tablet, search, {"q": "羊毛"})
    small = (count(tablet, search, {"q": "羊毛"}), count(tablet, page))
    assert small == english
    knit = catalogue["lambswool"].category
    for n in range(30):
        p = product(f"BIG-{n}", f"Wool jumper {n}", f"羊毛毛衣 {n}", category=knit)
        factories.CategoryTranslationFactory(category=factories.CategoryFactory(), name=f"类 {n}")
        factories.AttributeTranslationFactory(source=f"Colour {n}", text=f"颜色 {n}")
        assert p.pk
    count(tablet, search, {"q": "羊毛"})  # reloaded after the changes
    large = (count(tablet, search, {"q": "羊毛"}), count(tablet, page))
    assert large == small
    tablet.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert (count(tablet, search, {"q": "wool"}), count(tablet, page)) == english


@pytest.fixture
def demo_catalogue(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # the demo draws product images
    ctx = demo.DemoContext(scale="small", stdout=io.StringIO())
    demo.seed_catalog(ctx)
    return ctx


WOOL = {"Wool", "Wool-Blend", "Lambswool", "Merino"}  # merino is wool; alpaca, cashmere not


def test_yangmao_finds_the_wool_products_of_the_demo_catalogue(demo_catalogue):
    wool = {
        p.style_code
        for p in Product.objects.filter(active=True)
        if p.attributes["material"] in WOOL
    }
    assert len(wool) >= 6
    store = factories.StoreFactory(code="S01")
    hits, page_no = set(), 1
    while True:
        page = catalog_search(query="羊毛", store=store, page=page_no)
        hits |= {hit.product.style_code for hit in page.hits}
        if not page.has_next:
            break
        page_no += 1
    assert hits == wool
    english = catalog_search(query="wool", store=store)
    assert {h.product.style_code for h in english.hits} == {
        p.style_code
        for p in Product.objects.filter(active=True)
        if "wool" in p.attributes["material"].lower()
    }
