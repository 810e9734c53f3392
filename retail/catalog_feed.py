"""The catalog from the retailer's product-information system: products with their
variants, prices and translations, created or updated in one all-or-nothing call.

`catalog_apply` is the one door: the API's `PUT /api/v1/products/{style_code}/` sends
one product through it, HQ's catalog import sends a whole file. Both get the same
checks as admin (each field's own validators), the same error paths, and the same
outcome: per product, what changed (field → old, new), so an import's dry run can show
it row by row.

- A field left out (`None`) keeps its value on an update and takes the model's default
  on a create. A variant left out keeps existing; nothing is ever deleted here
  (deactivate with `active=False`).
- Prices are written with their time (`PriceChange`), the history the returns policy
  and the lowest-price rule read. Writes are bulk, so `Variant.save()`'s own recording
  does not run: this module records each new or changed price itself.
- A SKU that belongs to another product is refused (`sku_conflicts`), as is a barcode
  another variant carries, a SKU twice in one call and a style code twice.
- Every product written leaves an audit row (who: the user or the API client; which
  fields). Caches of the catalog reload after commit (`catalog_changed`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from retail import catalogue
from retail.bulk import bulk_set
from retail.models import (
    AuditLog,
    Category,
    PriceChange,
    Product,
    ProductTranslation,
    Variant,
    catalogue_languages,
)

# Sent after a commit that changed the catalog; `inventory` reloads its search index.
catalog_changed = Signal()

CHUNK = 5000
ATTRIBUTE_KEY_MAX = 100
ATTRIBUTE_VALUE_MAX = 200


@dataclass
class VariantIn:
    sku: str
    price: Decimal
    barcode: str | None = None
    size: str | None = None
    colour: str | None = None
    active: bool | None = None


@dataclass
class ProductIn:
    style_code: str
    name: str
    category: str
    variants: list[VariantIn]
    brand: str | None = None
    description: str | None = None
    translations: dict[str, dict[str, str]] | None = None
    attributes: dict | None = None
    active: bool | None = None


@dataclass
class ProductOutcome:
    style_code: str
    created: bool
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)
    product_id: int | None = None
    product: Product | None = field(default=None, repr=False, compare=False)


class CatalogRefused(Exception):
    """Nothing was written. `errors`: product index → field path → messages; paths
    are `name`, `category`, `translations.zh-hans.name`, `variants.2.price`, …
    `sku_conflicts`: the SKUs that belong to another product; `only_conflicts`: whether
    they are the only errors (a conflict rather than bad input)."""

    def __init__(
        self,
        errors: dict[int, dict[str, list[str]]],
        sku_conflicts: Iterable[str] = (),
        conflict_paths: Iterable[tuple[int, str]] = (),
    ):
        self.errors = errors
        self.sku_conflicts = sorted(set(sku_conflicts))
        paths = {(i, path) for i, found in errors.items() for path in found}
        self.only_conflicts = bool(self.sku_conflicts) and paths <= set(conflict_paths)
        super().__init__(_("The catalog was not changed: some products have errors."))


# --- Checking ------------------------------------------------------------------------


def _field_errors(model, name: str, value) -> list[str]:
    """The model field's own checks (length, format, decimals, minimum), as admin runs them."""
    return _field_clean(model, name, value)[1]


def _field_clean(model, name: str, value) -> tuple[object, list[str]]:
    try:
        return model._meta.get_field(name).clean(value, None), []
    except ValidationError as exc:
        return value, list(exc.messages)


def _category_finder(products: Sequence[ProductIn]):
    wanted = {(p.category or "").strip() for p in products}
    by_code = {c.code: c for c in Category.objects.filter(code__in=wanted)}
    by_name: dict[str, list[Category]] = defaultdict(list)
    for category in Category.objects.all():
        by_name[category.name.strip().casefold()].append(category)

    def find(text: str) -> tuple[Category | None, str]:
        text = (text or "").strip()
        if not text:
            return None, _("Give the product's category.")
        if text in by_code:
            return by_code[text], ""
        named = by_name.get(text.casefold(), [])
        if len(named) == 1:
            return named[0], ""
        if named:
            return None, _(
                "Several categories are named “%(name)s”: give the category's code instead."
            ) % {"name": text}
        return None, _("There is no category named “%(name)s”.") % {"name": text}

    return find


