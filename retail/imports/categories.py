"""Categories with their tax rates: `code, name, name_zh, tax_rate`.

A category is found by its code; a new code creates one. `name_zh` is its name in
Simplified Chinese: an empty cell keeps the translation Aisle has."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from retail.imports import cells
from retail.imports.base import (
    CREATED,
    Batch,
    Column,
    Kind,
    RowChange,
    row_updated,
)
from retail.models import Category, CategoryTranslation

ZH = "zh-hans"


@dataclass(frozen=True)
class CategoryRow:
    code: str
    name: str
    tax_rate: Decimal
    name_zh: str | None


class CategoriesKind(Kind):
    code = "categories"
    verbose_name = _("Categories")
    columns = (
        Column("code", help=_("The category's code (letters, digits, hyphens), e.g. knitwear.")),
        Column("name", help=_("Its name in English.")),
        Column("name_zh", required=False, help=_("Its name in Simplified Chinese.")),
        Column("tax_rate", help=_("The tax rate in percent that prices include, e.g. 20.00.")),
    )

    def parse(self, row):
        errors: dict[str, list[str]] = {}
        values = {}
        for column, read in (
            ("code", cells.required),
            ("name", cells.required),
            ("tax_rate", lambda t: cells.decimal(t, places=2, required_=True)),
            (
                "name_zh",
                lambda t: cells.text(
                    t, max_length=CategoryTranslation._meta.get_field("name").max_length
                ),
            ),
        ):
            try:
                values[column] = read(row.get(column, ""))
            except cells.CellError as exc:
                errors[column] = [exc.message]
        if errors:
            return None, errors
        try:
            Category(
                code=values["code"], name=values["name"], tax_rate=values["tax_rate"]
            ).clean_fields()
        except ValidationError as exc:
            return None, cells.messages_of(exc)
        return CategoryRow(**values), {}

    def identity(self, item: CategoryRow):
        return "code", item.code, item.code

    def apply(self, batch: Batch, *, by, dry_run: bool) -> list[RowChange]:
        from retail.services import audit_record

        codes = [row.item.code for row in batch]
        existing = {c.code: c for c in Category.objects.select_for_update().filter(code__in=codes)}
        names_zh = {
            t.category_id: t
            for t in CategoryTranslation.objects.filter(
                category__code__in=codes, language=ZH
            ).select_for_update()
        }
        changes = []
        for row in batch:
            item: CategoryRow = row.item
            category = existing.get(item.code)
            if category is None:
                category = Category.objects.create(
                    code=item.code, name=item.name, tax_rate=item.tax_rate
                )
                if item.name_zh:
                    CategoryTranslation.objects.create(
                        category=category, language=ZH, name=item.name_zh
                    )
                audit_record(actor=by, action="category.import_create", target=category)
                changes.append(RowChange(row.number, item.code, CREATED))
                continue
            changed = {}
            for field in ("name", "tax_rate"):
                old, new = getattr(category, field), getattr(item, field)
                if old != new:
                    changed[field] = (old, new)
                    setattr(category, field, new)
            if changed:
                category.save(update_fields=list(changed))
            translation = names_zh.get(category.pk)
            old_zh = translation.name if translation else None
            if item.name_zh is not None and item.name_zh != old_zh:
                changed["name_zh"] = (old_zh, item.name_zh)
                if translation is None:
                    CategoryTranslation.objects.create(
                        category=category, language=ZH, name=item.name_zh
                    )
                else:
                    translation.name = item.name_zh
                    translation.save(update_fields=["name"])
            changes.append(
                row_updated(
                    row, item.code, category, changed, by=by, action="category.import_update"
                )
            )
        return changes

    def export(self):
        names_zh = dict(
            CategoryTranslation.objects.filter(language=ZH).values_list("category_id", "name")
        )
        for category in Category.objects.order_by("code"):
            yield {
                "code": category.code,
                "name": category.name,
                "name_zh": names_zh.get(category.pk, ""),
                "tax_rate": f"{category.tax_rate:.2f}",
            }
