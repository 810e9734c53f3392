"""Demo data for the core: stores, catalog, customers and staff.

`manage.py seed_demo` calls `seed(ctx)` here first, then the `demo.seed(ctx)` of
every higher app. Everything is keyed by a natural key (store code, style code,
SKU, customer_ref, e-mail, a walk-in's phone), so running it twice duplicates
nothing. The small scale is a prefix of the large one.

`DemoContext` and `ProgressBar` are the helpers the other apps' demo modules reuse.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import random
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import OutputWrapper
from django.core.management.color import no_style
from django.db import models
from django.utils import timezone

from retail import catalogue
from retail.geography import country_served
from retail.holidays import public_holidays
from retail.models import (
    AttributeTranslation,
    Category,
    CategoryTranslation,
    Customer,
    OpeningHours,
    PriceChange,
    Product,
    ProductTranslation,
    Role,
    StaffProfile,
    Store,
    StoreClosure,
    User,
    Variant,
)
from retail.validators import ean13_check_digit

SCALES = ("small", "large")
DEMO_PASSWORD = "aisle-demo"
DEMO_DOMAIN = "demo.aisle"
HQ_EMAIL = f"hq@{DEMO_DOMAIN}"
# A public, fixed secret so the printed HQ login is the same on every machine.
# Demo data only: never a real account's secret.
HQ_TOTP_SECRET = "AISLEDEMOHQTOTPSECRET234567ABCDE"

# The customer the browser tests look for.
DEMO_CUSTOMER = {
    "customer_ref": "WEB-MEI-001",
    "name": "Mei Lin Chen",
    "email": "mei.chen@example.com",
    "phone": "+33612900123",
}

# How much of everything each scale builds.
SIZES = {
    "small": {"stores": 5, "style_factor": 1, "customers": 300, "associates": 1},
    "large": {"stores": 50, "style_factor": 32, "customers": 100_000, "associates": 18},
}


# --- Helpers the other apps reuse ------------------------------------------------


class ProgressBar:
    """`[#####.....] 45% customers 45000/100000` on one line, redrawn in place."""

    def __init__(self, out: Any, label: str, total: int, width: int = 30) -> None:
        self.out = out if isinstance(out, OutputWrapper) else OutputWrapper(out)
        self.label, self.total, self.width = label, max(total, 0), width
        self.done = 0
        self._shown = -1

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int) -> None:
        self.done = min(done, self.total)
        percent = 100 * self.done // self.total if self.total else 100
        if percent == self._shown:
            return
        self._shown = percent
        filled = self.width * percent // 100
        bar = "#" * filled + "." * (self.width - filled)
        self.out.write(f"\r[{bar}] {percent:3d}% {self.label} {self.done}/{self.total}", ending="")
        self.out.flush()

    def finish(self) -> None:
        self.update(self.total)
        self.out.write("")


@dataclass
class DemoContext:
    """What `seed_demo` hands every app's `demo.seed(ctx)`."""

    scale: str
    stdout: Any
    style: Any = field(default_factory=no_style)
    # Anything one app's seed wants to hand to a later one.
    shared: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"Unknown demo scale {self.scale!r}.")
        if not isinstance(self.stdout, OutputWrapper):
            self.stdout = OutputWrapper(self.stdout)

    @property
    def large(self) -> bool:
        return self.scale == "large"

    def write(self, message: str) -> None:
        self.stdout.write(message)

    def step(self, message: str) -> None:
        self.stdout.write(self.style.HTTP_INFO(f"  {message}"))

    def progress(self, label: str, total: int) -> ProgressBar:
        return ProgressBar(self.stdout, label, total)

    def rng(self, name: str) -> random.Random:
        """A random generator that gives the same numbers on every run."""
        return random.Random(f"aisle-demo:{name}")

    def bulk_insert(
        self,
        model: type[models.Model],
        rows: Iterable[models.Model],
        *,
        total: int,
        label: str,
        batch_size: int = 2000,
    ) -> None:
        """Insert rows in batches, skipping any whose unique key already exists."""
        bar = self.progress(label, total)
        for batch in batched(rows, batch_size):
            model._default_manager.bulk_create(batch, batch_size=batch_size, ignore_conflicts=True)
            bar.advance(len(batch))
        bar.finish()


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def staff_email(kind: str, store_code: str, n: int = 1) -> str:
    """`manager.s01@demo.aisle`; extra associates are `associate2.s01@demo.aisle`, …"""
    return f"{kind}{n if n > 1 else ''}.{store_code.lower()}@{DEMO_DOMAIN}"


