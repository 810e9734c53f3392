"""The catalog: one row per variant, grouped into products by `style_code`.

Columns: `style_code, name, name_zh, brand, category, description, description_zh,
attributes, product_active, sku, barcode, price, size, colour, active`. The rows of one
style code are one product and agree on the product's columns (`name` … `product_active`);
they need not follow each other. Each batch of rows goes through
`retail.catalog_feed.catalog_apply`, the API's own door: the same checks, the same
price history and audit rows.

- `category`: a category's code (what the export writes) or its name.
- `attributes`: a JSON object, e.g. `{"material": "Merino wool", "care": "Hand wash"}`
  (names with text or number values). JSON keeps every value exactly as the API gave it,
  so a file exported and imported back changes nothing; an empty cell is no attributes.
- `name_zh`, `description_zh`: the product in Simplified Chinese (an empty `name_zh`
  keeps the translation Aisle has).
- `price`: tax included, at most two decimals.
- An empty `barcode`, `size`, `colour` or `description` cell makes it empty; an empty
  `brand`, `product_active` or `active` keeps what Aisle has (a new product or variant
  is active). A column left out keeps what Aisle has.
- A variant missing from the file is kept (nothing is deleted; deactivate it with
  `active` no).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retail.imports import cells
from retail.imports.base import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Batch,
    Column,
    Kind,
    Row,
    RowChange,
    RowErrors,
)
from retail.models import Category, Product, ProductTranslation, Variant

ZH = "zh-hans"
PRODUCT_COLUMNS = (
    "name",
    "name_zh",
    "brand",
    "category",
    "description",
    "description_zh",
    "attributes",
    "product_active",
)
# catalog_feed's paths -> this file's columns
PRODUCT_PATHS = {
    "style_code": "style_code",
    "name": "name",
    "brand": "brand",
    "category": "category",
    "description": "description",
    "attributes": "attributes",
    "active": "product_active",
    f"translations.{ZH}.name": "name_zh",
    f"translations.{ZH}.description": "description_zh",
    f"translations.{ZH}": "name_zh",
    "translations": "name_zh",
    "variants": "sku",
}
VARIANT_FIELDS = ("sku", "price", "barcode", "size", "colour", "active")


@dataclass
class CatalogRow:
    style_code: str
    name: str
    category: str
    name_zh: str | None
    brand: str | None
    description: str | None
    description_zh: str | None
    attributes: dict | None
    product_active: bool | None
    sku: str
    price: Decimal
    barcode: str | None
    size: str | None
    colour: str | None
    active: bool | None

    def product_values(self) -> tuple:
        return tuple(
            json.dumps(v, sort_keys=True) if isinstance(v, dict) else v
            for v in (getattr(self, c) for c in PRODUCT_COLUMNS)
        )


def _model_errors(model, name: str, value) -> list[str]:
    try:
        model._meta.get_field(name).clean(value, None)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def parse_attributes(text: str) -> dict:
    """A JSON object of attributes; an empty cell is none."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise cells.CellError(
            _(
                'Attributes are a JSON object, e.g. {"material": "Wool"}: %(reason)s at '
                "character %(position)s."
            )
            % {"reason": exc.msg, "position": exc.pos + 1}
        ) from None
    if not isinstance(value, dict):
        raise cells.CellError(_('Attributes are a JSON object, e.g. {"material": "Wool"}.'))
    return value


def attributes_text(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False) if value else ""


