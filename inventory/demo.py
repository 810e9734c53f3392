"""Demo stock: a location per store, two distribution centres, two suppliers, the
carriers that take parcels out of each country, and opening stock through the ledger
(receipts), so `stock_reconcile` holds.

Everything lies inside the network's currency zone (the euro area). DC1, near Paris,
holds most of the range and DC2, in central Germany, a large part of it; each store
carries part of the range (some scarce, some out in one store and plentiful in
another); a few store exclusives are stocked at one store only; suppliers in Portugal
and France drop-ship home goods.

A location's `lead_time_days` is its handling: the working days before the carrier can
collect (0 at the DCs and stores, 2 to 4 at the suppliers); the carrier's cut-off and
transit days come on top.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from inventory import catalog_index
from inventory.models import (
    CarrierService,
    LocationKind,
    SourcingSettings,
    StockLevel,
    StockLocation,
)
from inventory.services import stock_bulk_receive
from retail.demo import DemoContext
from retail.models import Store, Variant

# Each DC with the share of the range it stocks.
DCS = [
    {
        "code": "DC1",
        "name": "Aisle distribution centre Roissy",
        "postcode": "95700",
        "country": "FR",
        "time_zone": "Europe/Paris",
        "latitude": Decimal("49.004400"),
        "longitude": Decimal("2.517000"),
        "share": 0.85,
    },
    {
        "code": "DC2",
        "name": "Aisle distribution centre Bad Hersfeld",
        "postcode": "36251",
        "country": "DE",
        "time_zone": "Europe/Berlin",
        "latitude": Decimal("50.868300"),
        "longitude": Decimal("9.706800"),
        "share": 0.55,
    },
]
SUPPLIERS = [
    {
        "code": "SUP-HL",
        "name": "Hearth & Loom (drop-ship), Porto",
        "postcode": "4000-322",
        "country": "PT",
        "time_zone": "Europe/Lisbon",
        "latitude": Decimal("41.149600"),
        "longitude": Decimal("-8.611000"),
        "lead_time_days": 3,
        "brands": ("Hearth & Loom",),
    },
    {
        "code": "SUP-KS",
        "name": "Kiln Studio (drop-ship), Limoges",
        "postcode": "87000",
        "country": "FR",
        "time_zone": "Europe/Paris",
        "latitude": Decimal("45.833600"),
        "longitude": Decimal("1.261100"),
        "lead_time_days": 2,
        "brands": ("Kiln Studio",),
    },
]
# Fictional carriers (no real company's name), one per country the network may send
# from: (carrier, home delivery cut-off, transfer cut-off, home transit working days).
# The cut-offs (sender's local time) differ from country to country; transfers
# between locations take a working day in the country, and every service two more
# across a border.
# fmt: off
CARRIERS = {
    "FR": ("Hirondelle Colis", "17:30", "16:30", 1),
    "DE": ("Kranichpost", "18:00", "17:00", 1),
    "NL": ("Tulpbode", "17:00", "16:00", 1),
    "PT": ("Andorinha Entregas", "16:00", "15:00", 2),
    "BE": ("Mouette Express", "16:45", "15:45", 1),
    "LU": ("Moselle Courier", "15:45", "15:00", 1),
    "IE": ("Curlew Parcels", "15:00", "15:00", 2),
    "ES": ("Golondrina Envíos", "16:15", "15:15", 2),
    "IT": ("Rondine Recapiti", "16:30", "15:30", 2),
    "AT": ("Gamsbote", "17:15", "16:15", 1),
    "FI": ("Kuukkeli Kuljetus", "15:30", "15:00", 2),
    "EE": ("Kajakas Kuller", "15:20", "15:00", 1),
    "LV": ("Bezdelīga Piegāde", "15:10", "15:00", 1),
    "LT": ("Gandras Siuntos", "15:40", "15:00", 1),
    "GR": ("Chelidoni Couriers", "15:15", "15:00", 2),
    "CY": ("Troodos Couriers", "15:05", "15:00", 2),
    "MT": ("Luzzu Parcels", "15:25", "15:00", 1),
    "SI": ("Lipa Dostava", "16:10", "15:10", 1),
    "HR": ("Lastavica Dostava", "15:50", "15:00", 2),
    "SK": ("Kamzik Kurier", "16:40", "15:40", 1),
}
# fmt: on
TRANSFER_DAYS = 1
CROSS_BORDER_DAYS = 2
NEARBY_KM = 30

# Style codes sold in one store only (a few units each).
EXCLUSIVE_EVERY = 37


def seed(ctx: DemoContext) -> None:
    catalog_index.bump()  # the catalog was written in bulk, without signals
    ctx.step("stock locations")
    stores = list(Store.objects.order_by("code"))
    dcs = [
        _location(
            spec["code"],
            kind=LocationKind.DC,
            name=spec["name"],
            ships=True,
            receives=True,
            lead_time_days=0,
            **{k: spec[k] for k in ("postcode", "country", "time_zone", "latitude", "longitude")},
        )
        for spec in DCS
    ]
    suppliers = [
        _location(
            s["code"],
            kind=LocationKind.SUPPLIER,
            name=s["name"],
            ships=True,
            receives=False,
            **{
                k: s[k]
                for k in (
                    "postcode",
                    "country",
                    "time_zone",
                    "latitude",
                    "longitude",
                    "lead_time_days",
                )
            },
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
                time_zone=store.time_zone,
                latitude=store.latitude,
                longitude=store.longitude,
                lead_time_days=0,
            )
        )
    seed_carriers(ctx)
    SourcingSettings.objects.get_or_create(pk=1, defaults={"nearby_km": NEARBY_KM})

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

    # DC1 holds most of the range, DC2 a large part of it.
    for dc, spec in zip(dcs, DCS, strict=True):
        for pk, style, _brand in variants:
            if style in exclusives:
                continue
            if rng.random() < spec["share"]:
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


def seed_carriers(ctx: DemoContext) -> None:
    """A home delivery and a transfer service out of every country the network has an
    active location in."""
    countries = sorted(
        set(
            StockLocation.objects.filter(active=True)
            .exclude(country="")
            .values_list("country", flat=True)
        )
    )
    missing = [c for c in countries if c not in CARRIERS]
    if missing:
        raise ValueError(f"No demo carrier for {', '.join(missing)}: add one to CARRIERS.")
    ctx.step(f"carriers: home delivery and transfers out of {', '.join(countries)}")
    for country in countries:
        carrier, home_cutoff, transfer_cutoff, home_days = CARRIERS[country]
        for service, cutoff, days in (
            (CarrierService.Service.HOME, home_cutoff, home_days),
            (CarrierService.Service.TRANSFER, transfer_cutoff, TRANSFER_DAYS),
        ):
            CarrierService.objects.update_or_create(
                country=country,
                service=service,
                active=True,
                defaults={
                    "name": carrier,
                    "cutoff": dt.time.fromisoformat(cutoff),
                    "transit_days": days,
                    "cross_border_days": CROSS_BORDER_DAYS,
                },
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
