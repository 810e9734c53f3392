"""Demo browsing: weeks of online sessions (views, add-to-carts, removals, searches and
wishlists) with popular and long-tail products and returning visitors; some anonymous
visitors identify later. `--scale large` writes at least 1,000,000 events in bulk
(COPY on PostgreSQL), with a progress bar. Event ids are drawn from a seeded
generator, so a second run finds them known and stores nothing twice.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import uuid
from collections import defaultdict

from django.utils import timezone

from clienteling import ingest, recommendations
from clienteling.appointments import demo as appointments_demo
from clienteling.models import BrowsingEvent, VisitorLink
from retail.demo import DEMO_CUSTOMER, DemoContext
from retail.models import Customer, Variant

EVENTS = {"small": 20_000, "large": 1_050_000}
ANONYMOUS_SHARE = 0.12
IDENTIFY_SHARE = 0.4
WEEKS = 8
BATCH = 20_000
CHANNELS = ("web", "web", "web", "app", "app", "social")


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng("clienteling:browsing")
    now = timezone.now().replace(microsecond=0)
    variants = list(
        Variant.objects.filter(active=True)
        .order_by("pk")
        .values_list("pk", "sku", "product_id", "product__category_id", "product__name")
    )
    if not variants:
        return
    visitors = list(
        Customer.objects.filter(
            tracking_consent=True, customer_ref__isnull=False, merged_into__isnull=True
        )
        .exclude(customer_ref=DEMO_CUSTOMER["customer_ref"])  # her story is told below
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # Popularity: a long tail (weight 1/rank^0.9) over products in a shuffled order.
    products = sorted({v[2] for v in variants})
    rng.shuffle(products)
    by_product = defaultdict(list)
    for v in variants:
        by_product[v[2]].append(v)
    by_category = defaultdict(list)
    for pid in products:
        by_category[by_product[pid][0][3]].append(pid)
    cumulative = list(itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(products))))
    total_weight = cumulative[-1]
    category_weights = {
        cat: list(itertools.accumulate(1 / (i + 1) ** 0.9 for i in range(len(pids))))
        for cat, pids in by_category.items()
    }

    def popular_product() -> int:
        return products[bisect.bisect(cumulative, rng.random() * total_weight)]

    def related_product(pid: int) -> int:
        pids = by_category[by_product[pid][0][3]]
        weights = category_weights[by_product[pid][0][3]]
        return pids[min(len(pids) - 1, bisect.bisect(weights, rng.random() * weights[-1]))]

    target = EVENTS[ctx.scale]
    ctx.step(f"Browsing: {target:,} events in sessions over {WEEKS} weeks")
    bar = ctx.progress("events", target)
    anonymous: set[str] = set()

    def session_rows(visitor: int | None, anon: str, start: dt.datetime):
        channel = rng.choice(CHANNELS)
        theme = popular_product()
        at = start
        for _step in range(rng.randint(2, 12)):
            at += dt.timedelta(seconds=rng.randint(15, 600))
            roll = rng.random()
            pid = (
                theme
                if roll < 0.3
                else related_product(theme)
                if roll < 0.85
                else popular_product()
            )
            vid, sku, _pid, _cat, name = rng.choice(by_product[pid])
            kind = rng.choices(
                ("product_view", "add_to_cart", "remove_from_cart", "wishlist_add", "search"),
                (70, 12, 4, 5, 9),
            )[0]
            query = ""
            if kind == "search":
                query = " ".join(name.lower().split()[-2:])
                vid, sku = None, ""
            yield (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                min(at, now),
                kind,
                channel,
                anon,
                visitor,
                sku,
                vid,
                query,
                f"https://shop.aisle.example/p/{sku.lower()}" if sku else "",
            )

    def all_rows():
        made = 0
        serial = itertools.count(1)
        while made < target:
            if visitors and rng.random() > ANONYMOUS_SHARE:
                visitor, anon = rng.choice(visitors), ""
                sessions = rng.randint(1, 6)  # returning visitors
            else:
                visitor, anon = None, f"demo-anon-{next(serial):07d}"
                anonymous.add(anon)
                sessions = rng.randint(1, 3)
            for _ in range(sessions):
                start = now - dt.timedelta(minutes=rng.randint(30, WEEKS * 7 * 24 * 60))
                for row in session_rows(visitor, anon, start):
                    made += 1
                    yield row

    stored = 0
    for batch in _batched(all_rows(), BATCH):
        stored += ingest._write(batch)
        bar.advance(len(batch))
    bar.finish()
    ctx.write(f"  {stored:,} new events stored")
    _identify_some(ctx, rng, sorted(anonymous), visitors)
    _demo_customer(ctx, now, by_product, products)
    appointments_demo.seed(ctx)
    ctx.step("Recommendations: rebuilding product affinities")
    kept, seconds = recommendations.rebuild_timed()
    ctx.write(f"  {kept:,} product pairs in {seconds:.1f} s")


def _batched(rows, size):
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _identify_some(ctx, rng, anonymous: list[str], visitors: list[int]) -> None:
    """Some anonymous visitors identify later: their events join a customer."""
    if not visitors:
        return
    chosen = [a for a in anonymous if rng.random() < IDENTIFY_SHARE]
    links = [VisitorLink(anonymous_id=a, customer_id=rng.choice(visitors)) for a in chosen]
    VisitorLink.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)
    joined = 0
    for link_batch in _batched(
        VisitorLink.objects.filter(anonymous_id__in=chosen).values_list(
            "anonymous_id", "customer_id"
        ),
        2000,
    ):
        by_customer = defaultdict(list)
        for anon, customer_id in link_batch:
            by_customer[customer_id].append(anon)
        for customer_id, anons in by_customer.items():
            joined += BrowsingEvent.objects.filter(
                anonymous_id__in=anons, customer__isnull=True
            ).update(customer_id=customer_id)
    ctx.write(f"  {len(chosen):,} anonymous visitors identified later ({joined:,} events joined)")


def _demo_customer(ctx, now, by_product, products) -> None:
    """Mei Lin Chen's journey, the same on every run: a jacket viewed three times this
    week and left in the cart, a wishlist, searches."""
    mei = Customer.objects.filter(customer_ref=DEMO_CUSTOMER["customer_ref"]).first()
    if mei is None:
        return
    # Popular products that come in her size (S), so her page shows them on the shelf.
    rank = {pid: i for i, pid in enumerate(products)}
    in_size = {}
    for vid, sku, pid in Variant.objects.filter(size="S", active=True).values_list(
        "pk", "sku", "product_id"
    ):
        in_size.setdefault(pid, (vid, sku))
    chosen = sorted(in_size, key=lambda pid: rank.get(pid, len(rank)))[:4]
    picks = [in_size[pid] for pid in chosen] or [by_product[pid][0][:2] for pid in products[:4]]
    while len(picks) < 3:
        picks.append(picks[0])
    plan = [
        (picks[0], "product_view", 5),
        (picks[0], "product_view", 3),
        (picks[0], "product_view", 1),
        (picks[0], "add_to_cart", 1),
        (picks[1], "product_view", 2),
        (picks[1], "wishlist_add", 2),
        (picks[2], "product_view", 9),
        (None, "search", 9),
    ]
    rows = []
    for n, (variant, kind, days_ago) in enumerate(plan):
        at = now - dt.timedelta(days=days_ago, minutes=n)
        rows.append(
            (
                uuid.uuid5(uuid.NAMESPACE_URL, f"aisle-demo:mei:{n}"),
                at,
                kind,
                "web",
                "",
                mei.pk,
                variant[1] if variant else "",
                variant[0] if variant else None,
                "linen shirt" if kind == "search" else "",
                "",
            )
        )
    ingest._write(rows)
