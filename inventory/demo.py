"""Demo stock: a location per store, a distribution centre, two suppliers, and
opening stock through the ledger (receipts), so `stock_reconcile` holds.

Most SKUs are stocked at the DC; each store carries part of the range (some
scarce, some out in one store and plentiful in another); a few store
exclusives are stocked at one store only; suppliers drop-ship home goods.
"""

from __future__ import annotations

from decimal import Decimal

from inventory import catalog_index
from inventory.models import LocationKind, StockLevel, StockLocation
from inventory.services import stock_bulk_receive
from retail.demo import DemoContext
from retail.models import Store, Variant

DC = {
    "code": "DC1",
    "name": "Aisle distribution centre Milton Keynes",
    "postcode": "MK1 1AA",
    "country": "GB",
    "latitude": Decimal("52.040600"),
    "longitude": Decimal("-0.759400"),
    "lead_time_days": 2,
}
SUPPLIERS = [
    {
        "code": "SUP-HL",
        "name": "Hearth & Loom (drop-ship)",
        "postcode": "LS1 4AP",
        "country": "GB",
        "lead_time_days": 4,
        "brands": ("Hearth & Loom",),
    },
    {
        "code": "SUP-KS",
        "name": "Kiln Studio (drop-ship)",
        "postcode": "69001",
        "country": "FR",
        "lead_time_days": 6,
        "brands": ("Kiln Studio",),
    },
]
# Style codes sold in one store only (a few units each).
EXCLUSIVE_EVERY = 37


def seed(ctx: DemoContext) -> None:
    catalog_index.bump()  # the catalog was written in bulk, without signals
    ctx.step("stock locations")
    stores = list(Store.objects.order_by("code"))
    dc = _location(
        DC["code"],
        kind=LocationKind.DC,
        name=DC["name"],
        ships=True,
        receives=True,
        **{k: DC[k] for k in ("postcode", "country", "latitude", "longitude", "lead_time_days")},
    )
    suppliers = [
        _location(
            s["code"],
            kind=LocationKind.SUPPLIER,
            name=s["name"],
            ships=True,
            receives=False,
            postcode=s["postcode"],
            country=s["country"],
            lead_time_days=s["lead_time_days"],
        )
        for s in SUPPLIERS
    ]
    store_locations = []
    for i, store in enumerate(stores):
        store_locations.append(
            _location(
                store.code,
                kind=LocationKind.STORE,
                name=store.name,
                store=store,
                # Every other store also ships web orders from its back room.
                ships=i % 2 == 0,
                receives=True,
                postcode=store.postcode,
                country=store.country,
                latitude=store.latitude,
                longitude=store.longitude,
                lead_time_days=1,
            )
        )

    variants = list(
        Variant.objects.filter(active=True)
        .order_by("pk")
        .values_list("pk", "product__style_code", "product__brand")
    )
    rng = ctx.rng("inventory")
    rows: list[tuple[int, int, int, int]] = []
    exclusives = {}
    styles = sorted({style for _pk, style, _brand in variants})
    for n, style in enumerate(styles):
        if n % EXCLUSIVE_EVERY == 5 and store_locations:
            exclusives[style] = store_locations[n % len(store_locations)].pk

    # The DC holds most of the range.
    for pk, style, _brand in variants:
        if style in exclusives:
            continue
        if rng.random() < 0.85:
            rows.append((dc.pk, pk, rng.randint(5, 120), 2))
    # Suppliers report stock of their own brands.
    for supplier, spec in zip(suppliers, SUPPLIERS, strict=True):
        for pk, _style, brand in variants:
            if brand in spec["brands"]:
                rows.append((supplier.pk, pk, rng.randint(20, 300), 0))
    # Stores carry part of the range: thousands of SKUs each at the large scale.
    share = 0.15 if ctx.large else 0.45
    for index, location in enumerate(store_locations):
        store_rng = ctx.rng(f"inventory:{location.code}")
        for pk, style, _brand in variants:
            if style in exclusives:
                if exclusives[style] == location.pk:
                    rows.append((location.pk, pk, store_rng.randint(1, 4), 0))
                continue
            if store_rng.random() < share:
                # Some scarce (1-2 units), most a handful, a few plentiful.
                roll = store_rng.random()
                qty = store_rng.randint(1, 2) if roll < 0.2 else store_rng.randint(3, 12)
                if roll > 0.95 or (index == 1 and pk % 11 == 0):
                    qty = store_rng.randint(20, 40)
                if index == 0 and pk % 11 == 0:
                    qty = 0  # out in S01, plentiful in S02
                rows.append((location.pk, pk, qty, 1 if qty > 10 else 0))

    ctx.step(f"opening stock ({len(rows):,} stock rows)")
    bar = ctx.progress("stock", len(rows))
    created = 0
    batch = 20000
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        created += stock_bulk_receive(rows=chunk, by=None, reason="demo opening stock")
        bar.advance(len(chunk))
    bar.finish()
    ctx.write(
        f"  {created:,} new stock rows; {StockLevel.objects.count():,} in all at "
        f"{StockLocation.objects.count()} locations"
    )


def _location(code, *, kind, name, ships, receives, store=None, **fields) -> StockLocation:
    location, _created = StockLocation.objects.update_or_create(
        code=code,
        defaults={
            "kind": kind,
            "name": name,
            "store": store,
            "ships_to_customers": ships,
            "receives_transfers": receives,
            "sellable_online": True,
            **fields,
        },
    )
    return location