def hq_totp_code(at: float | None = None) -> str:
    """The HQ demo login's TOTP code now (or at a Unix time), as allauth computes it."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time() if at is None else at) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(HQ_TOTP_SECRET, counter))


def seed(ctx: DemoContext) -> None:
    stores = seed_stores(ctx)
    seed_closures(ctx, stores)
    seed_catalog(ctx)
    seed_customers(ctx, stores)
    seed_staff(ctx, stores)


# --- Stores ---------------------------------------------------------------------


@dataclass(frozen=True)
class StoreSpec:
    code: str
    name: str
    address: str
    city: str
    postcode: str
    country: str
    lat: str
    lon: str
    time_zone: str
    # weekday -> (opens, closes); a missing weekday is closed.
    hours: dict[int, tuple[str, str]]
    pickup_enabled: bool = True
    pickup_hold_days: int = 7


def _week(weekdays: tuple[str, str], saturday=None, sunday=None, late_thursday=None):
    hours = dict.fromkeys(range(5), weekdays)
    if late_thursday:
        hours[3] = (weekdays[0], late_thursday)
    hours[5] = saturday or weekdays
    if sunday:
        hours[6] = sunday
    return hours


# The network sits inside the euro area (`retail.geography`): four countries and two
# time zones among the core stores, three among the large scale's.
# fmt: off
CORE_STORES = [
    StoreSpec(
        "S01", "Aisle Paris Le Marais", "18 Rue des Francs-Bourgeois", "Paris", "75003", "FR",
        "48.857600", "2.360100", "Europe/Paris",
        _week(("10:00", "19:30"), sunday=("11:00", "19:00"), late_thursday="21:00"),
    ),
    StoreSpec(
        "S02", "Aisle Lyon Presqu'île", "58 Rue de la République", "Lyon", "69002", "FR",
        "45.762500", "4.835700", "Europe/Paris",
        _week(("10:00", "19:30"), saturday=("10:00", "20:00")),
    ),
    StoreSpec(
        "S03", "Aisle Berlin Mitte", "Rosenthaler Straße 40", "Berlin", "10178", "DE",
        "52.524600", "13.401600", "Europe/Berlin",
        _week(("10:00", "20:00")),
    ),
    StoreSpec(
        "S04", "Aisle Amsterdam Kalverstraat", "Kalverstraat 98", "Amsterdam", "1012 PH", "NL",
        "52.369900", "4.890900", "Europe/Amsterdam",
        _week(("10:00", "19:00"), sunday=("12:00", "18:00"), late_thursday="21:00"),
        pickup_enabled=False,
    ),
    StoreSpec(
        "S05", "Aisle Lisbon Baixa", "Rua Augusta 120", "Lisbon", "1100-053", "PT",
        "38.710900", "-9.137600", "Europe/Lisbon",
        _week(("10:00", "20:00"), sunday=("10:00", "20:00")),
        pickup_hold_days=10,
    ),
]
# fmt: on

# (city, country, time zone, lat, lon, postcode, street) for the large scale's S06…:
# euro-area cities in Western (Dublin, Porto), Central and Eastern European Time
# (Helsinki, Tallinn, Riga, Vilnius, Athens, Nicosia). The first few lie within 30 km
# of a core store (Versailles and Saint-Denis of Paris, Potsdam of Berlin, Haarlem of
# Amsterdam), so "nearby" has real cases; Bonn lies as near Cologne.
# fmt: off
EXTRA_CITIES = [
    ("Versailles", "FR", "Europe/Paris", "48.805500", "2.131000", "78000",
     "12 Rue de la Paroisse"),
    ("Potsdam", "DE", "Europe/Berlin", "52.399900", "13.055000", "14467",
     "Brandenburger Straße 30"),
    ("Haarlem", "NL", "Europe/Amsterdam", "52.379300", "4.634500", "2011 SJ",
     "Grote Houtstraat 40"),
    ("Saint-Denis", "FR", "Europe/Paris", "48.936100", "2.357400", "93200",
     "20 Rue de la République"),
    ("Porto", "PT", "Europe/Lisbon", "41.148500", "-8.606400", "4000-442",
     "Rua de Santa Catarina 200"),
    ("Dublin", "IE", "Europe/Dublin", "53.341000", "-6.260300", "D02 VF65",
     "55 Grafton Street"),
    ("Helsinki", "FI", "Europe/Helsinki", "60.169100", "24.944800", "00100",
     "Aleksanterinkatu 40"),
    ("Madrid", "ES", "Europe/Madrid", "40.418600", "-3.705300", "28013",
     "Calle de Preciados 20"),
    ("Milan", "IT", "Europe/Rome", "45.465200", "9.192400", "20122",
     "Corso Vittorio Emanuele II 10"),
    ("Brussels", "BE", "Europe/Brussels", "50.851700", "4.356100", "1000", "Rue Neuve 30"),
    ("Vienna", "AT", "Europe/Vienna", "48.198900", "16.350500", "1070",
     "Mariahilfer Straße 60"),
    ("Athens", "GR", "Europe/Athens", "37.976200", "23.730300", "105 63", "Ermou 30"),
    ("Munich", "DE", "Europe/Berlin", "48.137700", "11.572600", "80331",
     "Kaufingerstraße 12"),
    ("Marseille", "FR", "Europe/Paris", "43.294000", "5.378000", "13001",
     "40 Rue Saint-Ferréol"),
    ("Tallinn", "EE", "Europe/Tallinn", "59.436400", "24.748600", "10140", "Viru 10"),
    ("Barcelona", "ES", "Europe/Madrid", "41.385700", "2.172400", "08002",
     "Portal de l'Àngel 15"),
    ("Rotterdam", "NL", "Europe/Amsterdam", "51.920300", "4.475500", "3012 EP", "Lijnbaan 50"),
    ("Hamburg", "DE", "Europe/Berlin", "53.550600", "10.000400", "20095",
     "Mönckebergstraße 7"),
    ("Riga", "LV", "Europe/Riga", "56.953900", "24.117100", "LV-1050", "Brīvības iela 40"),
    ("Rome", "IT", "Europe/Rome", "41.900800", "12.480600", "00187", "Via del Corso 200"),
    ("Bordeaux", "FR", "Europe/Paris", "44.838900", "-0.573900", "33000",
     "75 Rue Sainte-Catherine"),
    ("Cologne", "DE", "Europe/Berlin", "50.936100", "6.953000", "50667", "Schildergasse 40"),
    ("Vilnius", "LT", "Europe/Vilnius", "54.687100", "25.275000", "LT-01103",
     "Gedimino prospektas 20"),
    ("Antwerp", "BE", "Europe/Brussels", "51.218500", "4.409500", "2000", "Meir 50"),
    ("Valencia", "ES", "Europe/Madrid", "39.470100", "-0.374000", "46004", "Calle de Colón 20"),
    ("Cork", "IE", "Europe/Dublin", "51.899000", "-8.473800", "T12 X70A",
     "80 St Patrick's Street"),
    ("Florence", "IT", "Europe/Rome", "43.770800", "11.255500", "50122",
     "Via dei Calzaiuoli 40"),
    ("Frankfurt", "DE", "Europe/Berlin", "50.114800", "8.683100", "60313", "Zeil 90"),
    ("Lille", "FR", "Europe/Paris", "50.636800", "3.064500", "59800", "30 Rue Neuve"),
    ("Thessaloniki", "GR", "Europe/Athens", "40.632300", "22.944200", "546 23",
     "Tsimiski 50"),
    ("Luxembourg", "LU", "Europe/Luxembourg", "49.611500", "6.129500", "L-1660",
     "Grand-Rue 30"),
    ("Utrecht", "NL", "Europe/Amsterdam", "52.089700", "5.120000", "3511 AZ",
     "Oudegracht 150"),
    ("Bonn", "DE", "Europe/Berlin", "50.735400", "7.099500", "53111", "Sternstraße 40"),
    ("Ljubljana", "SI", "Europe/Ljubljana", "46.051900", "14.503700", "1000",
     "Čopova ulica 10"),
    ("Seville", "ES", "Europe/Madrid", "37.391700", "-5.994500", "41004", "Calle Sierpes 40"),
    ("Zagreb", "HR", "Europe/Zagreb", "45.813200", "15.972700", "10000", "Ilica 20"),
    ("Nice", "FR", "Europe/Paris", "43.701000", "7.267300", "06000",
     "30 Avenue Jean Médecin"),
    ("Graz", "AT", "Europe/Vienna", "47.070700", "15.438900", "8010", "Herrengasse 10"),
    ("Düsseldorf", "DE", "Europe/Berlin", "51.222400", "6.779900", "40212",
     "Königsallee 60"),
    ("Bratislava", "SK", "Europe/Bratislava", "48.147500", "17.108000", "811 06",
     "Obchodná 30"),
    ("Turin", "IT", "Europe/Rome", "45.068300", "7.682800", "10121", "Via Roma 100"),
    ("Valletta", "MT", "Europe/Malta", "35.898100", "14.512500", "VLT 1117",
     "Republic Street 100"),
    ("Eindhoven", "NL", "Europe/Amsterdam", "51.439600", "5.478200", "5611 AS", "Demer 20"),
    ("Nicosia", "CY", "Asia/Nicosia", "35.173000", "33.361300", "1011", "Ledra Street 100"),
    ("Toulouse", "FR", "Europe/Paris", "43.602400", "1.443900", "31000",
     "40 Rue d'Alsace-Lorraine"),
]
# fmt: on
# Countries where the demo stores keep Sundays closed.
SUNDAY_CLOSED = {"DE", "AT", "GR", "HR", "SK"}


def store_specs(scale: str) -> list[StoreSpec]:
    count = SIZES[scale]["stores"]
    specs = CORE_STORES[:count]
    for n in range(len(specs) + 1, count + 1):
        i = n - len(CORE_STORES) - 1
        city, country, tz, lat, lon, postcode, street = EXTRA_CITIES[i % len(EXTRA_CITIES)]
        cycle = i // len(EXTRA_CITIES)
        name = f"Aisle {city}" + (f" {cycle + 1}" if cycle else "")
        if cycle:  # a second store in the same city, a few streets away
            lat = f"{Decimal(lat) + Decimal('0.004') * cycle:.6f}"
            lon = f"{Decimal(lon) - Decimal('0.006') * cycle:.6f}"
        opens, closes = ("10:00", "19:00") if n % 3 else ("09:00", "20:00")
        sunday = None if country in SUNDAY_CLOSED or n % 7 == 0 else ("11:00", "17:00")
        specs.append(
            StoreSpec(
                f"S{n:02d}",
                name,
                street,
                city,
                postcode,
                country,
                lat,
                lon,
                tz,
                _week((opens, closes), saturday=("10:00", "18:00"), sunday=sunday),
                pickup_enabled=n % 11 != 0,
            )
        )
    return specs


def seed_stores(ctx: DemoContext) -> list[Store]:
    specs = store_specs(ctx.scale)
    ctx.step(f"Stores: {len(specs)} with opening hours")
    outside = sorted({s.country for s in specs if not country_served(s.country)})
    if outside:
        ctx.write(
            ctx.style.WARNING(
                "  The demo network is in the euro area; these of its countries lie outside "
                f"the countries served with AISLE_CURRENCY={settings.AISLE_CURRENCY}: "
                f"{', '.join(outside)}. Seed it with AISLE_CURRENCY=EUR, or name them in "
                "AISLE_COUNTRIES."
            )
        )
    stores = []
    bar = ctx.progress("stores", len(specs))
    for spec in specs:
        store, _ = Store.objects.update_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "address_line1": spec.address,
                "city": spec.city,
                "postcode": spec.postcode,
                "country": spec.country,
                "latitude": Decimal(spec.lat),
                "longitude": Decimal(spec.lon),
                "time_zone": spec.time_zone,
                "pickup_enabled": spec.pickup_enabled,
                "pickup_hold_days": spec.pickup_hold_days,
                "is_open": True,
            },
        )
        for weekday, (opens, closes) in spec.hours.items():
            OpeningHours.objects.update_or_create(
                store=store,
                weekday=weekday,
                defaults={
                    "opens": dt.time.fromisoformat(opens),
                    "closes": dt.time.fromisoformat(closes),
                },
            )
        OpeningHours.objects.filter(store=store).exclude(weekday__in=spec.hours).delete()
        stores.append(store)
        bar.advance()
    bar.finish()
    return stores


def seed_closures(ctx: DemoContext, stores: list[Store]) -> None:
    """Each store closes on its country's public holidays, this year and next. A day
    HQ already closed keeps HQ's reason."""
    this_year = timezone.localdate().year
    rows = [
        StoreClosure(store=store, date=day, reason=name)
        for store in stores
        for year in (this_year, this_year + 1)
        for day, name in public_holidays(store.country, year)
    ]
    ctx.step(f"Store closures: {len(rows)} public holidays in {this_year} and {this_year + 1}")
    StoreClosure.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