class CatalogKind(Kind):
    code = "catalog"
    verbose_name = gettext_lazy("Catalog")
    batch_size = 1000
    columns = (
        Column("style_code", help=gettext_lazy("The product's style code: its rows share it.")),
        Column("name", help=gettext_lazy("The product's name in English.")),
        Column("name_zh", required=False, help=gettext_lazy("Its name in Simplified Chinese.")),
        Column("brand", required=False),
        Column("category", help=gettext_lazy("A category's code or name.")),
        Column("description", required=False),
        Column("description_zh", required=False),
        Column(
            "attributes",
            required=False,
            help=gettext_lazy('A JSON object, e.g. {"material": "Merino wool"}.'),
        ),
        Column("product_active", required=False, help=gettext_lazy("yes or no.")),
        Column("sku", help=gettext_lazy("The variant's SKU.")),
        Column("barcode", required=False, help=gettext_lazy("EAN-13.")),
        Column("price", help=gettext_lazy("Tax included, at most two decimals, e.g. 59.90.")),
        Column("size", required=False),
        Column("colour", required=False),
        Column("active", required=False, help=gettext_lazy("The variant is sold: yes or no.")),
    )

    def __init__(self):
        self.categories_by_code: dict[str, Category] | None = None
        self.categories_by_name: dict[str, list[Category]] = {}

    # --- One row -------------------------------------------------------------------

    def parse(self, row):
        errors: dict[str, list[str]] = {}
        values: dict = {}

        def read(column, reader):
            try:
                values[column] = reader(row.get(column, ""))
            except cells.CellError as exc:
                errors[column] = [exc.message]

        for column in ("style_code", "name", "category", "sku"):
            read(column, cells.required)
        read("price", cells.price)
        for column in ("product_active", "active"):
            read(column, cells.boolean)
        values["brand"] = row.get("brand") or None
        values["name_zh"] = row.get("name_zh") or None
        for column in ("description", "description_zh", "barcode", "size", "colour"):
            values[column] = row.get(column) if column in row else None
        if "attributes" in row:
            read("attributes", parse_attributes)
        else:
            values["attributes"] = None
        if values.get("description_zh") and not values.get("name_zh"):
            errors["name_zh"] = [_("Give the Chinese name with the Chinese description.")]
        for model, column, field in (
            (Product, "style_code", "style_code"),
            (Product, "name", "name"),
            (Product, "brand", "brand"),
            (ProductTranslation, "name_zh", "name"),
            (Variant, "sku", "sku"),
            (Variant, "barcode", "barcode"),
            (Variant, "size", "size"),
            (Variant, "colour", "colour"),
        ):
            if values.get(column) and column not in errors:
                found = _model_errors(model, field, values[column])
                if found:
                    errors[column] = found
        if errors:
            return None, errors
        return CatalogRow(**values), {}

    def identity(self, item: CatalogRow):
        return "sku", item.sku, item.sku

    def cross_check(self, row: Row, memo: dict):
        item: CatalogRow = row.item
        styles = memo.setdefault("styles", {})
        first = styles.setdefault(item.style_code, (row.number, item.product_values()))
        errors: dict[str, list[str]] = {}
        if first[0] != row.number:
            for column, mine, theirs in zip(
                PRODUCT_COLUMNS, item.product_values(), first[1], strict=True
            ):
                if mine != theirs:
                    errors[column] = [
                        _(
                            "Row %(row)s gives the product %(style)s another %(column)s: the "
                            "rows of one style_code agree on the product's columns."
                        )
                        % {"row": first[0], "style": item.style_code, "column": column}
                    ]
        if item.barcode:
            barcodes = memo.setdefault("barcodes", {})
            other = barcodes.setdefault(item.barcode, (row.number, item.sku))
            if other[1] != item.sku:
                errors["barcode"] = [
                    _("The barcode %(code)s is also on row %(row)s.")
                    % {"code": item.barcode, "row": other[0]}
                ]
        return errors

    # --- Look-ups ------------------------------------------------------------------

    def _category_problem(self, text: str) -> str:
        if self.categories_by_code is None:
            self.categories_by_code = {}
            for category in Category.objects.all():
                self.categories_by_code[category.code] = category
                self.categories_by_name.setdefault(category.name.strip().casefold(), []).append(
                    category
                )
        if text in self.categories_by_code:
            return ""
        named = self.categories_by_name.get(text.strip().casefold(), [])
        if len(named) == 1:
            return ""
        if named:
            return _(
                "Several categories are named “%(name)s”: give the category's code instead."
            ) % {"name": text}
        return _("There is no category with the code or name “%(name)s”.") % {"name": text}

    def check(self, batch: Batch):
        errors: dict[int, dict[str, list[str]]] = {}
        skus = [row.item.sku for row in batch]
        owners = dict(
            Variant.objects.filter(sku__in=skus).values_list("sku", "product__style_code")
        )
        barcodes = [row.item.barcode for row in batch if row.item.barcode]
        barcode_owner = dict(
            Variant.objects.filter(barcode__in=barcodes).values_list("barcode", "sku")
        )
        for row in batch:
            item: CatalogRow = row.item
            found = {}
            problem = self._category_problem(item.category)
            if problem:
                found["category"] = [problem]
            owner = owners.get(item.sku)
            if owner is not None and owner != item.style_code:
                found["sku"] = [
                    _("The SKU %(sku)s belongs to the product %(code)s.")
                    % {"sku": item.sku, "code": owner}
                ]
            holder = barcode_owner.get(item.barcode) if item.barcode else None
            if holder is not None and holder != item.sku:
                found["barcode"] = [
                    _("The barcode %(code)s is already on %(sku)s.")
                    % {"code": item.barcode, "sku": holder}
                ]
            if found:
                errors[row.number] = found
        return errors

    # --- Applying ------------------------------------------------------------------

    def apply(self, batch: Batch, *, by, dry_run: bool) -> list[RowChange]:
        from retail.catalog_feed import CatalogRefused, ProductIn, VariantIn, catalog_apply

        groups: dict[str, list[Row]] = defaultdict(list)
        for row in batch:
            groups[row.item.style_code].append(row)
        products: list[ProductIn] = []
        for rows in groups.values():
            first: CatalogRow = rows[0].item
            translations = None
            if first.name_zh:
                texts = {"name": first.name_zh}
                if first.description_zh is not None:
                    texts["description"] = first.description_zh
                translations = {ZH: texts}
            products.append(
                ProductIn(
                    style_code=first.style_code,
                    name=first.name,
                    category=first.category,
                    brand=first.brand,
                    description=first.description,
                    translations=translations,
                    attributes=first.attributes,
                    active=first.product_active,
                    variants=[
                        VariantIn(
                            sku=r.item.sku,
                            price=r.item.price,
                            barcode=r.item.barcode,
                            size=r.item.size,
                            colour=r.item.colour,
                            active=r.item.active,
                        )
                        for r in rows
                    ],
                )
            )
        rows_of = list(groups.values())
        try:
            # The runner's transaction (rolled back in a dry run) holds the whole file:
            # a product whose rows span two batches is seen by the second.
            outcomes = catalog_apply(products, by=by, source="import")
        except CatalogRefused as exc:
            raise RowErrors(_row_errors(exc.errors, rows_of)) from None
        changes = []
        for outcome, rows in zip(outcomes, rows_of, strict=True):
            changes.extend(_row_changes(outcome, rows))
        return changes

    # --- Export --------------------------------------------------------------------

    def export(self):
        translations = {
            product_id: (name, description)
            for product_id, name, description in ProductTranslation.objects.filter(
                language=ZH
            ).values_list("product_id", "name", "description")
        }
        variants = (
            Variant.objects.select_related("product__category")
            .order_by("product__style_code", "sku")
            .iterator(chunk_size=2000)
        )
        for variant in variants:
            product = variant.product
            name_zh, description_zh = translations.get(product.pk, ("", ""))
            yield {
                "style_code": product.style_code,
                "name": product.name,
                "name_zh": name_zh,
                "brand": product.brand,
                "category": product.category.code,
                "description": product.description,
                "description_zh": description_zh,
                "attributes": attributes_text(product.attributes),
                "product_active": "yes" if product.active else "no",
                "sku": variant.sku,
                "barcode": variant.barcode or "",
                "price": f"{variant.price:.2f}",
                "size": variant.size,
                "colour": variant.colour,
                "active": "yes" if variant.active else "no",
            }