def _check_attributes(attributes) -> list[str]:
    if not isinstance(attributes, dict):
        return [_("Attributes are names with their values.")]
    for key, value in attributes.items():
        if not isinstance(key, str) or not key.strip() or len(key) > ATTRIBUTE_KEY_MAX:
            return [
                _("An attribute's name is text of 1 to %(n)s characters.")
                % {"n": ATTRIBUTE_KEY_MAX}
            ]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return [_("The attribute “%(name)s” must have a text or a number.") % {"name": key}]
        if len(str(value)) > ATTRIBUTE_VALUE_MAX:
            return [
                _("The attribute “%(name)s” is longer than %(n)s characters.")
                % {"name": key, "n": ATTRIBUTE_VALUE_MAX}
            ]
    return []


def _check_translations(translations) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(translations, dict):
        return {"translations": [_("Translations are given per language.")]}
    languages = dict(catalogue_languages())
    for language, texts in translations.items():
        path = f"translations.{language}"
        if language not in languages:
            errors[path] = [
                _("Translations can be in: %(languages)s.") % {"languages": ", ".join(languages)}
            ]
            continue
        if not isinstance(texts, dict) or set(texts) - {"name", "description"}:
            errors[path] = [_("A translation has a name and, optionally, a description.")]
            continue
        name = texts.get("name")
        if not isinstance(name, str) or not name.strip():
            errors[f"{path}.name"] = [_("Give the translated name; it cannot be empty.")]
        else:
            found = _field_errors(ProductTranslation, "name", name.strip())
            if found:
                errors[f"{path}.name"] = found
        description = texts.get("description")
        if description is not None and not isinstance(description, str):
            errors[f"{path}.description"] = [_("A description is text.")]
    return errors