# --- Catalog --------------------------------------------------------------------


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    tax_rate: str
    sku_code: str
    styles: int  # at the small scale
    sizes: tuple[str, ...]
    base_price: int
    shape: str
    brands: tuple[str, ...]
    materials: tuple[str, ...]
    nouns: tuple[str, ...]


APPAREL = ("Aisle Essentials", "Northline", "Harbour & Co", "Maison Verre", "Fieldwork")
HOME = ("Aisle Home", "Hearth & Loom", "Kiln Studio")
ONE_SIZE = ("One Size",)

# fmt: off
CATEGORIES = [
    CategorySpec(
        "tops", "Tops", "20.00", "TOP", 12, ("XS", "S", "M", "L", "XL"), 25, "tee", APPAREL,
        ("Organic Cotton", "Linen", "Pima Cotton", "Recycled Jersey", "Poplin"),
        ("Crew T-Shirt", "Oxford Shirt", "Camp Collar Shirt", "Polo Shirt", "Henley",
         "Long-Sleeve Tee", "Blouse", "Rugby Shirt"),
    ),
    CategorySpec(
        "knitwear", "Knitwear", "20.00", "KNT", 8, ("XS", "S", "M", "L", "XL"), 59, "knit",
        APPAREL,
        ("Merino", "Lambswool", "Cashmere-Blend", "Cotton Cable", "Alpaca-Blend"),
        ("Crew Jumper", "V-Neck Jumper", "Cardigan", "Roll-Neck Jumper", "Knitted Vest",
         "Fisherman Jumper"),
    ),
    CategorySpec(
        "outerwear", "Outerwear", "20.00", "OUT", 6, ("S", "M", "L", "XL"), 129, "coat", APPAREL,
        ("Waxed Cotton", "Wool-Blend", "Recycled Nylon", "Technical", "Denim"),
        ("Trench Coat", "Overcoat", "Quilted Jacket", "Rain Jacket", "Parka", "Field Jacket"),
    ),
    CategorySpec(
        "trousers", "Trousers", "20.00", "TRS", 8, ("28", "30", "32", "34", "36"), 55,
        "trousers", APPAREL,
        ("Stretch Cotton", "Selvedge Denim", "Linen-Blend", "Wool", "Corduroy"),
        ("Chinos", "Straight Jeans", "Slim Jeans", "Wide-Leg Trousers", "Cargo Trousers",
         "Pleated Trousers"),
    ),
    CategorySpec(
        "dresses", "Dresses", "20.00", "DRS", 8, ("6", "8", "10", "12", "14", "16"), 69, "dress",
        APPAREL,
        ("Viscose", "Linen", "Cotton Poplin", "Jersey", "Satin"),
        ("Wrap Dress", "Shirt Dress", "Slip Dress", "Midi Dress", "Tiered Maxi Dress",
         "Tea Dress"),
    ),
    CategorySpec(
        "footwear", "Footwear", "20.00", "FTW", 8,
        ("38", "39", "40", "41", "42", "43", "44", "45"), 89, "shoe", APPAREL,
        ("Leather", "Suede", "Canvas", "Recycled Knit"),
        ("Trainers", "Chelsea Boots", "Loafers", "Plimsolls", "Derby Shoes", "Sandals"),
    ),
    CategorySpec(
        "accessories", "Accessories", "20.00", "ACC", 8, ONE_SIZE, 29, "bag", APPAREL,
        ("Wool", "Leather", "Silk", "Cotton Canvas"),
        ("Scarf", "Belt", "Beanie", "Tote Bag", "Crossbody Bag", "Cap", "Wallet"),
    ),
    CategorySpec(
        "bedding", "Bedding", "20.00", "BED", 6, ("Single", "Double", "King", "Super King"), 49,
        "bed", HOME,
        ("Washed Linen", "Percale Cotton", "Sateen Cotton", "Waffle Cotton"),
        ("Duvet Cover Set", "Fitted Sheet", "Pillowcase Pair", "Quilted Throw"),
    ),
    CategorySpec(
        "kitchen", "Kitchen", "20.00", "KIT", 6, ONE_SIZE, 19, "mug", HOME,
        ("Stoneware", "Enamel", "Oak", "Glass", "Cast Iron"),
        ("Mug", "Serving Bowl", "Carafe", "Chopping Board", "Casserole Dish", "Tea Towel Set"),
    ),
    CategorySpec(
        "decor", "Decor", "20.00", "DEC", 6, ONE_SIZE, 29, "vase", HOME,
        ("Ceramic", "Rattan", "Brass", "Jute", "Hand-Blown Glass"),
        ("Vase", "Candle", "Cushion Cover", "Table Lamp", "Basket", "Photo Frame"),
    ),
    CategorySpec(
        "childrens-clothing", "Children's clothing", "0.00", "KID", 4,
        ("2-3Y", "4-5Y", "6-7Y", "8-9Y", "10-11Y"), 15, "kids", ("Little Aisle", "Northline Kids"),
        ("Organic Cotton", "Recycled Fleece", "Cotton Jersey"),
        ("T-Shirt", "Hoodie", "Dungarees", "Raincoat", "Pyjamas", "Joggers"),
    ),
]
# fmt: on

