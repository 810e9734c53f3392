"""A year of demo history, so every chart of insights has a real shape.

`seed_demo` runs this module last (insights is the top layer: it reads every app). It
writes, from the first day of the month twelve months ago up to yesterday:

- orders in every channel — till sales (some to walk-ins without a customer), the
  endless aisle (ordered in store, delivered home), kiosk reservations collected at
  the counter, online orders (web, app, social) delivered home from the DC, shipped
  from a store, or collected in store (BOPIS: collected, expired or cancelled) — with
  their lines, fulfilments and realistic timings (order → ready, held, shipped,
  delivered), payments by tender, the order timeline, and refunds of what was
  cancelled or not collected;
- online browsing, assisted-selling sessions and the sales credits they earn
  (attribution), kiosk visits;
- returns (several reasons and dispositions; online orders returned in store — BORIS;
  refunds to the card or as store credit; exchanges) with their refunds, the credits
  they reverse and the store credit they issue and spend;

with seasonality (a December peak, a January sale, a summer dip; stores busier at the
weekend) and customers who live every channel-usage segment of `insights.segments`:
webroomers, showroomers, web only, store only, omnichannel and never-bought browsers.

Historic orders are complete, and they predate the demo's opening stock: they do not
move stock. Stock moves only through the ledger (`inventory`), and nothing written
here changes a stock level. Rows go in with `bulk_create` (the real services would
move stock and take minutes at the large scale), built to the same rules: order
totals are their lines, payments their totals, refunds never more than was paid,
states coherent with their timestamps. Dates are store-local opening hours for what
happens in a store, the reporting time zone's day and evening for what happens online.

Deterministic (seeded random generators) and keyed by order reference: a second run
finds the history there and writes none of it again. At the end the rollups are
rebuilt (`insights.rollups.refresh(full=True)`), so the dashboards are filled.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import re
import time
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from retail.demo import DemoContext, batched

PREFIX = "HIST-"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# How much history each scale writes: the share of customers with a year of history,
# and the walk-in till sales per store and (average) day.
SIZES = {
    "small": {"active_share": 1.0, "walk_ins_per_day": 1.0, "chunk": 2000},
    "large": {"active_share": 0.3, "walk_ins_per_day": 1.5, "chunk": 4000},
}
# Seasonality by month: a December peak, a January sale, a summer dip.
SEASON = {
    1: 1.2, 2: 0.8, 3: 0.9, 4: 0.95, 5: 0.95, 6: 0.8,
    7: 0.65, 8: 0.7, 9: 0.95, 10: 1.0, 11: 1.25, 12: 1.9,
}  # fmt: skip
STORE_WEEKDAY = (0.75, 0.75, 0.85, 0.95, 1.15, 1.6, 1.1)  # Monday first: weekends busier
ONLINE_WEEKDAY = (1.0, 0.95, 0.95, 1.0, 0.95, 0.9, 1.2)  # Sunday evening on the sofa
ONLINE_HOURS = (
    1, 1, 0, 0, 0, 0, 1, 2, 3, 3, 3, 4, 5, 4, 4, 4, 4, 5, 6, 8, 9, 9, 7, 4,
)  # fmt: skip
# The January sale (1–20 January) and the summer sale (20 June – 20 July): off the price.
SALES = (((1, 1), (1, 20), Decimal("0.70")), ((6, 20), (7, 20), Decimal("0.80")))

# Personas: what each customer does in the year (see the module's docstring).
WEBROOMER, SHOWROOMER, WEB_ONLY, STORE_ONLY = "webroomer", "showroomer", "web_only", "store_only"
OMNI_BOTH, OMNI_PLAIN, BROWSER = "omni_both", "omni_plain", "browser"
# Customers who let us track them browse; the others leave no online trace.
TRACKED = ((WEBROOMER, 28), (OMNI_BOTH, 14), (WEB_ONLY, 30), (BROWSER, 28))
UNTRACKED = ((STORE_ONLY, 35), (SHOWROOMER, 30), (OMNI_PLAIN, 15), (WEB_ONLY, 20))
ORDERS_A_YEAR = ((1, 26), (2, 22), (3, 17), (4, 12), (5, 9), (6, 7), (8, 7))

REASONS = (
    ("size", 25), ("fit", 20), ("changed_mind", 20), ("quality", 12),
    ("not_as_described", 10), ("damaged", 8), ("other", 5),
)  # fmt: skip
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Shop:
    pk: int
    code: str
    tz: zoneinfo.ZoneInfo
    hours: dict  # weekday -> (opens, closes)
    location_id: int
    staff: tuple[int, ...]
    pickup: bool
    hold_days: int
    speed: float  # how long this store takes to get a pickup ready, relative
    # Where its customers live: deliveries go to its city (another number in its street).
    street: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""


@dataclass(frozen=True)
class Item:
    pk: int
    sku: str
    price: Decimal
    product_id: int
    category_id: int
    tax_rate: Decimal
    returnable: bool


@dataclass
class Sale:
    """One order to write: when, where, who, what and how it ends."""

    at: dt.datetime
    channel: str
    kind: str  # till, aisle, kiosk, home, sfs, bopis
    shop: Shop | None
    customer_id: int | None
    items: list[tuple[Item, int]]
    outcome: str = "ok"  # ok, expired, cancelled
    credit: tuple[int, Shop, str] | None = None  # associate, store, why
    placed_by: int | None = None
    checked_in: bool = False


@dataclass
class Built:
    """The rows of one order (and what hangs off it), before they are inserted."""

    order: object
    lines: list = field(default_factory=list)
    fulfilments: list = field(default_factory=list)
    fulfilment_lines: list = field(default_factory=list)
    events: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    credits: list = field(default_factory=list)
    returns: list = field(default_factory=list)  # (Return, [ReturnLine], [ReturnEvent])


def seed(ctx: DemoContext) -> None:
    from orders.models import Order

    started = time.monotonic()
    if not settings.AISLE_DEMO_HISTORY:
        ctx.step("History: none (AISLE_DEMO_HISTORY is off)")
    elif Order.objects.filter(order_ref__startswith=PREFIX).exists():
        ctx.step("History: there already")
    else:
        History(ctx).write()
        ctx.write(f"  history written in {time.monotonic() - started:.1f} s")
        _tallies(ctx)
        _analyze()
    _refresh(ctx)


def _analyze() -> None:
    """Fresh planner statistics before the rollups read the history back: it was
    written in this transaction, which autovacuum cannot see, so without this the
    day-by-day queries are planned for tables as they were before the history."""
    from retail.bulk import analyze_tables

    analyze_tables()


def _tallies(ctx: DemoContext) -> None:
    """The returns' abuse-signal tallies, counted again with the history's returns."""
    from returns.risk import tally

    done = tally.rebuild()
    ctx.write(f"  abuse signals counted again: {done['tallies']} monthly tallies")


def _refresh(ctx: DemoContext) -> None:
    from insights import rollups

    ctx.step("Insights: rebuilding the rollups")
    started = time.monotonic()
    bar: dict = {}

    def say(text: str) -> None:
        # "days: 200/2190" → one progress line redrawn; other lines as they come.
        label, _sep, count = text.partition(": ")
        done, _slash, total = count.partition("/")
        if total.isdigit() and done.isdigit():
            if label not in bar:
                bar[label] = ctx.progress(label, int(total))
            bar[label].update(int(done))
            if done == total:
                bar[label].finish()
        else:
            ctx.write(f"  {text}")

    result = rollups.refresh(full=True, out=say)
    ctx.write(
        f"  rollups rebuilt in {time.monotonic() - started:.1f} s "
        f"({result['days']} store-days, {result['customers']} customers)"
    )


# --- The network as the history needs it ------------------------------------------------------


def _shops() -> list[Shop]:
    from inventory.models import LocationKind, StockLocation
    from retail.models import OpeningHours, Role, StaffProfile, Store

    hours: dict[int, dict] = defaultdict(dict)
    for store_id, weekday, opens, closes in OpeningHours.objects.values_list(
        "store_id", "weekday", "opens", "closes"
    ):
        hours[store_id][weekday] = (opens, closes)
    locations = dict(
        StockLocation.objects.filter(kind=LocationKind.STORE, store__isnull=False).values_list(
            "store_id", "pk"
        )
    )
    staff: dict[int, list[int]] = defaultdict(list)
    for user_id, store_id in (
        StaffProfile.objects.filter(
            role__in=(Role.ASSOCIATE, Role.STORE_MANAGER), home_store__isnull=False
        )
        .order_by("user_id")
        .values_list("user_id", "home_store_id")
    ):
        staff[store_id].append(user_id)
    shops = []
    for n, store in enumerate(Store.objects.filter(is_open=True).order_by("code")):
        if store.pk not in locations or not staff[store.pk] or not hours[store.pk]:
            continue
        shops.append(
            Shop(
                pk=store.pk,
                code=store.code,
                tz=store.tz,
                hours=hours[store.pk],
                location_id=locations[store.pk],
                staff=tuple(staff[store.pk]),
                pickup=store.pickup_enabled,
                hold_days=store.pickup_hold_days or 7,
                speed=(0.6, 1.0, 1.5, 0.8, 1.25)[n % 5],
                street=store.address_line1,
                city=store.city,
                postcode=store.postcode,
                country=store.country,
            )
        )
    return shops


def _items() -> list[Item]:
    from retail.models import Variant
    from returns.models import ReturnPolicy

    final = set(
        ReturnPolicy.objects.filter(final_sale=True, category__isnull=False).values_list(
            "category_id", flat=True
        )
    )
    return [
        Item(pk, sku, price, product, category, rate, not final_sale and category not in final)
        for pk, sku, price, product, category, rate, final_sale in Variant.objects.filter(
            active=True, product__active=True, product__category__isnull=False, price__gt=0
        )
        .order_by("pk")
        .values_list(
            "pk",
            "sku",
            "price",
            "product_id",
            "product__category_id",
            "product__category__tax_rate",
            "product__final_sale",
        )
    ]


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def _tax_in(amount: Decimal, rate: Decimal) -> Decimal:
    from insights.rollups import tax_in

    return tax_in(amount, rate)


# --- Writing it --------------------------------------------------------------------------------


class History:
    def __init__(self, ctx: DemoContext) -> None:
        from insights.dates import reporting_tz
        from inventory.models import LocationKind, StockLocation
        from orders.models import StoreCredit

        self.ctx = ctx
        self.rng = ctx.rng("insights:history")
        self.now = timezone.now().replace(microsecond=0)
        self.tz = reporting_tz()
        today = self.now.astimezone(self.tz).date()
        first = dt.date(today.year - 1, today.month, 1)
        self.days = [first + dt.timedelta(days=i) for i in range((today - first).days)]
        self.shops = _shops()
        self.pickup_shops = [s for s in self.shops if s.pickup]
        self.by_pk = {s.pk: s for s in self.shops}
        self.items = _items()
        self.by_product: dict[int, list[Item]] = defaultdict(list)
        self.by_category: dict[int, list[Item]] = defaultdict(list)
        for item in self.items:
            self.by_product[item.product_id].append(item)
            self.by_category[item.category_id].append(item)
        self.dc = (
            StockLocation.objects.filter(kind=LocationKind.DC, ships_to_customers=True)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        size = SIZES[ctx.scale]
        self.size = size
        self.store_weights = list(
            itertools.accumulate(SEASON[d.month] * STORE_WEEKDAY[d.weekday()] for d in self.days)
        )
        self.online_weights = list(
            itertools.accumulate(SEASON[d.month] * ONLINE_WEEKDAY[d.weekday()] for d in self.days)
        )
        self.sales: list[Sale] = []
        self.views: list = []
        self.sessions: list = []
        self.tasks: list = []
        self.codes: set[str] = set()
        self.refs = itertools.count(1)
        self.credit_entries: dict[int, list] = defaultdict(list)
        self.has_credit = set(StoreCredit.objects.values_list("customer_id", flat=True))
        self.counts: dict[str, int] = defaultdict(int)

    # --- Time ---

    def day(self, weights: list[float], latest: int = 1) -> dt.date:
        """A day drawn by its weight, at least `latest` days before today."""
        last = len(self.days) - latest
        for _attempt in range(6):
            i = bisect.bisect(weights, self.rng.random() * weights[-1])
            if i <= last:
                return self.days[min(i, len(self.days) - 1)]
        return self.days[max(0, last - self.rng.randrange(14))]

    def in_store(self, shop: Shop, day: dt.date) -> dt.datetime:
        """A moment inside the store's opening hours that day (the next open day if it
        is closed), busier in the afternoon."""
        step = dt.timedelta(days=1 if day < self.days[-1] - dt.timedelta(days=7) else -1)
        for _ in range(7):
            if day.weekday() in shop.hours:
                break
            day += step
        opens, closes = shop.hours.get(day.weekday(), (dt.time(10), dt.time(18)))
        start = dt.datetime.combine(day, opens, tzinfo=shop.tz)
        minutes = (dt.datetime.combine(day, closes) - dt.datetime.combine(day, opens)).seconds / 60
        offset = self.rng.triangular(5, max(10, minutes - 10), minutes * 0.62)
        return (start + dt.timedelta(minutes=offset)).astimezone(dt.UTC).replace(microsecond=0)

    def open_at(self, shop: Shop, at: dt.datetime) -> dt.datetime:
        """`at` if the store is open then, else a little after it next opens."""
        local = at.astimezone(shop.tz)
        for ahead in range(8):
            day = local.date() + dt.timedelta(days=ahead)
            hours = shop.hours.get(day.weekday())
            if hours is None:
                continue
            opens = dt.datetime.combine(day, hours[0], tzinfo=shop.tz)
            closes = dt.datetime.combine(day, hours[1], tzinfo=shop.tz)
            if local < opens:
                return (opens + dt.timedelta(minutes=self.rng.randint(10, 90))).astimezone(dt.UTC)
            if local < closes:
                return at
        return at

    def online(self, day: dt.date) -> dt.datetime:
        hour = self.rng.choices(range(24), ONLINE_HOURS)[0]
        at = dt.datetime.combine(day, dt.time(hour, self.rng.randrange(60)), tzinfo=self.tz)
        return at.astimezone(dt.UTC)

    # --- What is bought ---

    def pick(self) -> Item:
        """A popular SKU more often than a long-tail one."""
        return self.items[int(len(self.items) * self.rng.random() ** 2.2)]

    def basket(self, first: Item | None = None) -> list[tuple[Item, int]]:
        first = first or self.pick()
        items = [(first, 2 if self.rng.random() < 0.08 else 1)]
        for _ in range(self.rng.choices((0, 1, 2), (60, 30, 10))[0]):
            other = (
                self.rng.choice(self.by_category[first.category_id])
                if self.rng.random() < 0.4
                else self.pick()
            )
            if all(other.pk != i.pk for i, _q in items):
                items.append((other, 1))
        return items

    # --- Who does what ---

    def plan(self) -> None:
        from retail.models import Customer

        customers = list(
            Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "customer_ref", "tracking_consent", "preferred_store_id")
        )
        share = self.size["active_share"]
        personas: dict[str, int] = defaultdict(int)
        firsts: dict[str, int] = defaultdict(int)
        for pk, ref, tracked, store_id in customers:
            if self.rng.random() >= share:
                continue
            pool = TRACKED if tracked else UNTRACKED
            if ref is None:
                persona = STORE_ONLY  # a walk-in known by phone
            elif firsts[pool[0][0]] < 3 * len(pool):  # every persona of the pool, thrice
                persona = pool[firsts[pool[0][0]] % len(pool)][0]
                firsts[pool[0][0]] += 1
            else:
                persona = self.rng.choices([p for p, _w in pool], [w for _p, w in pool])[0]
            personas[persona] += 1
            home = self.by_pk.get(store_id) or self.shops[pk % len(self.shops)]
            self.customer(persona, pk, home)
        self.counts.update({f"persona {k}": v for k, v in personas.items()})
        self.walk_ins()

    def customer(self, persona: str, pk: int, home: Shop) -> None:
        if persona == BROWSER:
            for _ in range(self.rng.randint(2, 6)):
                self.browse(pk, self.day(self.online_weights), self.pick())
            return
        n = self.rng.choices([n for n, _w in ORDERS_A_YEAR], [w for _n, w in ORDERS_A_YEAR])[0]
        if persona != STORE_ONLY and persona != WEBROOMER:
            n *= 2  # online shoppers order more often, and smaller baskets
        for i in range(n):
            if persona in (STORE_ONLY, WEBROOMER):
                online = False
            elif persona in (WEB_ONLY, SHOWROOMER):
                online = persona == WEB_ONLY or self.rng.random() < 0.8
            else:  # both kinds of omnichannel: both channels, the first two one of each
                online = i % 2 == 1 if i < 2 else self.rng.random() < 0.5
            if online:
                self.online_sale(persona, pk, home)
            else:
                self.store_sale(persona, pk, home)

    def store_sale(self, persona: str, pk: int, home: Shop) -> None:
        day = self.day(self.store_weights)
        at = self.in_store(home, day)
        roll = self.rng.random()
        if persona == STORE_ONLY and roll < 0.08:
            kind, channel = "kiosk", "kiosk"
        elif persona == STORE_ONLY and roll < 0.14:
            kind, channel = "aisle", "store"
            at = self.in_store(home, min(day, self.days[-9]))
        else:
            kind, channel = "till", "store"
        first = self.pick()
        if persona in (WEBROOMER, OMNI_BOTH) and self.rng.random() < 0.75:
            # Researched online first: views of this product (or its category) days before.
            for _ in range(self.rng.randint(1, 3)):
                seen = self.rng.choice(self.by_product[first.product_id])
                when = at - dt.timedelta(days=self.rng.uniform(0.3, 10))
                self.view(pk, when, seen)
        sale = Sale(at, channel, kind, home, pk, self.basket(first))
        if kind == "aisle":
            sale.placed_by = self.rng.choice(home.staff)
            sale.credit = (sale.placed_by, home, "placed the order themselves")
        elif persona in (STORE_ONLY, WEBROOMER) and kind == "till" and self.rng.random() < 0.3:
            sale.credit = self.serve(pk, home, at - dt.timedelta(minutes=self.rng.randint(5, 40)))
        self.sales.append(sale)

    def online_sale(self, persona: str, pk: int, home: Shop) -> None:
        roll = self.rng.random()
        kind = "home" if roll < 0.5 else "bopis" if roll < 0.8 and home.pickup else "sfs"
        # Settled by now: a pickup ready within days, then held; a parcel within ten days.
        latest = 6 + home.hold_days if kind == "bopis" else 11
        day = self.day(self.online_weights, latest)
        at = self.online(day)
        channel = self.rng.choices(("web", "app", "social"), (55, 35, 10))[0]
        sale = Sale(at, channel, kind, home if kind == "bopis" else None, pk, self.basket())
        if kind == "bopis":
            roll = self.rng.random()
            sale.outcome = "expired" if roll < 0.07 else "cancelled" if roll < 0.14 else "ok"
        elif self.rng.random() < 0.04:
            sale.outcome = "cancelled"
        if persona in (SHOWROOMER, OMNI_BOTH) and self.rng.random() < 0.75:
            # Seen in a store first: served by an associate, or a kiosk visit, days before.
            before = at - dt.timedelta(days=self.rng.uniform(0.5, 10))
            touched = self.in_store(home, before.astimezone(home.tz).date())
            if touched >= at:
                touched = at - dt.timedelta(hours=20)
            if self.rng.random() < 0.8:
                sale.credit = self.serve(pk, home, touched)
            else:
                self.sales.append(Sale(touched, "kiosk", "kiosk", home, pk, self.basket()))
            sale.checked_in = kind == "bopis"
        elif persona == WEB_ONLY and self.rng.random() < 0.6:
            for item, _q in sale.items[:2]:
                self.view(pk, at - dt.timedelta(hours=self.rng.uniform(0.2, 60)), item)
        self.sales.append(sale)

    def walk_ins(self) -> None:
        """Till sales to shoppers the network does not know."""
        base = self.size["walk_ins_per_day"]
        for shop in self.shops:
            for day in self.days:
                if day.weekday() not in shop.hours:
                    continue
                mean = base * SEASON[day.month] * STORE_WEEKDAY[day.weekday()]
                for _ in range(int(mean * self.rng.uniform(0.6, 1.4) + self.rng.random())):
                    self.sales.append(
                        Sale(self.in_store(shop, day), "store", "till", shop, None, self.basket())
                    )

    def serve(self, customer_id: int, shop: Shop, at: dt.datetime) -> tuple[int, Shop, str]:
        """An assisted-selling session ending at `at`; the credit it earns a later order."""
        from clienteling.models import FollowUpTask, SellingSession

        associate = self.rng.choice(shop.staff)
        actions = {"serving": 1}
        if self.rng.random() < 0.6:
            actions["recommendation"] = self.rng.randint(1, 3)
        self.sessions.append(
            SellingSession(
                associate_id=associate,
                store_id=shop.pk,
                customer_id=customer_id,
                opened_at=at - dt.timedelta(minutes=self.rng.randint(3, 25)),
                last_action_at=at,
                actions=actions,
            )
        )
        day = at.astimezone(shop.tz)
        what = "served in person" + (" + recommendation" if len(actions) > 1 else "")
        if self.rng.random() < 0.35:  # a follow-up promised, and done, at the counter
            self.tasks.append(
                FollowUpTask(
                    customer_id=customer_id,
                    store_id=shop.pk,
                    assigned_to_id=associate,
                    created_by_id=associate,
                    title="Call back about the pieces we looked at",
                    due_on=at.astimezone(shop.tz).date(),
                    state="done",
                    created_at=at - dt.timedelta(minutes=2),
                    done_at=at,
                )
            )
        return associate, shop, f"served on {day:%d %b} in {shop.code}: {what}"

    def browse(self, customer_id: int, day: dt.date, item: Item) -> None:
        at = self.online(day)
        for n in range(self.rng.randint(2, 6)):
            seen = self.rng.choice(self.by_category[item.category_id])
            self.view(customer_id, at + dt.timedelta(minutes=2 * n), seen)

    def view(self, customer_id: int, at: dt.datetime, item: Item) -> None:
        from clienteling.models import BrowsingEvent

        at = min(at, self.now - dt.timedelta(minutes=5))
        self.views.append(
            BrowsingEvent(
                event_id=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                occurred_at=at,
                kind="product_view",
                channel=self.rng.choice(("web", "web", "app")),
                customer_id=customer_id,
                sku=item.sku,
                variant_id=item.pk,
                url=f"https://shop.aisle.example/p/{item.sku.lower()}",
                received_at=at + dt.timedelta(seconds=2),
            )
        )

    # --- Writing ---

    def write(self) -> None:
        from clienteling import partitions
        from clienteling.models import FollowUpTask, SellingSession

        if not self.shops or not self.items or self.dc is None:
            self.ctx.write("  no history: the stores, catalogue or DC are missing")
            return
        self.plan()
        self.sales.sort(key=lambda s: s.at)
        self.ctx.step(
            f"History: {len(self.sales):,} orders over {len(self.days)} days, "
            f"{len(self.views):,} online views, {len(self.sessions):,} assisted-selling sessions"
        )
        bar = self.ctx.progress("orders", len(self.sales))
        for chunk in batched(self.sales, self.size["chunk"]):
            built = []
            for sale in chunk:
                built.extend(self.build(sale))
            self.insert(built)
            bar.advance(len(chunk))
        bar.finish()
        SellingSession.objects.bulk_create(self.sessions, batch_size=5000)
        FollowUpTask.objects.bulk_create(self.tasks, batch_size=5000)
        partitions.history_bulk_create(self.views, batch_size=5000)
        self.store_credit()
        self.credit_times()
        self.ctx.write("  " + ", ".join(f"{k}: {v:,}" for k, v in sorted(self.counts.items()) if v))

    def ref(self, kind: str) -> str:
        return f"{PREFIX}{kind}-{next(self.refs):07d}"

    def build(self, sale: Sale, *, may_return: bool = True) -> list[Built]:
        from orders.models import Order, OrderLine, Payment

        rng = self.rng
        lines, subtotal = [], ZERO
        sale_price = self._sale_price(sale)
        for item, quantity in sale.items:
            unit = _money(item.price * sale_price) if sale.kind != "aisle" else item.price
            total = unit * quantity
            subtotal += total
            lines.append(
                OrderLine(
                    variant_id=item.pk,
                    sku=item.sku,
                    quantity=quantity,
                    catalog_price=item.price,
                    unit_price=unit,
                    line_total=total,
                    tax_rate=item.tax_rate,
                    tax_amount=_tax_in(total, item.tax_rate),
                )
            )
        order = Order(
            order_ref=self.ref({"till": "T", "aisle": "A", "kiosk": "K"}.get(sale.kind, "W")),
            channel=sale.channel,
            customer_id=sale.customer_id,
            store_id=sale.shop.pk if sale.shop else None,
            status="completed" if sale.outcome == "ok" else "cancelled",
            currency=settings.AISLE_CURRENCY,
            subtotal=subtotal,
            total=subtotal,
            address=self._address(sale) if sale.kind in ("aisle", "home", "sfs") else None,
            placed_by_id=sale.placed_by,
            credited_to_id=sale.placed_by,
            created_at=sale.at,
        )
        built = Built(order=order, lines=lines)
        for line in lines:
            line.order = order
        self.counts[f"orders {sale.channel}"] += 1
        self.counts[f"fulfilment {sale.kind} {sale.outcome}"] += 1
        done_at = self.fulfil(built, sale)
        tender = self._tender(sale)
        paid_at = done_at if sale.kind == "kiosk" else sale.at
        built.payments.append(
            Payment(
                order=order,
                tender=tender,
                amount=subtotal,
                reference=f"demo-{order.order_ref}",
                at=paid_at,
            )
        )
        if sale.outcome != "ok":
            self.cancel(built, sale, tender)
        if sale.credit is not None and sale.outcome == "ok":
            self.credit(built, sale)
        extra = []
        if may_return and sale.outcome == "ok":
            chance = 0.06 if sale.channel in ("store", "kiosk") else 0.2
            if done_at is not None and rng.random() < chance:
                exchange = self.give_back(built, sale, tender, done_at)
                if exchange is not None:
                    extra.append(exchange)
        return [built, *extra]

    def _sale_price(self, sale: Sale) -> Decimal:
        local = sale.at.astimezone(sale.shop.tz if sale.shop else self.tz).date()
        for (m1, d1), (m2, d2), factor in SALES:
            if (m1, d1) <= (local.month, local.day) <= (m2, d2):
                return factor
        return Decimal(1)

    def _tender(self, sale: Sale) -> str:
        if sale.channel in ("store", "kiosk"):
            return "cash" if self.rng.random() < 0.22 else "card"
        return "paypal" if self.rng.random() < 0.2 else "card"

    def _address(self, sale: Sale) -> dict:
        shop = sale.shop or self.rng.choice(self.shops)
        return {
            "name": "Demo customer",
            "line1": re.sub(r"\d+", str(self.rng.randint(1, 180)), shop.street, count=1),
            "city": shop.city,
            "postcode": shop.postcode,
            "country": shop.country,
        }

    def _hours(self, median: float, spread: float, cap: float) -> dt.timedelta:
        hours = min(cap, self.rng.lognormvariate(math.log(median), spread))
        return dt.timedelta(seconds=int(hours * 3600))

    def fulfil(self, built: Built, sale: Sale) -> dt.datetime | None:
        """The fulfilment with its timeline; returns when the customer got the units
        (None when they never did)."""
        from orders.models import Fulfillment, FulfillmentLine, OrderEvent

        order, at = built.order, sale.at
        method, location = {
            "till": ("carry_out", None),
            "aisle": ("ship_to_home", self.dc),
            "home": ("ship_to_home", self.dc),
            "kiosk": ("pickup", None),
            "bopis": ("pickup", None),
            "sfs": ("ship_from_store", None),
        }[sale.kind]
        # Where the work happens: the store for a pickup or a ship-from-store, else the DC.
        shop = sale.shop if sale.kind in ("till", "kiosk", "bopis") else None
        if sale.kind == "sfs":
            shop = self.rng.choice(self.shops)
        location = location or shop.location_id
        f = Fulfillment(
            order=order,
            method=method,
            location_id=location,
            pickup_store_id=sale.shop.pk if method == "pickup" else None,
            created_at=at,
        )
        built.fulfilments.append(f)
        for line in built.lines:
            built.fulfilment_lines.append(
                FulfillmentLine(fulfillment=f, order_line=line, quantity=line.quantity)
            )
        by = self.rng.choice(shop.staff) if shop is not None else None
        store_id = shop.pk if shop is not None else None
        steps: list[tuple[str, str, dt.datetime, int | None, int | None]] = []
        done: dt.datetime | None = None
        if sale.kind == "till":
            f.state, done = "collected", at
        elif method == "pickup":
            ready_hours = 0.4 if sale.kind == "kiosk" else 3.5 * shop.speed
            ready = self.open_at(shop, at + self._hours(ready_hours, 0.6, 48))
            f.ready_by = at + dt.timedelta(hours=24)
            f.pickup_code = f"{self.rng.randrange(10**6):06d}"
            if sale.outcome == "cancelled":
                cancelled = at + self._hours(2, 0.5, 20)
                f.state = "cancelled"
                steps.append(("reserved", "cancelled", cancelled, None, None))
            else:
                f.ready_at = ready
                f.hold_until = ready + dt.timedelta(days=shop.hold_days)
                steps.append(("reserved", "picking", ready - (ready - at) / 3, store_id, by))
                steps.append(("picking", "ready", ready, store_id, by))
                if sale.outcome == "expired":
                    f.state = "expired"
                    steps.append(("ready", "expired", f.hold_until, None, None))
                else:
                    wait = 0.5 if sale.kind == "kiosk" else 22
                    done = ready + self._hours(wait, 0.9, shop.hold_days * 24 - 2)
                    done = min(self.open_at(shop, done), f.hold_until - dt.timedelta(hours=1))
                    f.state = "collected"
                    if sale.checked_in:
                        f.checked_in_at = done - dt.timedelta(minutes=3)
                    steps.append(("ready", "collected", done, store_id, by))
        else:
            ship_median = 20 if sale.kind != "sfs" else 14 * shop.speed
            shipped = at + self._hours(ship_median, 0.5, 72)
            if shop is not None:  # a store ships while it is open
                shipped = self.open_at(shop, shipped)
            if sale.outcome == "cancelled":
                f.state = "cancelled"
                steps.append(("reserved", "cancelled", at + self._hours(3, 0.5, 20), None, None))
            else:
                done = shipped + self._hours(44, 0.3, 96)
                f.state = "delivered"
                f.tracking_ref = f"DEMO{self.rng.randrange(10**9):09d}"
                steps.append(("reserved", "picking", at + (shipped - at) / 3, store_id, by))
                steps.append(("picking", "packed", at + (shipped - at) * 2 / 3, store_id, by))
                steps.append(("packed", "shipped", shipped, store_id, by))
                steps.append(("shipped", "delivered", done, None, None))
        f.collected_at = done
        if done is not None:
            for line in built.lines:
                line.received_quantity = line.quantity
        built.events.append(
            OrderEvent(
                order=order,
                kind="order_placed",
                to_state="open",
                at=at,
                by_id=sale.placed_by,
                store_id=sale.shop.pk if sale.channel in ("store", "kiosk") else None,
                reason=f"placed in channel {sale.channel}",
            )
        )
        for from_state, to_state, when, event_store, event_by in steps:
            built.events.append(
                OrderEvent(
                    order=order,
                    fulfillment=f,
                    kind="fulfillment_changed",
                    from_state=from_state,
                    to_state=to_state,
                    at=when,
                    store_id=event_store,
                    by_id=event_by,
                )
            )
        if method == "pickup" and sale.kind == "bopis" and self.rng.random() < 0.08:
            line = built.lines[0]
            built.events.append(
                OrderEvent(
                    order=order,
                    fulfillment=f,
                    kind="line_short",
                    at=at + (f.ready_at - at) / 2 if f.ready_at else at,
                    store_id=store_id,
                    by_id=by,
                    reason=f"1 × {line.sku} not found on the shelf",
                )
            )
        if sale.kind != "till":
            last = steps[-1][2] if steps else at
            built.events.append(
                OrderEvent(
                    order=order,
                    kind="order_status",
                    from_state="open",
                    to_state=order.status,
                    at=last,
                )
            )
        return done

    def cancel(self, built: Built, sale: Sale, tender: str) -> None:
        """Cancelled or not collected: every unit cancelled, the payment refunded."""
        from orders.models import Refund

        for line in built.lines:
            line.cancelled_quantity = line.quantity
        ended = next(e.at for e in built.events if e.to_state in ("cancelled", "expired"))
        why = "pickup not collected in time" if sale.outcome == "expired" else "cancelled"
        built.refunds.append(
            Refund(
                order=built.order,
                amount=built.order.total,
                reason=why,
                at=ended,
                source="fulfillment:",  # its id once inserted
                tender=tender,
                tax_amount=sum((line.tax_amount for line in built.lines), ZERO),
            )
        )

    def credit(self, built: Built, sale: Sale) -> None:
        from clienteling.models import SalesCredit

        associate, shop, why = sale.credit
        built.credits.append(
            SalesCredit(
                order=built.order,
                associate_id=associate,
                store_id=shop.pk,
                channel=sale.channel,
                share=Decimal("100"),
                amount=built.order.total,
                reason=why,
            )
        )
        self.counts["sales credits"] += 1

    # --- Returns ---

    def give_back(self, built: Built, sale: Sale, tender: str, got: dt.datetime) -> Built | None:
        """A return of one line some days after the customer got it; sometimes an
        exchange (returns the built exchange order)."""
        from orders.models import Refund
        from returns.models import Return, ReturnEvent, ReturnLine

        rng = self.rng
        candidates = [
            (line, item)
            for line, (item, _q) in zip(built.lines, sale.items, strict=True)
            if item.returnable
        ]
        if not candidates:
            return None
        line, item = rng.choice(candidates)
        completed = got + dt.timedelta(days=rng.uniform(2, 28))
        online = sale.channel not in ("store", "kiosk")
        boris = online and rng.random() < 0.45
        if online and not boris:
            shop, via, location = None, "online", self.dc
        else:
            shop = sale.shop if not online else (sale.shop or self._home(sale))
            via = "counter"
            completed = self.in_store(shop, completed.astimezone(shop.tz).date())
            location = shop.location_id
        if completed > self.now - dt.timedelta(hours=2):
            return None
        units = line.quantity if rng.random() < 0.3 else 1
        base = (line.line_total / line.quantity).quantize(CENT, rounding=ROUND_DOWN)
        refund = line.line_total if units == line.quantity else base * units
        reason = rng.choices([r for r, _w in REASONS], [w for _r, w in REASONS])[0]
        if reason in ("damaged", "quality"):
            disposition = rng.choice(("damaged", "vendor", "donate"))
        else:
            disposition = "restock" if rng.random() < 0.9 else "donate"
        to_credit = (
            via == "counter"
            and sale.customer_id is not None
            and sale.customer_id not in self.has_credit
            and rng.random() < 0.22
        )
        exchange = to_credit and rng.random() < 0.5
        by = rng.choice(shop.staff) if shop is not None else None
        started = max(got, completed - dt.timedelta(minutes=rng.randint(5, 12) if shop else 4320))
        ref = self.ref("R")
        ret = Return(
            return_ref=ref,
            code=self._code(),
            order=built.order,
            customer_id=sale.customer_id,
            state="completed",
            started_via=via,
            order_channel=sale.channel,
            store_id=shop.pk if shop else None,
            location_id=location,
            refund_to="store_credit" if to_credit else "original",
            refund_amount=refund,
            tax_amount=_tax_in(refund, line.tax_rate),
            created_by_id=by,
            created_at=started,
            completed_at=completed,
        )
        ret_line = ReturnLine(
            ret=ret,
            order_line=line,
            variant_id=item.pk,
            sku=item.sku,
            category_id=item.category_id,
            quantity=units,
            reason=reason,
            disposition=disposition,
            refund_amount=refund,
        )
        events = [
            ReturnEvent(ret=ret, at=ret.created_at, by_id=by, store_id=ret.store_id,
                        kind="return_requested", to_state="requested"),
            ReturnEvent(ret=ret, at=completed, by_id=by, store_id=ret.store_id,
                        kind="return_changed", from_state="requested", to_state="completed",
                        reason=f"refunded {refund}"),
        ]  # fmt: skip
        built.returns.append((ret, [ret_line], events))
        line.claimed_quantity += units
        line.returned_quantity += units
        built.refunds.append(
            Refund(
                order=built.order,
                amount=refund,
                reason=f"return {ref}",
                at=completed,
                source=f"return:{ref}",
                tender=tender,
                to_store_credit=to_credit,
                return_ref=ref,
                tax_amount=ret.tax_amount,
            )
        )
        for credit in built.credits:  # the returned value comes off the associate's credit
            credit.reversed_amount = min(credit.amount, refund * credit.share / 100)
        self.counts[f"returns {via}{' (BORIS)' if boris else ''}"] += 1
        if not to_credit:
            return None
        entry = {"at": completed, "amount": refund, "kind": "issued", "store": shop, "by": by,
                 "order": built.order, "return_ref": ref, "reason": f"return {ref}"}  # fmt: skip
        self.credit_entries[sale.customer_id].append(entry)
        if not exchange:
            return None
        return self.exchange(ret, sale, item, shop, completed, refund)

    def _home(self, sale: Sale) -> Shop:
        return self.shops[(sale.customer_id or 0) % len(self.shops)]

    def _code(self) -> str:
        while True:
            code = "".join(self.rng.choice(CODE_ALPHABET) for _ in range(8))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def exchange(self, ret, sale: Sale, item: Item, shop: Shop, at, credit: Decimal) -> Built:
        """The customer takes another size of the same product at the counter, paid with
        the return's store credit (and the difference by card)."""
        from orders.models import Payment

        others = [i for i in self.by_product[item.product_id] if i.pk != item.pk] or [item]
        swap = Sale(at + dt.timedelta(minutes=2), "store", "till", shop, sale.customer_id,
                    [(self.rng.choice(others), 1)])  # fmt: skip
        built = self.build(swap, may_return=False)[0]
        order = built.order
        order.order_ref = order.order_ref.replace(f"{PREFIX}T-", f"{PREFIX}X-")
        spent = min(credit, order.total)
        built.payments = [
            Payment(order=order, tender="store_credit", amount=spent, at=swap.at,
                    reference=f"demo-{order.order_ref}")
        ]  # fmt: skip
        if order.total > spent:
            built.payments.append(
                Payment(order=order, tender="card", amount=order.total - spent, at=swap.at,
                        reference=f"demo-{order.order_ref}-card")
            )  # fmt: skip
        ret.exchange_order = order
        self.credit_entries[sale.customer_id].append(
            {"at": swap.at, "amount": -spent, "kind": "spent", "store": shop, "by": None,
             "order": order, "return_ref": "", "reason": f"order {order.order_ref}"}
        )  # fmt: skip
        self.counts["exchanges"] += 1
        return built

    # --- Inserting ---

    def insert(self, built: list[Built]) -> None:
        from clienteling.models import SalesCredit
        from orders.models import (
            Fulfillment,
            FulfillmentLine,
            Order,
            OrderEvent,
            OrderLine,
            Payment,
            Refund,
        )
        from returns.models import Return, ReturnEvent, ReturnLine

        def rows(name):
            return [row for b in built for row in getattr(b, name)]

        Order.objects.bulk_create([b.order for b in built], batch_size=2000)
        for b in built:  # the children point at their now saved parents
            for row in itertools.chain(b.lines, b.fulfilments, b.events, b.payments, b.refunds,
                                       b.credits):  # fmt: skip
                row.order_id = b.order.pk
        OrderLine.objects.bulk_create(rows("lines"), batch_size=2000)
        Fulfillment.objects.bulk_create(rows("fulfilments"), batch_size=2000)
        for row in rows("fulfilment_lines"):
            row.fulfillment_id, row.order_line_id = row.fulfillment.pk, row.order_line.pk
        for row in rows("events"):
            row.fulfillment_id = row.fulfillment.pk if row.fulfillment else None
        FulfillmentLine.objects.bulk_create(rows("fulfilment_lines"), batch_size=2000)
        OrderEvent.objects.bulk_create(rows("events"), batch_size=2000)
        for b in built:
            for refund in b.refunds:
                if refund.source == "fulfillment:":
                    refund.source = f"fulfillment:{b.fulfilments[0].pk}"
        Payment.objects.bulk_create(rows("payments"), batch_size=2000)
        Refund.objects.bulk_create(rows("refunds"), batch_size=2000)
        SalesCredit.objects.bulk_create(rows("credits"), batch_size=2000)
        returns = [r for b in built for r in b.returns]
        for ret, _lines, _events in returns:
            ret.order_id = ret.order.pk
            ret.exchange_order_id = ret.exchange_order.pk if ret.exchange_order else None
        Return.objects.bulk_create([r[0] for r in returns], batch_size=2000)
        lines, events = [], []
        for ret, ret_lines, ret_events in returns:
            for line in ret_lines:
                line.ret_id, line.order_line_id = ret.pk, line.order_line.pk
            for event in ret_events:
                event.ret_id = ret.pk
            lines += ret_lines
            events += ret_events
        ReturnLine.objects.bulk_create(lines, batch_size=2000)
        ReturnEvent.objects.bulk_create(events, batch_size=2000)

    def store_credit(self) -> None:
        """Store credit the history's returns issued and its exchanges spent, on new
        accounts (the ledger is append-only: a customer who has an account already is
        refunded to the card instead)."""
        from orders.models import StoreCredit, StoreCreditEntry

        accounts, entries = [], []
        for customer_id, rows in self.credit_entries.items():
            account = StoreCredit(customer_id=customer_id, balance=ZERO)
            accounts.append(account)
            for row in sorted(rows, key=lambda r: r["at"]):
                account.balance += row["amount"]
                entries.append(
                    StoreCreditEntry(
                        account=account,
                        amount=row["amount"],
                        balance_after=account.balance,
                        kind=row["kind"],
                        order_id=row["order"].pk,
                        return_ref=row["return_ref"],
                        reason=row["reason"],
                        by_id=row["by"],
                        store_id=row["store"].pk if row["store"] else None,
                        at=row["at"],
                    )
                )
        StoreCredit.objects.bulk_create(accounts, batch_size=2000)
        for entry in entries:
            entry.account_id = entry.account.pk
        StoreCreditEntry.objects.bulk_create(entries, batch_size=2000)

    def credit_times(self) -> None:
        """A sales credit is dated when its order was placed, not when the seed ran."""
        from clienteling.models import SalesCredit
        from orders.models import Order

        SalesCredit.objects.filter(order__order_ref__startswith=PREFIX).update(
            created_at=Subquery(
                Order.objects.filter(pk=OuterRef("order_id")).values("created_at")[:1]
            )
        )
