"""The catalogue's text in the reader's language: product names, category names and
the catalogue's words (attribute names and values, colours, sizes).

English is the catalogue's own language; a translation (`ProductTranslation`,
`CategoryTranslation`, `AttributeTranslation`) replaces it for readers of that
language, and anything not translated reads as written. Pages call these helpers
(or the `catalogue` template filters) with the object they already hold, so a
translated page runs the same queries as an English one: the names are kept in
each process's memory (a few short strings per product) and reloaded when the
version key in the shared cache changes. Saving or deleting a translation bumps
it (`bump`, connected in `RetailConfig.ready`); bulk loads call `bump()` themselves.
Descriptions are longer and read where they are shown (`product_description`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation

from retail import versions

VERSION_KEY = "aisle:catalogue-translations"
CHECK_EVERY = 1.0  # seconds between two looks at the version key in one process
MAX_AGE = 600.0  # reloaded anyway after this long


@dataclass
class Translations:
    products: dict[str, dict[int, str]] = field(default_factory=dict)  # lang -> id -> name
    categories: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> code -> name
    terms: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> english -> text


_loaded: dict = {"version": None, "checked": 0.0, "at": 0.0, "data": Translations()}


def bump(**_signal) -> None:
    """Signal receiver (and call after bulk loads): every process reloads."""
    versions.bump(VERSION_KEY)
    _loaded.update(version=None, checked=0.0)


def forget() -> None:
    """Drop this process's copy (the next reader loads it again)."""
    _loaded.update(version=None, checked=0.0, at=0.0, data=Translations())


def translations(*, fresh: bool = False) -> Translations:
    """The names in every language (three queries when they have to be loaded).
    `fresh` looks at the version key now rather than up to `CHECK_EVERY` late."""
    now = time.monotonic()
    if fresh or _loaded["version"] is None or now - _loaded["checked"] > CHECK_EVERY:
        version = versions.current(VERSION_KEY)
        _loaded["checked"] = now
        if _loaded["version"] != version or now - _loaded["at"] > MAX_AGE:
            _loaded.update(version=version, at=now, data=_load())
    return _loaded["data"]


def _load() -> Translations:
    from retail.models import AttributeTranslation, CategoryTranslation, ProductTranslation

    data = Translations()
    for product_id, language, name in ProductTranslation.objects.values_list(
        "product_id", "language", "name"
    ).iterator(chunk_size=5000):
        data.products.setdefault(language, {})[product_id] = name
    for code, language, name in CategoryTranslation.objects.values_list(
        "category__code", "language", "name"
    ):
        data.categories.setdefault(language, {})[code] = name
    for source, language, text in AttributeTranslation.objects.values_list(
        "source", "language", "text"
    ):
        data.terms.setdefault(language, {})[source.casefold()] = text
    return data


def reader_language(language: str | None = None) -> str | None:
    """The translation language to read (`language`, else the active one), or None
    when that is the catalogue's own language or one it has no translations in."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    if code == settings.LANGUAGE_CODE or code.split("-")[0] == settings.LANGUAGE_CODE:
        return None
    known = {c for c, _name in settings.LANGUAGES}
    if code in known:
        return code
    # "zh-cn" or "zh" reads the catalogue's Chinese when there is one kind of Chinese.
    same = [c for c in known if c.split("-")[0] == code.split("-")[0]]
    return same[0] if len(same) == 1 else None


# --- By key (the index and cached cards hold plain values) ----------------------------


def product_name_for(product_id: int, english: str, language: str | None = None) -> str:
    lang = reader_language(language)
    if lang is None:
        return english
    return translations().products.get(lang, {}).get(product_id) or english


def category_name_for(code: str, english: str, language: str | None = None) -> str:
    lang = reader_language(language)
    if lang is None:
        return english
    return translations().categories.get(lang, {}).get(code) or english


def term(text: str, language: str | None = None) -> str:
    """A catalogue word (attribute name or value, colour, size) in the reader's language."""
    lang = reader_language(language)
    if lang is None or not text:
        return text
    return translations().terms.get(lang, {}).get(str(text).casefold()) or text


# --- By object ------------------------------------------------------------------------


def _key(obj, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def product_name(product, language: str | None = None) -> str:
    """The name of a `Product` (or anything with its `id`/`pk` and English `name`, such
    as the aisle's index entries and cached product cards) in the reader's language."""
    if product is None:
        return ""
    pk = _key(product, "pk") or _key(product, "id")
    return product_name_for(pk, _key(product, "name") or "", language)


def category_name(category, language: str | None = None) -> str:
    """The name of a `Category` (or anything with its `code` and English `name`)."""
    if category is None:
        return ""
    return category_name_for(_key(category, "code"), _key(category, "name") or "", language)


def product_description(product, language: str | None = None) -> str:
    """The product's description in the reader's language (one query, none when the
    product's `translations` were prefetched), else the English one."""
    lang = reader_language(language)
    if lang is not None:
        rows = getattr(product, "_prefetched_objects_cache", {}).get("translations")
        if rows is None:
            rows = product.translations.filter(language=lang)
        for row in rows:
            if row.language == lang and row.description:
                return row.description
    return product.description


def attributes(product, language: str | None = None) -> list[tuple[str, str]]:
    """The product's attributes as (name, value) pairs in the reader's language."""
    return [
        (term(str(key), language), term(str(value), language))
        for key, value in (product.attributes or {}).items()
    ]


def translations_json(product) -> dict[str, dict[str, str]]:
    """The product's translations in the catalog API's shape (one query, none when
    `translations` were prefetched): `{"zh-hans": {"name", "description"}}`."""
    return {
        row.language: {"name": row.name, "description": row.description}
        for row in sorted(product.translations.all(), key=lambda r: r.language)
    }