# (name, SKU code, RGB)
# fmt: off
COLOURS = [
    ("Navy", "NAVY", (31, 45, 84)),
    ("Black", "BLACK", (30, 30, 30)),
    ("White", "WHITE", (250, 250, 246)),
    ("Grey Marl", "GREY", (150, 150, 155)),
    ("Oatmeal", "OAT", (216, 200, 172)),
    ("Olive", "OLIVE", (107, 112, 59)),
    ("Rust", "RUST", (183, 84, 45)),
    ("Sage", "SAGE", (156, 175, 136)),
    ("Sky Blue", "SKY", (135, 180, 220)),
    ("Burgundy", "BURG", (114, 33, 48)),
    ("Camel", "CAMEL", (193, 154, 107)),
    ("Forest Green", "FOREST", (34, 85, 58)),
    ("Dusty Pink", "PINK", (214, 160, 160)),
    ("Charcoal", "CHAR", (60, 62, 66)),
    ("Mustard", "MUSTARD", (214, 163, 46)),
    ("Terracotta", "TERRA", (196, 108, 80)),
]
# fmt: on
SIZE_CODES = {"One Size": "OS", "Single": "SGL", "Double": "DBL", "King": "KG", "Super King": "SK"}
BEDDING_PRICE = {"Single": 1, "Double": Decimal("1.3"), "King": Decimal("1.5"), "Super King": 2}
FITS = ("Regular fit", "Relaxed fit", "Slim fit", "Oversized fit")
CARE = ("Machine wash at 30°C", "Hand wash cold", "Dry clean only", "Machine wash at 40°C")


