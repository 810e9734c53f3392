"""The catalog as the endless aisle searches it, kept in each process's memory.

Searching "as you type" over name, brand, category, style code, SKU, barcode,
size and colour would scan every variant row in SQL for each keystroke. The
catalog changes a few times a day, so each process keeps one compact entry per
active product (plain values, no model objects) and reloads when a version key
in the shared cache changes: any product, variant or category saved or deleted
drops it (`bump`), and bulk loads call `bump()` themselves. An index older than
`MAX_AGE` is reloaded anyway, as a safety net.

With the embedded default (a per-process cache) an edit reaches the other
processes within `MAX_AGE`; a deployment shares Redis and sees it at once.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from decimal import Decimal

from retail import catalogue, versions
from retail.models import Product, Variant

VERSION_KEY = "aisle:catalog-version"
MAX_AGE = 600.0  # seconds


@dataclass
class VariantEntry:
    id: int
    sku: str
    barcode: str
    size: str
    colour: str
    price: Decimal


@dataclass
class ProductEntry:
    id: int
    style_code: str
    name: str
    brand: str
    category_code: str
    category_name: str
    image: str  # the stored file's name, or ""
    variants: list[VariantEntry] = field(default_factory=list)
    text: str = ""  # lower-case text matched anywhere: name, brand, category, style, colours,
    # in English and in every translation (Chinese words are found inside names: no spaces)
    codes: str = ""  # " sku barcode ..." in lower case, matched from their start
    sizes: frozenset[str] = frozenset()  # lower-case sizes, matched whole
    size_set: frozenset[str] = frozenset()  # as written, for the filter
    colour_set: frozenset[str] = frozenset()

    @property
    def price_from(self) -> Decimal | None:
        return min((v.price for v in self.variants), default=None)

    @property
    def price_to(self) -> Decimal | None:
        return max((v.price for v in self.variants), default=None)

    @property
    def local_name(self) -> str:
        """The name in the active language (the English one when not translated)."""
        return catalogue.product_name_for(self.id, self.name)

    @property
    def local_category(self) -> str:
        return catalogue.category_name_for(self.category_code, self.category_name)

    def size_list(self) -> list[str]:
        return list(dict.fromkeys(v.size for v in self.variants if v.size))

    def colour_list(self) -> list[str]:
        return list(dict.fromkeys(v.colour for v in self.variants if v.colour))

    def fits(self, size: str, colour: str) -> bool:
        """Has a variant in this size and colour (either may be "")."""
        if (size and size not in self.size_set) or (colour and colour not in self.colour_set):
            return False
        if size and colour:
            return any(v.size == size and v.colour == colour for v in self.variants)
        return True


class Haystack:
    """One line per product (in the index's order) in one string: finding a word is
    a few C-level `find` calls per matching product, not a Python test per product."""

    def __init__(self, lines: list[str]):
        self.blob = "\n".join(lines) + "\n"
        self.starts, at = [], 0
        for line in lines:
            self.starts.append(at)
            at += len(line) + 1

    def positions(self, needle: str) -> set[int]:
        """The positions of the products whose line contains `needle`."""
        found, blob, starts = set(), self.blob, self.starts
        at = blob.find(needle)
        while at != -1:
            line = bisect.bisect_right(starts, at) - 1
            found.add(line)
            if line + 1 >= len(starts):
                break
            at = blob.find(needle, starts[line + 1])
        return found


class Prefixes:
    """Codes (SKUs, barcodes) in sorted order: the ones starting with a word are one
    binary search away, then read in a row."""

    def __init__(self, pairs: list[tuple[str, int]]):
        pairs.sort()
        self.keys = [code for code, _position in pairs]
        self.positions_of = [position for _code, position in pairs]

    def positions(self, prefix: str) -> set[int]:
        found = set()
        at = bisect.bisect_left(self.keys, prefix)
        keys = self.keys
        while at < len(keys) and keys[at].startswith(prefix):
            found.add(self.positions_of[at])
            at += 1
        return found


@dataclass
class CatalogIndex:
    products: list[ProductEntry]  # sorted by name
    by_id: dict[int, ProductEntry]
    by_style: dict[str, ProductEntry]
    categories: list[tuple[str, str]]  # (code, name), by name
    brands: list[str]
    sizes: list[str]
    colours: list[str]
    texts: Haystack = field(default=None)  # name, brand, category, style code, colours
    codes: Prefixes = field(default=None)  # SKUs and barcodes: matched from their start
    by_size: dict[str, set[int]] = field(default_factory=dict)  # lower-case size -> positions
    # Rendered pieces kept with this index (they go when it is reloaded): the tablet's
    # product cards by (product id, language), the filters' options by language.
    rendered: dict = field(default_factory=dict)

    def positions(self, term: str) -> set[int]:
        """Positions of the products a lower-case search word matches."""
        return (
            self.texts.positions(term) | self.codes.positions(term) | self.by_size.get(term, set())
        )


_loaded: dict = {"version": None, "at": 0.0, "index": None}


def bump(**_signal) -> None:
    """Signal receiver (and call after bulk loads): every process reloads."""
    versions.bump(VERSION_KEY)


def catalog_index() -> CatalogIndex:
    """The current index (two queries when it has to be loaded, and the catalogue's
    translations when they changed too). Treat as read-only."""
    version = versions.current(VERSION_KEY)
    now = time.monotonic()
    if _loaded["version"] != version or now - _loaded["at"] > MAX_AGE:
        _loaded.update(version=version, at=now, index=_load())
    return _loaded["index"]


def _load() -> CatalogIndex:
    by_id: dict[int, ProductEntry] = {}
    for row in (
        Product.objects.filter(active=True)
        .order_by("name", "pk")
        .values_list(
            "pk", "style_code", "name", "brand", "category__code", "category__name", "image"
        )
    ):
        by_id[row[0]] = ProductEntry(*row[:6], image=row[6] or "")
    for pk, product_id, sku, barcode, size, colour, price in (
        Variant.objects.filter(active=True, product_id__in=by_id.keys())
        .order_by("product_id", "pk")
        .values_list("pk", "product_id", "sku", "barcode", "size", "colour", "price")
        .iterator(chunk_size=5000)
    ):
        by_id[product_id].variants.append(
            VariantEntry(pk, sku, barcode or "", size or "", colour or "", price)
        )
    brands, sizes, colours, categories = set(), set(), set(), {}
    local = catalogue.translations(fresh=True)
    languages = {*local.products, *local.categories, *local.terms}
    for entry in by_id.values():
        words = [entry.name, entry.brand, entry.category_name, entry.style_code]
        words += entry.colour_list()
        for language in languages:
            terms = local.terms.get(language, {})
            words.append(local.products.get(language, {}).get(entry.id, ""))
            words.append(local.categories.get(language, {}).get(entry.category_code, ""))
            words += [terms.get(c.casefold(), "") for c in entry.colour_list()]
        entry.text = " ".join(w for w in words if w).lower()
        entry.codes = "".join(
            f" {code.lower()}" for v in entry.variants for code in (v.sku, v.barcode) if code
        )
        entry.size_set = frozenset(entry.size_list())
        entry.colour_set = frozenset(entry.colour_list())
        entry.sizes = frozenset(s.lower() for s in entry.size_set)
        brands.add(entry.brand)
        sizes.update(entry.size_list())
        colours.update(entry.colour_list())
        categories[entry.category_code] = entry.category_name
    products = [entry for entry in by_id.values() if entry.variants]
    by_size: dict[str, set[int]] = {}
    for position, entry in enumerate(products):
        for size in entry.sizes:
            by_size.setdefault(size, set()).add(position)
    return CatalogIndex(
        products=products,
        by_id={entry.id: entry for entry in products},
        by_style={entry.style_code: entry for entry in products},
        categories=sorted(categories.items(), key=lambda item: item[1]),
        brands=sorted(b for b in brands if b),
        sizes=sorted(sizes, key=_size_order),
        colours=sorted(colours),
        texts=Haystack([entry.text.replace("\n", " ") for entry in products]),
        codes=Prefixes(
            [(code, position) for position, e in enumerate(products) for code in e.codes.split()]
        ),
        by_size=by_size,
    )


SIZE_ORDER = ["xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl"]


def _size_order(size: str):
    """Letter sizes in wearing order, then numbers by value, then the rest."""
    low = size.lower()
    if low in SIZE_ORDER:
        return (0, SIZE_ORDER.index(low), "")
    try:
        return (1, float(low.replace(",", ".")), "")
    except ValueError:
        return (2, 0, low)