def _row_errors(errors: dict[int, dict[str, list[str]]], rows_of: list[list[Row]]):
    """catalog_feed's errors (product index -> path) as errors by row and column."""
    found: dict[int, dict[str, list[str]]] = {}
    for index, paths in errors.items():
        rows = rows_of[index]
        for path, messages in paths.items():
            parts = path.split(".")
            if parts[0] == "variants" and len(parts) >= 3 and parts[1].isdigit():
                targets = [rows[int(parts[1])]] if int(parts[1]) < len(rows) else rows
                column = parts[2] if parts[2] in VARIANT_FIELDS else "sku"
            else:
                targets = rows
                column = PRODUCT_PATHS.get(path, "")
            for row in targets:
                found.setdefault(row.number, {}).setdefault(column, []).extend(messages)
    return found


def _shown(path: str, value):
    if isinstance(value, dict):
        return attributes_text(value)
    return value


def _row_changes(outcome, rows: list[Row]) -> list[RowChange]:
    """One change per row: the variant's own, and the product's on its first row."""
    product_changes = {
        PRODUCT_PATHS.get(path, path): (
            _shown(path, old),
            _shown(path, new),
        )
        for path, (old, new) in outcome.changes.items()
        if path != "product" and not path.startswith("variants.")
    }
    changes = []
    for n, row in enumerate(rows):
        item: CatalogRow = row.item
        label = f"{item.style_code} {item.sku}"
        prefix = f"variants.{item.sku}"
        if prefix in outcome.changes:
            changes.append(RowChange(row.number, label, CREATED))
            continue
        changed = {
            field: outcome.changes[f"{prefix}.{field}"]
            for field in VARIANT_FIELDS
            if f"{prefix}.{field}" in outcome.changes
        }
        if n == 0:
            changed = {**product_changes, **changed}
        changes.append(RowChange(row.number, label, UPDATED if changed else UNCHANGED, changed))
    return changes