@dataclass
class StylePlan:
    category: CategorySpec
    product: dict[str, Any]
    variants: list[dict[str, Any]]
    image_colour: tuple[str, str, tuple[int, int, int]]
    translations: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> name, desc


# The demo catalogue in other languages: one data file per language, made of the same
# parts the English names are built from.
CATALOGUE_FILES = sorted(
    (Path(__file__).resolve().parent / "content").glob("demo_catalogue.*.json")
)


@functools.cache
def catalogue_glossaries() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(path.read_text(encoding="utf-8")) for path in CATALOGUE_FILES)


def _translated(
    glossary: dict[str, Any],
    cat: CategorySpec,
    material: str,
    noun: str,
    brand: str,
    attributes: dict[str, Any],
) -> dict[str, str]:
    """The product's name and description in the glossary's language."""
    name = glossary["materials"][material] + glossary["nouns"][noun]
    description = glossary["description"].format(
        brand=brand,
        name=name,
        material=glossary["materials"][material],
        care=glossary["terms"][attributes["care"]],
    )
    return {"name": name, "description": description}


def catalog_plan(scale: str) -> Iterator[StylePlan]:
    """Every style and variant of the scale, the same on every run."""
    factor = SIZES[scale]["style_factor"]
    global_index = 0
    for cat_index, cat in enumerate(CATEGORIES):
        for style_no in range(1, cat.styles * factor + 1):
            global_index += 1
            yield _style_plan(cat_index, cat, style_no, global_index)


