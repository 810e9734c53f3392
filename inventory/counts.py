"""Stock counts on the tablet: a count sheet (SKU → units counted) recorded at once.

Recording a sheet writes one `count` ledger row per SKU through
`inventory.services.stock_count`, which sets on hand to what was counted; a count
below what is reserved there first releases and re-sources those orders (the
shortage handler that `orders` plugs in). The whole sheet is one transaction:
either every SKU is recorded or none is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from inventory import services
from inventory.locks import stock_levels_for_update
from inventory.models import MovementKind, StockLevel, StockLocation, StockMovement
from retail.models import User, Variant

#: More units than this of one SKU on one shelf is a typing slip, not a count.
MAX_COUNT = 9_999


class CountError(services.StockError):
    pass


class AlreadyRecorded(CountError):
    pass


def find_variant(code: str) -> Variant | None:
    """The SKU a scanned barcode or a typed SKU names."""
    code = (code or "").strip()
    if not code or len(code) > 64:
        return None
    return (
        Variant.objects.select_related("product")
        .filter(Q(barcode=code) | Q(sku__iexact=code))
        .order_by("pk")
        .first()
    )


def clean_quantity(raw, *, allow_zero: bool = True) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise CountError(_("A count is a whole number, zero or more.")) from None
    if value < 0 or (value == 0 and not allow_zero):
        raise CountError(_("A count is a whole number, zero or more."))
    if value > MAX_COUNT:
        raise CountError(
            _(
                "%(n)s units of one SKU on one shelf is not plausible (at most %(max)s): "
                "count again."
            )
            % {"n": value, "max": MAX_COUNT}
        )
    return value


@dataclass
class SheetRow:
    variant: Variant
    counted: int
    on_hand: int
    reserved: int

    @property
    def difference(self) -> int:
        return self.counted - self.on_hand

    @property
    def short_of_reserved(self) -> int:
        """Units reserved for orders that the count leaves no stock for."""
        return max(0, self.reserved - self.counted)


def sheet_rows(location: StockLocation, sheet: Mapping[str, int]) -> list[SheetRow]:
    """The sheet with the figures the ledger has now, in two queries."""
    ids = [int(v) for v in sheet]
    variants = {v.pk: v for v in Variant.objects.select_related("product").filter(pk__in=ids)}
    levels = {
        level.variant_id: level
        for level in StockLevel.objects.filter(location=location, variant_id__in=ids)
    }
    rows = []
    for key, counted in sheet.items():
        variant = variants.get(int(key))
        if variant is None:
            continue
        level = levels.get(variant.pk)
        rows.append(
            SheetRow(
                variant,
                counted,
                level.on_hand if level else 0,
                level.reserved if level else 0,
            )
        )
    return sorted(rows, key=lambda r: r.variant.sku)


@transaction.atomic
def count_record(
    *, location: StockLocation, counts: Mapping[int, int], by: User | None, source: str
) -> list[StockMovement]:
    """Record a count sheet: {variant id: units counted}. One ledger row per SKU."""
    if not counts:
        raise CountError(_("Scan at least one SKU before recording the count."))
    counts = {int(k): clean_quantity(v) for k, v in counts.items()}
    variants = {v.pk: v for v in Variant.objects.filter(pk__in=list(counts))}
    if len(variants) != len(counts):
        raise CountError(_("A SKU on this count no longer exists: start the count again."))
    # Lock every row of the sheet in the one fixed order before counting any of them.
    stock_levels_for_update((location.pk, variant_id) for variant_id in counts)
    if source and count_movements().filter(location=location, source=source).exists():
        # The same sheet again (a double tap, two tabs): it was recorded once.
        raise AlreadyRecorded(_("This count was already recorded."))
    return [
        services.stock_count(
            location=location, variant=variants[variant_id], counted=counted, by=by, source=source
        )
        for variant_id, counted in sorted(counts.items())
    ]


def count_movements():
    return StockMovement.objects.filter(kind=MovementKind.COUNT)
