"""Inventory's kinds of import (registered from `InventoryConfig.ready()`).

**locations**: distribution centres and suppliers,
`code, name, kind, postcode, country, time_zone, latitude, longitude, lead_time_days,
sellable_online, ships_to_customers, receives_transfers, active`. `kind` is `dc` or
`supplier`: a store's own location comes with its store (a stores file creates it, or
keeps its name, address and coordinates in step: `store_locations_follow`), and a
returns hold with its store or DC. An empty `postcode`, `country`, `time_zone`,
`latitude` or `longitude` cell clears it; an empty `lead_time_days` or yes/no cell (or
a column left out) keeps what Aisle has.

**stock**: `location, sku, quantity, safety_stock`: a count per location and SKU, which
sets on hand through the ledger (`inventory.feed.stock_movement_apply`, kind `count`,
with its shortage rules: counting fewer than are reserved re-sources those orders).
`safety_stock` (optional; an empty cell keeps it) is set with it. The file is applied
in batches of up to 5,000 lines, each batch and location one movement and one
transaction, with the reference `import:<first 16 hex of the file's SHA-256>:<location>:
<batch>`: running the same file again skips every batch already applied (so a run
stopped half-way is finished by running the file again) and changes nothing else; to
count again, import a new file. A batch refused by the ledger leaves the batches before
it applied (the report says how many rows). The export lists on hand and safety stock
per location and SKU.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inventory.models import LocationKind, StockLevel, StockLocation
from retail import imports
from retail.imports import cells
from retail.imports.base import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Batch,
    Column,
    Kind,
    RowChange,
    row_updated,
)
from retail.models import Store, Variant

# --- Locations ----------------------------------------------------------------------------

IMPORTED_KINDS = {
    LocationKind.DC.value: LocationKind.DC.label,
    LocationKind.SUPPLIER.value: LocationKind.SUPPLIER.label,
}
CLEARABLE = ("postcode", "country", "time_zone")
FLAGS = ("sellable_online", "ships_to_customers", "receives_transfers", "active")


@dataclass
class LocationRow:
    code: str
    values: dict  # StockLocation field -> value; a field left out is kept


class LocationsKind(Kind):
    code = "locations"
    verbose_name = gettext_lazy("Stock locations")
    columns = (
        Column("code", help=gettext_lazy("The location's code, e.g. DC1.")),
        Column("name"),
        Column("kind", help=gettext_lazy("dc (distribution centre) or supplier.")),
        Column("postcode", required=False),
        Column("country", required=False, help=gettext_lazy("Two-letter ISO code, e.g. FR.")),
        Column("time_zone", required=False, help=gettext_lazy("e.g. Europe/Paris.")),
        Column("latitude", required=False),
        Column("longitude", required=False),
        Column(
            "lead_time_days",
            required=False,
            help=gettext_lazy("Working days before a parcel can leave."),
        ),
        Column("sellable_online", required=False, help=gettext_lazy("yes or no.")),
        Column("ships_to_customers", required=False, help=gettext_lazy("yes or no.")),
        Column("receives_transfers", required=False, help=gettext_lazy("yes or no.")),
        Column("active", required=False, help=gettext_lazy("yes or no.")),
    )

    def parse(self, row):
        errors: dict[str, list[str]] = {}
        values: dict = {}
        code = row.get("code", "")
        if not code:
            errors["code"] = [_("This cell cannot be empty.")]
        if row.get("name"):
            values["name"] = row["name"]
        else:
            errors["name"] = [_("This cell cannot be empty.")]
        kind = row.get("kind", "").strip().casefold()
        if kind in (LocationKind.STORE, LocationKind.HOLD):
            errors["kind"] = [
                _(
                    "A store's location comes with its store (import stores); a returns "
                    "hold with its store or DC."
                )
            ]
        else:
            try:
                values["kind"] = cells.choice(row.get("kind", ""), IMPORTED_KINDS)
            except cells.CellError as exc:
                errors["kind"] = [exc.message]
        for column in CLEARABLE:
            if column in row:
                values[column] = row[column].upper() if column == "country" else row[column]
        readers = {
            "latitude": lambda t: cells.decimal(t, places=6),
            "longitude": lambda t: cells.decimal(t, places=6),
        }
        for column, read in readers.items():
            if column not in row:
                continue
            try:
                values[column] = read(row[column])  # empty: None, which clears it
            except cells.CellError as exc:
                errors[column] = [exc.message]
        try:
            days = cells.integer(row.get("lead_time_days", ""), minimum=0, required_=False)
            if days is not None:
                values["lead_time_days"] = days
        except cells.CellError as exc:
            errors["lead_time_days"] = [exc.message]
        for column in FLAGS:
            try:
                flag = cells.boolean(row.get(column, ""))
            except cells.CellError as exc:
                errors[column] = [exc.message]
                continue
            if flag is not None:
                values[column] = flag
        candidate = StockLocation(code=code or "X", **values)
        try:
            candidate.clean_fields(
                exclude=[
                    f.name for f in StockLocation._meta.fields if f.name not in {*values, "code"}
                ]
            )
        except ValidationError as exc:
            for field, messages in cells.messages_of(exc).items():
                errors.setdefault(field, messages)
        if errors:
            return None, errors
        return LocationRow(code=code, values=values), {}

    def identity(self, item: LocationRow):
        return "code", item.code, item.code

    def check(self, batch: Batch):
        taken = dict(
            StockLocation.objects.filter(
                code__in=[row.item.code for row in batch],
                kind__in=(LocationKind.STORE, LocationKind.HOLD),
            ).values_list("code", "kind")
        )
        return {
            row.number: {
                "code": [
                    _("%(code)s is a store's location or a returns hold: it comes with its store.")
                    % {"code": row.item.code}
                ]
            }
            for row in batch
            if row.item.code in taken
        }

    def apply(self, batch: Batch, *, by, dry_run: bool) -> list[RowChange]:
        from retail.services import audit_record

        errors = self.check(batch)
        if errors:
            raise imports.RowErrors(errors)
        existing = {
            loc.code: loc
            for loc in StockLocation.objects.select_for_update().filter(
                code__in=[row.item.code for row in batch]
            )
        }
        changes = []
        for row in batch:
            item: LocationRow = row.item
            location = existing.get(item.code)
            if location is None:
                location = StockLocation.objects.create(code=item.code, **item.values)
                audit_record(actor=by, action="stock_location.import_create", target=location)
                changes.append(RowChange(row.number, item.code, CREATED))
                continue
            changed = {}
            for field, new in item.values.items():
                old = getattr(location, field)
                if old != new:
                    changed[field] = (old, new)
                    setattr(location, field, new)
            if changed:
                location.save(update_fields=list(changed))
            changes.append(
                row_updated(
                    row, item.code, location, changed, by=by, action="stock_location.import_update"
                )
            )
        return changes

    def export(self):
        locations = StockLocation.objects.filter(
            kind__in=(LocationKind.DC, LocationKind.SUPPLIER)
        ).order_by("code")
        for loc in locations:
            yield {
                "code": loc.code,
                "name": loc.name,
                "kind": loc.kind,
                "postcode": loc.postcode,
                "country": loc.country,
                "time_zone": loc.time_zone,
                "latitude": "" if loc.latitude is None else f"{loc.latitude:.6f}",
                "longitude": "" if loc.longitude is None else f"{loc.longitude:.6f}",
                "lead_time_days": str(loc.lead_time_days),
                "sellable_online": "yes" if loc.sellable_online else "no",
                "ships_to_customers": "yes" if loc.ships_to_customers else "no",
                "receives_transfers": "yes" if loc.receives_transfers else "no",
                "active": "yes" if loc.active else "no",
            }


def store_locations_follow(batch: Batch, changes: list[RowChange], *, by, dry_run: bool) -> None:
    """After a batch of the stores file: each store has its stock location (created,
    or kept in step with the store), in the same transaction."""
    from inventory.services import StockError, store_location_ensure

    stores = {s.code: s for s in Store.objects.filter(code__in=[row.item.code for row in batch])}
    by_row = {change.row: change for change in changes}
    errors = {}
    for row in batch:
        store = stores.get(row.item.code)
        if store is None:
            continue
        try:
            _location, created = store_location_ensure(store=store)
        except StockError as exc:
            errors[row.number] = {"code": [str(exc)]}
            continue
        change = by_row.get(row.number)
        if created and change is not None and change.action == UNCHANGED:
            change.action = UPDATED
            change.changes["stock_location"] = ("", store.code)
    if errors:
        raise imports.RowErrors(errors)


# --- Stock ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StockRow:
    location: str
    sku: str
    quantity: int
    safety_stock: int | None


class StockKind(Kind):
    code = "stock"
    verbose_name = gettext_lazy("Stock")
    whole_file = False
    batch_size = 5000
    check_batch_size = 5000
    columns = (
        Column("location", help=gettext_lazy("The location's code (a store's is its code).")),
        Column("sku"),
        Column("quantity", help=gettext_lazy("The units counted: on hand is set to it.")),
        Column(
            "safety_stock",
            required=False,
            help=gettext_lazy("Units kept back from orders (empty: kept as it is)."),
        ),
    )

    def __init__(self):
        self.locations: dict[str, StockLocation] | None = None
        self.variant_ids: dict[str, int] = {}

    def parse(self, row):
        from inventory.feed import QUANTITY_MAX

        errors: dict[str, list[str]] = {}
        values: dict = {}
        for column in ("location", "sku"):
            values[column] = row.get(column, "")
            if not values[column]:
                errors[column] = [_("This cell cannot be empty.")]
        try:
            values["quantity"] = cells.integer(
                row.get("quantity", ""), minimum=0, maximum=QUANTITY_MAX
            )
        except cells.CellError as exc:
            errors["quantity"] = [exc.message]
        try:
            values["safety_stock"] = cells.integer(
                row.get("safety_stock", ""), minimum=0, maximum=QUANTITY_MAX, required_=False
            )
        except cells.CellError as exc:
            errors["safety_stock"] = [exc.message]
        if errors:
            return None, errors
        return StockRow(**values), {}

    def identity(self, item: StockRow):
        return "sku", (item.location, item.sku), f"{item.location} {item.sku}"

    def _location(self, code: str) -> StockLocation | None:
        if self.locations is None:
            self.locations = {loc.code: loc for loc in StockLocation.objects.all()}
        return self.locations.get(code)

    def check(self, batch: Batch):
        wanted = {row.item.sku for row in batch} - set(self.variant_ids)
        if wanted:
            self.variant_ids.update(Variant.objects.filter(sku__in=wanted).values_list("sku", "pk"))
        errors: dict[int, dict[str, list[str]]] = {}
        for row in batch:
            item: StockRow = row.item
            if self._location(item.location) is None:
                errors.setdefault(row.number, {})["location"] = [
                    _("There is no stock location with the code %(code)s.")
                    % {"code": item.location}
                ]
            if item.sku not in self.variant_ids:
                errors.setdefault(row.number, {})["sku"] = [
                    _("There is no SKU %(sku)s.") % {"sku": item.sku}
                ]
        return errors

    def apply(self, batch: Batch, *, by, dry_run: bool) -> list[RowChange]:
        from inventory.feed import (
            FeedRefused,
            MovementLine,
            MovementRefConflict,
            stock_movement_apply,
        )
        from inventory.services import StockError, stock_safety_set_many

        errors = self.check(batch)
        if errors:
            raise imports.RowErrors(errors)
        by_location: dict[str, list] = defaultdict(list)
        for row in batch:
            by_location[row.item.location].append(row)
        changes = []
        for code, rows in by_location.items():
            location = self._location(code)
            ref = f"import:{batch.file_digest[:16]}:{code}:{batch.number}"
            try:
                # The reason stays "" so the same file makes the same movement in any
                # language (the ledger rows get the feed's own words).
                result = stock_movement_apply(
                    movement_ref=ref,
                    location=code,
                    kind="count",
                    lines=[MovementLine(sku=r.item.sku, quantity=r.item.quantity) for r in rows],
                    by=by,
                )
            except FeedRefused as exc:
                raise imports.RowErrors(_feed_errors(exc.errors, rows)) from None
            except MovementRefConflict as exc:
                raise imports.RowErrors(
                    {r.number: {"location": [str(exc)]} for r in rows}
                ) from None
            counted = {index: (before, after) for index, _sku, before, after in result.changes}
            safety = {
                self.variant_ids[r.item.sku]: r.item.safety_stock
                for r in rows
                if r.item.safety_stock is not None
            }
            try:
                safety_changed = (
                    stock_safety_set_many(location=location, values=safety) if safety else {}
                )
            except StockError as exc:
                raise imports.RowErrors(
                    {r.number: {"safety_stock": [str(exc)]} for r in rows}
                ) from None
            for index, row in enumerate(rows):
                item: StockRow = row.item
                changed = {}
                if index in counted:
                    changed["quantity"] = counted[index]
                variant_id = self.variant_ids[item.sku]
                if variant_id in safety_changed:
                    changed["safety_stock"] = safety_changed[variant_id]
                changes.append(
                    RowChange(
                        row.number,
                        f"{code} {item.sku}",
                        UPDATED if changed else UNCHANGED,
                        changed,
                    )
                )
        return changes

    def export(self):
        levels = (
            StockLevel.objects.order_by("location__code", "variant__sku")
            .values_list("location__code", "variant__sku", "on_hand", "safety_stock")
            .iterator(chunk_size=5000)
        )
        for location, sku, on_hand, safety in levels:
            yield {
                "location": location,
                "sku": sku,
                "quantity": str(on_hand),
                "safety_stock": str(safety),
            }


def _feed_errors(errors: dict, rows: list) -> dict[int, dict[str, list[str]]]:
    """The feed's errors (by line index, or for the whole movement) by row and column."""
    found: dict[int, dict[str, list[str]]] = {}
    for key, value in errors.items():
        if key.isdigit() and int(key) < len(rows):
            for column, messages in value.items():
                found.setdefault(rows[int(key)].number, {}).setdefault(column, []).extend(messages)
        else:
            column = "location" if key == "location" else ""
            for row in rows:
                found.setdefault(row.number, {}).setdefault(column, []).extend(value)
    return found


def register() -> None:
    """Called from `InventoryConfig.ready()`."""
    imports.register(LocationsKind)
    imports.register(StockKind)
    imports.follow("stores", store_locations_follow)