def _check_variant(variant: VariantIn, path: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    checks = [("sku", variant.sku), ("price", variant.price)]
    checks += [(n, getattr(variant, n)) for n in ("size", "colour") if getattr(variant, n)]
    if variant.barcode:
        checks.append(("barcode", variant.barcode))
    for name, value in checks:
        value, found = _field_clean(Variant, name, value)
        if found:
            errors[f"{path}.{name}"] = found
        elif name == "price":
            variant.price = value
    return errors


def _check(products: Sequence[ProductIn]):
    """Every error of every product, and the categories found."""
    errors: dict[int, dict[str, list[str]]] = defaultdict(dict)
    find = _category_finder(products)
    categories: dict[int, Category] = {}
    seen_styles: dict[str, int] = {}
    seen_skus: dict[str, tuple[int, int]] = {}
    seen_barcodes: dict[str, str] = {}
    for i, p in enumerate(products):
        found = errors[i]
        p.style_code = (p.style_code or "").strip()
        for name, value in (("style_code", p.style_code), ("name", (p.name or "").strip())):
            messages = _field_errors(Product, name, value)
            if messages:
                found[name] = messages
        if p.style_code in seen_styles:
            found["style_code"] = [
                _("The style code %(code)s is given twice.") % {"code": p.style_code}
            ]
        seen_styles.setdefault(p.style_code, i)
        if p.brand:
            messages = _field_errors(Product, "brand", p.brand.strip())
            if messages:
                found["brand"] = messages
        category, problem = find(p.category)
        if problem:
            found["category"] = [problem]
        else:
            categories[i] = category
        if p.attributes is not None:
            messages = _check_attributes(p.attributes)
            if messages:
                found["attributes"] = messages
        if p.translations is not None:
            found.update(_check_translations(p.translations))
        if not p.variants:
            found["variants"] = [_("A product has at least one variant.")]
        for j, v in enumerate(p.variants):
            path = f"variants.{j}"
            v.sku = (v.sku or "").strip()
            found.update(_check_variant(v, path))
            if v.sku in seen_skus:
                found[f"{path}.sku"] = [_("The SKU %(sku)s is given twice.") % {"sku": v.sku}]
            seen_skus.setdefault(v.sku, (i, j))
            if v.barcode:
                other = seen_barcodes.setdefault(v.barcode, v.sku)
                if other != v.sku:
                    found[f"{path}.barcode"] = [
                        _("The barcode %(code)s is given to %(sku)s too.")
                        % {"code": v.barcode, "sku": other}
                    ]
    return errors, categories


def _in_chunks(values: Iterable, query):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield from query(values[start : start + CHUNK])


# --- Applying ---------------------------------------------------------------------------


def catalog_apply(
    products: Sequence[ProductIn],
    *,
    by=None,
    api_client=None,
    source: str = "",
    dry_run: bool = False,
) -> list[ProductOutcome]:
    """Create or update `products` (all of them, or nothing: `CatalogRefused`). With
    `dry_run`, the same work is done and rolled back, so the outcome is exactly what an
    apply would do. Two calls racing to create the same product: the second becomes an
    update."""
    try:
        return _apply(products, by=by, api_client=api_client, source=source, dry_run=dry_run)
    except IntegrityError:
        return _apply(products, by=by, api_client=api_client, source=source, dry_run=dry_run)


class _DryRun(Exception):
    pass


def _apply(products, *, by, api_client, source, dry_run) -> list[ProductOutcome]:
    outcomes: list[ProductOutcome] = []
    try:
        with transaction.atomic():
            outcomes = _write(products, by=by, api_client=api_client, source=source)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return outcomes


def _write(products, *, by, api_client, source) -> list[ProductOutcome]:
    errors, categories = _check(products)
    styles = [p.style_code for p in products]
    existing = {
        p.style_code: p
        for p in _in_chunks(
            styles,
            lambda chunk: (
                Product.objects.select_for_update(of=("self",))
                .filter(style_code__in=chunk)
                .order_by("pk")
            ),
        )
    }
    skus = [v.sku for p in products for v in p.variants]
    owned = {
        v.sku: v
        for v in _in_chunks(
            skus,
            lambda chunk: (
                Variant.objects.select_for_update(of=("self",))
                .filter(sku__in=chunk)
                .select_related("product")
                .order_by("pk")
            ),
        )
    }
    barcodes = [v.barcode for p in products for v in p.variants if v.barcode]
    barcode_owner = dict(
        _in_chunks(
            barcodes,
            lambda chunk: Variant.objects.filter(barcode__in=chunk).values_list("barcode", "sku"),
        )
    )
    conflicts: list[str] = []
    conflict_paths: list[tuple[int, str]] = []
    for i, p in enumerate(products):
        for j, v in enumerate(p.variants):
            current = owned.get(v.sku)
            if current is not None and current.product.style_code != p.style_code:
                conflicts.append(v.sku)
                conflict_paths.append((i, f"variants.{j}.sku"))
                errors[i][f"variants.{j}.sku"] = [
                    _("The SKU %(sku)s belongs to the product %(code)s.")
                    % {"sku": v.sku, "code": current.product.style_code}
                ]
            holder = barcode_owner.get(v.barcode) if v.barcode else None
            if holder is not None and holder != v.sku:
                errors[i][f"variants.{j}.barcode"] = [
                    _("The barcode %(code)s is already on %(sku)s.")
                    % {"code": v.barcode, "sku": holder}
                ]
    errors = {i: found for i, found in errors.items() if found}
    if errors:
        raise CatalogRefused(errors, conflicts, conflict_paths)
    translations = _translations_of(existing.values())
    writer = _Writer(by=by, api_client=api_client, source=source)
    for i, p in enumerate(products):
        product = existing.get(p.style_code)
        outcome = writer.product(p, product, categories[i], translations)
        for v in p.variants:
            writer.variant(outcome, v, owned.get(v.sku))
        writer.outcomes.append(outcome)
    writer.flush()
    return writer.outcomes


def _translations_of(products) -> dict[tuple[int, str], ProductTranslation]:
    ids = [p.pk for p in products]
    return {
        (t.product_id, t.language): t
        for t in _in_chunks(
            ids, lambda chunk: ProductTranslation.objects.filter(product_id__in=chunk)
        )
    }


class _Writer:
    """Collects what changes, then writes it in bulk (a few queries per 5,000 rows)."""

    def __init__(self, *, by, api_client, source):
        self.by = by if by is not None and getattr(by, "is_authenticated", False) else None
        self.api_client = api_client
        self.source = source
        self.now = timezone.now()
        self.outcomes: list[ProductOutcome] = []
        self.new_products: list[tuple[ProductOutcome, Product]] = []
        self.changed_products: dict[str, list[Product]] = defaultdict(list)
        self.new_variants: list[tuple[ProductOutcome, Variant]] = []
        self.changed_variants: dict[str, list[Variant]] = defaultdict(list)
        self.prices: list[Variant] = []
        self.new_translations: list[tuple[ProductOutcome, ProductTranslation]] = []
        self.changed_translations: list[ProductTranslation] = []

    def product(self, p: ProductIn, product, category, translations) -> ProductOutcome:
        wanted = {
            "name": p.name.strip(),
            "category": category,
            "brand": None if p.brand is None else p.brand.strip(),
            "description": None if p.description is None else p.description.strip(),
            "attributes": p.attributes,
            "active": p.active,
        }
        if product is None:
            product = Product(
                style_code=p.style_code,
                name=wanted["name"],
                category=category,
                brand=wanted["brand"] or "",
                description=wanted["description"] or "",
                attributes=wanted["attributes"] or {},
                active=True if p.active is None else p.active,
            )
            outcome = ProductOutcome(p.style_code, created=True)
            outcome.changes["product"] = (None, p.style_code)
            self.new_products.append((outcome, product))
        else:
            outcome = ProductOutcome(p.style_code, created=False, product_id=product.pk)
            for name, value in wanted.items():
                if value is None:
                    continue
                old = getattr(product, name)
                if old != value:
                    shown = (old.name, value.name) if name == "category" else (old, value)
                    outcome.changes[name] = shown
                    setattr(product, name, value)
                    self.changed_products[name].append(product)
        for language, texts in (p.translations or {}).items():
            self._translation(outcome, product, language, texts, translations)
        outcome.product = product
        return outcome

    def _translation(self, outcome, product, language, texts, translations) -> None:
        name = texts["name"].strip()
        description = texts.get("description")
        current = translations.get((product.pk, language)) if product.pk else None
        path = f"translations.{language}"
        if current is None:
            row = ProductTranslation(
                language=language, name=name, description=(description or "").strip()
            )
            outcome.changes[f"{path}.name"] = (None, name)
            self.new_translations.append((outcome, row))
            return
        changed = False
        if current.name != name:
            outcome.changes[f"{path}.name"] = (current.name, name)
            current.name, changed = name, True
        if description is not None and current.description != description.strip():
            outcome.changes[f"{path}.description"] = (current.description, description.strip())
            current.description, changed = description.strip(), True
        if changed:
            self.changed_translations.append(current)

    def variant(self, outcome: ProductOutcome, v: VariantIn, current: Variant | None) -> None:
        path = f"variants.{v.sku}"
        if current is None:
            variant = Variant(
                sku=v.sku,
                price=v.price,
                barcode=v.barcode or None,
                size=(v.size or "").strip(),
                colour=(v.colour or "").strip(),
                active=True if v.active is None else v.active,
            )
            outcome.changes[path] = (None, str(v.price))
            self.new_variants.append((outcome, variant))
            return
        wanted = {
            "price": v.price,
            "barcode": None if v.barcode is None else (v.barcode or None),
            "size": None if v.size is None else v.size.strip(),
            "colour": None if v.colour is None else v.colour.strip(),
            "active": v.active,
        }
        for name, value in wanted.items():
            if value is None and not (name == "barcode" and v.barcode == ""):
                continue
            old = getattr(current, name)
            if old != value:
                outcome.changes[f"{path}.{name}"] = (_shown(old), _shown(value))
                setattr(current, name, value)
                self.changed_variants[name].append(current)
                if name == "price":
                    self.prices.append(current)

    def flush(self) -> None:
        fresh = [product for _o, product in self.new_products]
        for start in range(0, len(fresh), CHUNK):
            Product.objects.bulk_create(fresh[start : start + CHUNK])
        for outcome, product in self.new_products:
            outcome.product_id = product.pk
        changed = {p.pk: p for products in self.changed_products.values() for p in products}
        for p in changed.values():
            p.updated_at = self.now
        fields = [*self.changed_products, "updated_at"]
        bulk_set(list(changed.values()), fields)
        for outcome, variant in self.new_variants:
            variant.product_id = outcome.product.pk
        Variant.objects.bulk_create([v for _o, v in self.new_variants], batch_size=CHUNK)
        variants = {v.pk: v for vs in self.changed_variants.values() for v in vs}
        if variants:
            bulk_set(list(variants.values()), list(self.changed_variants))
        PriceChange.objects.bulk_create(
            [
                PriceChange(variant_id=v.pk, price=v.price, at=self.now)
                for v in [*(v for _o, v in self.new_variants), *self.prices]
            ],
            batch_size=CHUNK,
        )
        for outcome, row in self.new_translations:
            row.product_id = outcome.product.pk
        ProductTranslation.objects.bulk_create(
            [row for _o, row in self.new_translations], batch_size=CHUNK
        )
        bulk_set(self.changed_translations, ["name", "description"])
        self._audit()
        if any(o.changes for o in self.outcomes):
            transaction.on_commit(_announce)

    def _audit(self) -> None:
        detail = {"source": self.source[:100]} if self.source else {}
        if self.api_client is not None:
            detail["api_client"] = self.api_client.pk
        rows = [
            AuditLog(
                actor=self.by,
                action="catalog.product_create" if o.created else "catalog.product_update",
                target_type=Product._meta.label_lower,
                target_id=str(o.product_id),
                detail={**detail, "fields": sorted(o.changes)[:50]},
            )
            for o in self.outcomes
            if o.changes
        ]
        AuditLog.objects.bulk_create(rows, batch_size=CHUNK)


def _shown(value):
    """A value as an outcome shows it: JSON-ready (a price as "59.90")."""
    return str(value) if isinstance(value, Decimal) else value


def _announce() -> None:
    catalogue.bump()
    catalog_changed.send(sender=ProductIn)