def _style_plan(cat_index: int, cat: CategorySpec, style_no: int, global_index: int) -> StylePlan:
    rng = random.Random(f"aisle-demo:style:{cat.code}:{style_no}")
    style_code = f"AIS-{cat.sku_code}-{style_no:04d}"
    material = cat.materials[style_no % len(cat.materials)]
    noun = cat.nouns[(style_no // len(cat.materials)) % len(cat.nouns)]
    brand = cat.brands[style_no % len(cat.brands)]
    name = f"{material} {noun}"
    colours = rng.sample(COLOURS, rng.randint(1, 3) if len(cat.sizes) == 1 else rng.randint(2, 3))
    factor = rng.choice((Decimal("0.8"), Decimal("0.9"), 1, Decimal("1.2"), Decimal("1.5")))
    style_price = cat.base_price * factor
    attributes: dict[str, Any] = {"material": material, "care": rng.choice(CARE)}
    if cat.shape in ("tee", "knit", "coat", "trousers", "dress", "kids"):
        attributes["fit"] = rng.choice(FITS)
    product = {
        "style_code": style_code,
        "name": name,
        "brand": brand,
        "description": (
            f"The {name.lower()} from {brand}: {material.lower()}, made to last. "
            f"{attributes['care']}."
        ),
        "attributes": attributes,
        "final_sale": style_no % 15 == 7,
        "active": global_index % 37 != 0,
        "image": f"products/{cat.code}-{colours[0][1].lower()}.png",
    }
    variants = []
    for v, (size, (colour, colour_code, _)) in enumerate(
        (size, colour) for colour in colours for size in cat.sizes
    ):
        price = style_price * Decimal(BEDDING_PRICE.get(size, 1))
        first12 = f"200{cat_index:02d}{style_no:04d}{v:03d}"
        variants.append(
            {
                "sku": f"{style_code}-{SIZE_CODES.get(size, size)}-{colour_code}",
                "size": size,
                "colour": colour,
                "barcode": first12 + str(ean13_check_digit(first12)),
                "price": Decimal(round(price)) - Decimal("0.05"),
            }
        )
    translations = {
        glossary["language"]: _translated(glossary, cat, material, noun, brand, attributes)
        for glossary in catalogue_glossaries()
    }
    return StylePlan(cat, product, variants, colours[0], translations)


def seed_catalog(ctx: DemoContext) -> None:
    categories = {}
    for spec in CATEGORIES:
        categories[spec.code], _ = Category.objects.update_or_create(
            code=spec.code, defaults={"name": spec.name, "tax_rate": Decimal(spec.tax_rate)}
        )
    _seed_catalogue_words(categories)
    factor = SIZES[ctx.scale]["style_factor"]
    styles = sum(c.styles for c in CATEGORIES) * factor
    ctx.step(f"Catalog: {len(categories)} categories, {styles} styles with their SKUs")
    images = ProductImages()
    bar = ctx.progress("styles", styles)
    for batch in batched(catalog_plan(ctx.scale), 500):
        for plan in batch:
            images.ensure(plan.category, plan.image_colour)
        Product.objects.bulk_create(
            [Product(category=categories[p.category.code], **p.product) for p in batch],
            ignore_conflicts=True,
        )
        ids = dict(
            Product.objects.filter(
                style_code__in=[p.product["style_code"] for p in batch]
            ).values_list("style_code", "id")
        )
        Variant.objects.bulk_create(
            [
                Variant(product_id=ids[p.product["style_code"]], **v)
                for p in batch
                for v in p.variants
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        ProductTranslation.objects.bulk_create(
            [
                ProductTranslation(
                    product_id=ids[p.product["style_code"]], language=language, **text
                )
                for p in batch
                for language, text in p.translations.items()
            ],
            update_conflicts=True,
            unique_fields=["product", "language"],
            update_fields=["name", "description"],
        )
        # bulk_create skips Variant.save(): the first prices go into the history here.
        PriceChange.record_initial(
            Variant.objects.filter(product_id__in=ids.values()).values_list("pk", flat=True)
        )
        bar.advance(len(batch))
    bar.finish()
    catalogue.bump()  # the translations were written in bulk, without signals
    if images.drawn:
        ctx.write(f"  drew {images.drawn} product images in the media storage ({images.folder}/)")


def _seed_catalogue_words(categories: dict[str, Category]) -> None:
    """Category names and the catalogue's words in each glossary's language; a second
    run updates them in place."""
    for glossary in catalogue_glossaries():
        language = glossary["language"]
        CategoryTranslation.objects.bulk_create(
            [
                CategoryTranslation(category=categories[code], language=language, name=name)
                for code, name in glossary["categories"].items()
            ],
            update_conflicts=True,
            unique_fields=["category", "language"],
            update_fields=["name"],
        )
        words = {**glossary["materials"], **glossary["terms"]}
        AttributeTranslation.objects.bulk_create(
            [
                AttributeTranslation(source=source, language=language, text=text)
                for source, text in words.items()
            ],
            update_conflicts=True,
            unique_fields=["source", "language"],
            update_fields=["text"],
        )


class ProductImages:
    """One PNG per category and colour, drawn locally and saved through the media
    storage (local files or an S3-compatible store); many products share each file."""

    def __init__(self) -> None:
        self.folder = "products"
        self.seen: set[str] = set()
        self.drawn = 0

    def ensure(self, cat: CategorySpec, colour: tuple[str, str, tuple[int, int, int]]) -> None:
        name = f"{self.folder}/{cat.code}-{colour[1].lower()}.png"
        if name in self.seen:
            return
        self.seen.add(name)
        if default_storage.exists(name):
            return
        buffer = io.BytesIO()
        draw_product_image(buffer, shape=cat.shape, rgb=colour[2], label=cat.name)
        default_storage.save(name, ContentFile(buffer.getvalue()))
        self.drawn += 1


# fmt: off
SHAPES = {
    "tee": [(120, 90), (170, 70), (230, 70), (280, 90), (340, 150), (300, 190), (280, 170),
            (280, 330), (120, 330), (120, 170), (100, 190), (60, 150)],
    "knit": [(120, 90), (170, 70), (230, 70), (280, 90), (330, 300), (295, 310), (280, 180),
             (280, 330), (120, 330), (120, 180), (105, 310), (70, 300)],
    "coat": [(130, 70), (180, 60), (220, 60), (270, 70), (320, 330), (285, 335), (275, 190),
             (280, 350), (120, 350), (125, 190), (115, 335), (80, 330)],
    "trousers": [(130, 60), (270, 60), (290, 340), (220, 340), (200, 150), (180, 340),
                 (110, 340)],
    "dress": [(165, 60), (235, 60), (250, 150), (320, 340), (80, 340), (150, 150)],
    "shoe": [(70, 250), (90, 180), (170, 190), (210, 230), (320, 250), (340, 290), (70, 290)],
    "vase": [(175, 70), (225, 70), (215, 130), (280, 220), (250, 330), (150, 330), (120, 220),
             (185, 130)],
    "kids": [(150, 130), (180, 115), (220, 115), (250, 130), (290, 175), (265, 200),
             (250, 190), (250, 300), (150, 300), (150, 190), (135, 200), (110, 175)],
}
# fmt: on


def draw_product_image(
    path: Path | io.BytesIO, *, shape: str, rgb: tuple[int, int, int], label: str
) -> None:
    """A 400 by 400 PNG: the category's silhouette in the product's colour, and its name."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (400, 400), (244, 242, 237))
    draw = ImageDraw.Draw(image)
    outline = tuple(max(0, c - 60) for c in rgb)
    if shape in SHAPES:
        draw.polygon(SHAPES[shape], fill=rgb, outline=outline, width=3)
    elif shape == "bag":
        draw.arc((140, 70, 260, 210), 180, 360, fill=outline, width=10)
        draw.rounded_rectangle((100, 140, 300, 320), 18, fill=rgb, outline=outline, width=3)
    elif shape == "bed":
        draw.rounded_rectangle((60, 110, 110, 310), 10, fill=outline)
        draw.rounded_rectangle((100, 200, 340, 280), 12, fill=rgb, outline=outline, width=3)
        draw.rounded_rectangle((115, 170, 185, 205), 10, fill=(250, 250, 246), outline=outline)
    elif shape == "mug":
        draw.ellipse((230, 170, 310, 270), outline=outline, width=14)
        draw.rounded_rectangle((110, 120, 260, 320), 20, fill=rgb, outline=outline, width=3)
    font = ImageFont.load_default(size=26)
    draw.text((200, 370), label, fill=(70, 70, 70), font=font, anchor="mm")
    image.save(path, "PNG")


# --- Customers ------------------------------------------------------------------

# fmt: off
NAMES = {
    "en": (
        ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Sophie", "Jack", "Grace",
         "Leo", "Freya", "Arthur", "Lily", "Oscar", "Emily", "James", "Ella", "Priya", "Aisha",
         "Omar", "Ravi", "Chloe", "Samuel", "Ruby", "Thomas", "Hannah", "Ethan", "Zara", "Daniel"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
         "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
         "Clarke", "Khan", "Hughes", "Edwards", "Turner", "Murphy", "O'Brien", "Kaur", "Ahmed"),
    ),
    "fr": (
        ("Camille", "Léa", "Louis", "Chloé", "Hugo", "Manon", "Jules", "Inès", "Gabriel", "Zoé",
         "Lucas", "Élodie", "Théo", "Margaux", "Arthur", "Jade"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
         "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Fontaine", "Girard"),
    ),
    "de": (
        ("Lukas", "Hannah", "Leon", "Mia", "Finn", "Lena", "Jonas", "Emilia", "Paul", "Marie",
         "Felix", "Sophie", "Maximilian", "Anna", "Elias", "Clara"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Koch", "Richter", "Wolf", "Schröder", "Neumann", "Braun"),
    ),
    "es": (
        ("Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Valeria", "Daniel", "Carmen",
         "Javier", "Elena", "Álvaro"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
         "Gómez", "Ruiz", "Díaz", "Moreno"),
    ),
    "pt": (
        ("Maria", "João", "Beatriz", "Tiago", "Inês", "Rodrigo", "Ana", "Duarte"),
        ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins"),
    ),
    "it": (
        ("Giulia", "Leonardo", "Sofia", "Francesco", "Aurora", "Alessandro", "Chiara", "Lorenzo",
         "Giorgia", "Matteo"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
         "Marino", "Greco"),
    ),
    "nl": (
        ("Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Milan", "Sanne", "Bram", "Fleur"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit",
         "Meijer", "Mulder"),
    ),
    "nordic": (
        ("Astrid", "Erik", "Ingrid", "Lars", "Maja", "Nils", "Sigrid", "Oskar", "Freja",
         "Anders"),
        ("Andersson", "Johansson", "Hansen", "Larsen", "Nilsson", "Olsen", "Eriksson", "Berg",
         "Lindqvist", "Dahl"),
    ),
    # No "Mei" and no "Chen": searching for the demo customer finds only her.
    "zh": (
        ("Wei", "Jing", "Hao", "Xin", "Yu", "Fang", "Jun", "Lei", "Yan", "Ming", "Hui", "Tao"),
        ("Wang", "Li", "Zhang", "Liu", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Lin", "Guo"),
    ),
    "ja": (
        ("Haruto", "Yui", "Sota", "Hina", "Riku", "Aoi", "Yuto", "Sakura", "Ren", "Mio"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
         "Kobayashi", "Kato"),
    ),
}
# fmt: on
# fmt: off
NAME_POOL = {
    "FR": "fr", "BE": "fr", "LU": "fr", "DE": "de", "AT": "de", "ES": "es", "PT": "pt",
    "IT": "it", "NL": "nl", "FI": "nordic", "EE": "nordic",
}
# fmt: on
# Mobile number ranges that `phonenumbers` accepts, each followed by six more digits:
# every euro-area country the demo network may have a store in.
# fmt: off
PHONE_PREFIX = {
    "FR": "+33612", "DE": "+4915123", "NL": "+31612", "PT": "+351912", "IE": "+353851",
    "BE": "+32470", "LU": "+352621", "ES": "+34612", "IT": "+393123", "AT": "+43664",
    "FI": "+358401", "EE": "+37251", "LV": "+37122", "LT": "+37061", "GR": "+306941",
    "CY": "+35799", "MT": "+35679", "SI": "+38640", "HR": "+385912", "SK": "+421905",
}
# fmt: on
# Online customers without a store live in the network's home country.
HOME_COUNTRY = "FR"
# Every sixteenth customer reads Aisle in Chinese, wherever they live.
CHINESE_EVERY = 16
TOP_SIZES = ("XS", "S", "M", "M", "L", "L", "XL")
PREFERENCES = (
    "Prefers natural fibres.",
    "Likes a text when new knitwear arrives.",
    "Usually collects in store after work.",
    "Buys gifts for two children (ages 4 and 7).",
    "Prefers relaxed fits; avoids wool next to the skin.",
    "Interested in linen bedding.",
)


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def person_name(rng: random.Random, country: str, pool_name: str = "") -> tuple[str, str]:
    pool_name = pool_name or NAME_POOL.get(country, "en")
    pool = NAMES[pool_name] if rng.random() < 0.85 else NAMES["en"]
    return rng.choice(pool[0]), rng.choice(pool[1])


def demo_phone(country: str, index: int) -> str:
    """A valid mobile number for the country, different for every index below 500,000."""
    prefix = PHONE_PREFIX.get(country, PHONE_PREFIX[HOME_COUNTRY])
    phone = prefix + f"{index:06d}"
    if phone == DEMO_CUSTOMER["phone"]:  # leave the demo customer's number to her alone
        phone = prefix + f"{index + 500_000:06d}"
    return phone


def _consent(rng: random.Random, now: dt.datetime, given: float, withdrawn: float):
    roll = rng.random()
    when = now - dt.timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1439))
    if roll < given:
        return True, when
    if roll < given + withdrawn:
        return False, when
    return False, None


def customer_rows(
    scale: str, stores: list[Store], now: dt.datetime, start: int, stop: int
) -> Iterator[Customer]:
    """The generated customers with index in [start, stop): online ones have a
    `WEB-000123` reference, every eighth is a walk-in without one."""
    rng = random.Random(f"aisle-demo:customers:{start}")
    # The small scale's customers shop at its stores at every scale, so a large
    # seed after a small one (or the reverse) finds the same walk-ins.
    core = stores[: SIZES["small"]["stores"]]
    for i in range(start, stop):
        pool = core if i <= SIZES["small"]["customers"] else stores
        walk_in = i % 8 == 0
        store = pool[i % len(pool)] if walk_in or rng.random() < 0.85 else None
        country = store.country if store else HOME_COUNTRY
        chinese = i % CHINESE_EVERY == 5
        first, last = person_name(rng, country, "zh" if chinese else "")
        tracking, tracking_at = _consent(rng, now, 0.7, 0.1)
        marketing, marketing_at = _consent(rng, now, 0.45, 0.1)
        has_email = not walk_in or rng.random() < 0.5
        domain = rng.choice(("example.com", "example.org", "example.net"))
        yield Customer(
            customer_ref=None if walk_in else f"WEB-{i:06d}",
            name=f"{first} {last}",
            email=f"{ascii_slug(first)}.{ascii_slug(last)}.{i}@{domain}" if has_email else "",
            phone=demo_phone(country, i) if walk_in or rng.random() < 0.8 else "",
            preferred_store=store,
            language="zh-hans" if chinese else "en",
            sizes=(
                {
                    "top": rng.choice(TOP_SIZES),
                    "bottom": str(rng.choice(range(26, 38, 2))),
                    "shoe": str(rng.randint(36, 46)),
                }
                if rng.random() < 0.75
                else {}
            ),
            preferences=rng.choice(PREFERENCES) if rng.random() < 0.2 else "",
            tracking_consent=tracking,
            tracking_consent_at=tracking_at,
            marketing_consent=marketing,
            marketing_consent_at=marketing_at,
        )


def seed_customers(ctx: DemoContext, stores: list[Store]) -> None:
    total = SIZES[ctx.scale]["customers"]
    ctx.step(f"Customers: {total} with consents, and the demo customer Mei Lin Chen")
    now = timezone.now()
    by_code = {s.code: s for s in stores}
    Customer.objects.update_or_create(
        customer_ref=DEMO_CUSTOMER["customer_ref"],
        defaults={
            "name": DEMO_CUSTOMER["name"],
            "email": DEMO_CUSTOMER["email"],
            "phone": DEMO_CUSTOMER["phone"],
            "preferred_store": by_code["S01"],
            "language": "en",
            "sizes": {"top": "S", "bottom": "26", "shoe": "38"},
            "preferences": "Prefers linen and natural fibres; collects after work.",
            "tracking_consent": True,
            "tracking_consent_at": now - dt.timedelta(days=200),
            "marketing_consent": True,
            "marketing_consent_at": now - dt.timedelta(days=200),
        },
    )
    # Walk-ins have no reference; their phone number is their key here.
    walk_in_phones = set(
        Customer.objects.filter(customer_ref__isnull=True).values_list("phone", flat=True)
    )
    batch = 5000 if ctx.large else 1000
    bar = ctx.progress("customers", total)
    for start in range(1, total + 1, batch):
        rows = [
            c
            for c in customer_rows(ctx.scale, stores, now, start, min(start + batch, total + 1))
            if c.customer_ref or c.phone not in walk_in_phones
        ]
        Customer.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        bar.update(min(start + batch - 1, total))
    bar.finish()


# --- Staff ----------------------------------------------------------------------


@dataclass(frozen=True)
class StaffSpec:
    email: str
    role: str
    store: Store | None
    first_name: str
    last_name: str


def staff_specs(scale: str, stores: list[Store]) -> list[StaffSpec]:
    specs = []
    for store in stores:
        people = [("manager", 1, Role.STORE_MANAGER)]
        people += [
            ("associate", n, Role.ASSOCIATE) for n in range(1, SIZES[scale]["associates"] + 1)
        ]
        for kind, n, role in people:
            email = staff_email(kind, store.code, n)
            first, last = person_name(random.Random(f"aisle-demo:{email}"), store.country)
            specs.append(StaffSpec(email, role, store, first, last))
        specs.append(
            StaffSpec(staff_email("kiosk", store.code), Role.KIOSK, store, "Kiosk", store.name)
        )
    return specs


def seed_staff(ctx: DemoContext, stores: list[Store]) -> None:
    from retail.services import mark_email_verified, staff_create

    specs = staff_specs(ctx.scale, stores)
    ctx.step(f"Staff: HQ admin with TOTP, and {len(specs)} store staff and kiosks")
    # Hashing is slow on purpose; every demo login shares one hash.
    password = make_password(DEMO_PASSWORD)
    hq = User.objects.filter(email=HQ_EMAIL).first()
    if hq is None:
        hq = staff_create(
            email=HQ_EMAIL,
            password=None,
            role=Role.HQ_ADMIN,
            home_store=None,
            first_name="Grace",
            last_name="Adeyemi",
        )
        _set_password_hash(hq, password)
    activate_hq_totp(hq)
    mark_email_verified(hq)

    existing = set(
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").values_list("email", flat=True)
    )
    new = [s for s in specs if s.email not in existing]
    if ctx.large:
        _staff_bulk_create(ctx, new, password)
    else:
        bar = ctx.progress("staff", len(new))
        for spec in new:
            user = staff_create(
                email=spec.email,
                password=None,
                role=spec.role,
                home_store=spec.store,
                first_name=spec.first_name,
                last_name=spec.last_name,
            )
            _set_password_hash(user, password)
            bar.advance()
        bar.finish()
    # Demo logins have verified addresses (password resets go only to those).
    from allauth.account.models import EmailAddress

    demo_users = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exclude(
        emailaddress__verified=True
    )
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=pk, email=email, verified=True, primary=True)
            for pk, email in demo_users.values_list("pk", "email")
        ],
        ignore_conflicts=True,
    )
    # The S01 manager also works in S02, so the store picker has a case.
    by_code = {s.code: s for s in stores}
    manager = StaffProfile.objects.get(user__email=staff_email("manager", "S01"))
    manager.other_stores.add(by_code["S02"])


def _set_password_hash(user: User, password_hash: str) -> None:
    user.password = password_hash
    user.save(update_fields=["password"])


def _staff_bulk_create(ctx: DemoContext, specs: list[StaffSpec], password_hash: str) -> None:
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    bar = ctx.progress("staff", len(specs))
    for batch in batched(specs, 500):
        User.objects.bulk_create(
            [
                User(
                    email=s.email,
                    password=password_hash,
                    first_name=s.first_name,
                    last_name=s.last_name,
                    is_staff=False,
                )
                for s in batch
            ],
            ignore_conflicts=True,
        )
        ids = dict(
            User.objects.filter(email__in=[s.email for s in batch]).values_list("email", "id")
        )
        StaffProfile.objects.bulk_create(
            [StaffProfile(user_id=ids[s.email], role=s.role, home_store=s.store) for s in batch],
            ignore_conflicts=True,
        )
        membership = User.groups.through
        membership.objects.bulk_create(
            [membership(user_id=ids[s.email], group_id=groups[s.role].pk) for s in batch],
            ignore_conflicts=True,
        )
        bar.advance(len(batch))
    bar.finish()


def activate_hq_totp(user: User) -> None:
    """Give the HQ login an activated TOTP authenticator with the fixed demo secret,
    stored through allauth (and its adapter's encryption) as its own setup would."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from allauth.mfa.utils import decrypt, encrypt

    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is None:
        TOTP.activate(user, HQ_TOTP_SECRET)
    elif decrypt(existing.data["secret"]) != HQ_TOTP_SECRET:
        existing.data = {**existing.data, "secret": encrypt(HQ_TOTP_SECRET)}
        existing.save(update_fields=["data"])


def demo_logins_stores() -> list[Store]:
    """The stores that have the demo staff logins, in code order."""
    managers = {
        e.split(".", 1)[1].split("@", 1)[0].upper()
        for e in User.objects.filter(
            email__startswith="manager.", email__endswith=f"@{DEMO_DOMAIN}"
        ).values_list("email", flat=True)
    }
    return [s for s in Store.objects.order_by("code") if s.code in managers]
