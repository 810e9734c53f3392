"""The customer 360 page's data, as plain values in a fixed number of queries
however long the customer's history: aggregates are computed by the database,
product cards come from the cache, stock from one query."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from clienteling.models import BrowsingEvent, EventKind, ProductAffinity, TaskState
from inventory.models import LocationKind, StockLevel
from inventory.network import network
from orders.models import Order, OrderLine, OrderStatus
from retail import catalogue
from retail.dates import when_text
from retail.media import thumbnail_url
from retail.models import Customer, Product, Store, Variant

RECENT = dt.timedelta(days=90)
WEEK = dt.timedelta(days=7)
SHOWN = 8
RECOMMENDED = 6
REASONS = 2
CARD_SECONDS = 600
PANEL_SECONDS = 60
AFFINITY_VERSION = "aisle:affinity-version"
ONE_SIZE = {"", "One Size", "OS"}


def local_day(value: dt.datetime, store: Store) -> str:
    return when_text(timezone.localtime(value, store.tz), "date")


def local_month(value: dt.datetime, store: Store) -> str:
    return when_text(timezone.localtime(value, store.tz), "long_month")


# --- Product cards (cached) ------------------------------------------------------------


def product_cards(product_ids) -> dict[int, dict]:
    """id -> {"name", "brand", "image", "variants": [(id, sku, size)]}, cached for minutes."""
    ids = list(dict.fromkeys(product_ids))
    keys = {pid: f"aisle:card:{pid}" for pid in ids}
    cached = cache.get_many(list(keys.values())) if ids else {}
    cards = {pid: cached[key] for pid, key in keys.items() if key in cached}
    missing = [pid for pid in ids if pid not in cards]
    if missing:
        fresh = {
            pid: {"id": pid, "name": name, "brand": brand, "image": image, "variants": []}
            for pid, name, brand, image in Product.objects.filter(pk__in=missing).values_list(
                "pk", "name", "brand", "image"
            )
        }
        for vid, pid, sku, size in (
            Variant.objects.filter(product_id__in=missing, active=True)
            .order_by("pk")
            .values_list("pk", "product_id", "sku", "size")
        ):
            fresh[pid]["variants"].append((vid, sku, size))
        for card in fresh.values():
            card["image"] = thumbnail_url(card["image"], 192)
        cache.set_many({keys[pid]: card for pid, card in fresh.items()}, CARD_SECONDS)
        cards.update(fresh)
    return cards


def size_variant(card: dict, sizes: set[str], fallback: int | None = None):
    """(variant id, size, sku) in the customer's size, else the given or first one, and
    whether it is theirs."""
    for vid, sku, size in card["variants"]:
        if size in sizes:
            return (vid, size, sku), True
    if len(card["variants"]) == 1 and card["variants"][0][2] in ONE_SIZE:
        vid, sku, size = card["variants"][0]
        return (vid, size, sku), True
    for vid, sku, size in card["variants"]:
        if vid == fallback:
            return (vid, size, sku), False
    if card["variants"]:
        vid, sku, size = card["variants"][0]
        return (vid, size, sku), False
    return None, False


@dataclass
class Stock:
    here: dict[int, int] = field(default_factory=dict)
    elsewhere: dict[int, list[tuple[str, int]]] = field(default_factory=dict)

    def orderable(self, variant_id: int) -> bool:
        return bool(self.elsewhere.get(variant_id))


def stock_for(variant_ids, store: Store) -> Stock:
    """One query: each SKU's units on the shelf here and where else it is available
    (only rows with stock, plus this store's; the locations come from the cache)."""
    locations, _hours = network()
    here_id = next((pk for pk, loc in locations.items() if loc.store_id == store.pk), None)
    available = F("on_hand") - F("reserved") - F("safety_stock")
    rows = (
        StockLevel.objects.filter(variant_id__in=list(variant_ids))
        .annotate(available=available)
        .filter(Q(available__gt=0) | Q(location_id=here_id))
        .values_list("location_id", "variant_id", "available")
    )
    stock = Stock()
    for location_id, variant_id, units in rows:
        location = locations.get(location_id)
        if location is None:
            continue
        if location_id == here_id:
            stock.here[variant_id] = max(0, units)
        elif location.sellable_online or location.kind == LocationKind.STORE:
            stock.elsewhere.setdefault(variant_id, []).append((location.code, units))
    for places in stock.elsewhere.values():
        places.sort()
    return stock


def availability_words(variant, theirs: bool, stock: Stock) -> tuple[str, str]:
    """(css class, words) for one product card."""
    if variant is None:
        return "bad", _("Not sold any more")
    vid, size, _sku = variant
    here = stock.here.get(vid, 0)
    size_words = size if size not in ONE_SIZE else ""
    if here > 0:
        if theirs and size_words:
            return "ok", _("In size %(size)s on the shelf here (%(n)s)") % {
                "size": size_words,
                "n": here,
            }
        return "ok", _("On the shelf here (%(n)s)") % {"n": here}
    places = stock.elsewhere.get(vid, [])
    if places:
        codes = ", ".join(code for code, _n in places[:4])
        if size_words:
            return "warn", _("Not here in %(size)s; available at %(places)s") % {
                "size": size_words,
                "places": codes,
            }
        return "warn", _("Not here; available at %(places)s") % {"places": codes}
    return "bad", _("Out of stock in the network")


#: What the customer page's 360 section shows changes only when one of these does (one
#: query asks them all with the other sections', `retail.customer_page`): the customer's
#: browsing (count and latest time), orders (newest change), notes, follow-ups (open
#: ones, newest, last done) and messages; each on an index by customer. The affinities'
#: rebuild renews it through `AFFINITY_VERSION`, the store's day and the profile's own
#: changes through the page's key, stock moving through `PANEL_SECONDS`.
PANEL_VERSIONS = (
    "SELECT COUNT(*) FROM clienteling_browsingevent WHERE customer_id = %(c)s",
    "SELECT MAX(occurred_at) FROM clienteling_browsingevent WHERE customer_id = %(c)s",
    "SELECT MAX(updated_at) FROM orders_order WHERE customer_id = %(c)s",
    "SELECT COUNT(*) || ':' || COALESCE(MAX(id), 0) FROM clienteling_note"
    " WHERE customer_id = %(c)s",
    f"SELECT COUNT(*) FILTER (WHERE state = '{TaskState.OPEN.value}') || ':' ||"  # noqa: S608 - a constant
    " COALESCE(MAX(id), 0) || ':' || COALESCE(CAST(MAX(done_at) AS TEXT), '')"
    " FROM clienteling_followuptask WHERE customer_id = %(c)s",
    "SELECT COUNT(*) || ':' || COALESCE(MAX(id), 0) FROM clienteling_outreach"
    " WHERE customer_id = %(c)s",
    # Appointments (booked, moved on, reassigned): the panel lists the coming ones.
    "SELECT COUNT(*) || ':' || COALESCE(CAST(MAX(updated_at) AS TEXT), '')"
    " FROM clienteling_appointment WHERE customer_id = %(c)s",
)


# --- The page --------------------------------------------------------------------------


def summary(customer: Customer, store: Store) -> dict:
    orders = Order.objects.filter(customer=customer)
    totals = orders.aggregate(
        spend=Sum("total", filter=~Q(status=OrderStatus.CANCELLED)), count=Count("pk")
    )
    last = {}
    for channel, at in orders.values_list("channel").annotate(at=Max("created_at")).order_by():
        last[channel] = at
    for channel, at in (
        BrowsingEvent.objects.filter(customer=customer)
        .values_list("channel")
        .annotate(at=Max("occurred_at"))
        .order_by()
    ):
        if channel not in last or at > last[channel]:
            last[channel] = at
    labels = dict(Order._meta.get_field("channel").choices)
    return {
        "spend": totals["spend"] or 0,
        "orders": totals["count"],
        "last_visits": sorted(
            ((str(labels.get(ch, ch)), at) for ch, at in last.items()),
            key=lambda item: item[1],
            reverse=True,
        ),
    }


def journey(customer: Customer, store: Store, now: dt.datetime) -> dict:
    events = BrowsingEvent.objects.filter(customer=customer, occurred_at__gte=now - RECENT)
    viewed = list(
        events.filter(kind=EventKind.PRODUCT_VIEW, variant__isnull=False)
        .values("variant__product_id")
        .annotate(
            n=Count("pk"),
            week=Count("pk", filter=Q(occurred_at__gte=now - WEEK)),
            last=Max("occurred_at"),
            variant=Max("variant_id"),
        )
        .order_by("-last")[:SHOWN]
    )
    kept = list(
        events.filter(
            kind__in=(EventKind.ADD_TO_CART, EventKind.REMOVE_FROM_CART, EventKind.WISHLIST_ADD),
            variant__isnull=False,
        )
        .values("variant_id", "variant__product_id")
        .annotate(
            added=Max("occurred_at", filter=Q(kind=EventKind.ADD_TO_CART)),
            removed=Max("occurred_at", filter=Q(kind=EventKind.REMOVE_FROM_CART)),
            wished=Max("occurred_at", filter=Q(kind=EventKind.WISHLIST_ADD)),
            last=Max("occurred_at"),
        )
        .order_by("-last")[: SHOWN * 5]
    )
    searches = list(
        events.filter(kind=EventKind.SEARCH)
        .values("query")
        .annotate(n=Count("pk"), last=Max("occurred_at"))
        .order_by("-last")[:SHOWN]
    )
    return {"viewed": viewed, "kept": kept, "searches": searches}


def purchased_products(customer: Customer) -> dict[int, dict]:
    """product id -> {"first", "last"} bought (orders of every channel, not cancelled)."""
    return {
        row["variant__product_id"]: row
        for row in OrderLine.objects.filter(order__customer=customer)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values("variant__product_id")
        .annotate(first=Min("order__created_at"), last=Max("order__created_at"))
        .order_by()
    }


def purchases_page(customer: Customer):
    return (
        OrderLine.objects.filter(order__customer=customer)
        .order_by("-order__created_at", "-pk")
        .values(
            "pk",
            "sku",
            "quantity",
            "line_total",
            "cancelled_quantity",
            "order__order_ref",
            "order__channel",
            "order__created_at",
            "order__status",
            "order__store__code",
            "variant__product_id",
            "variant__product__name",
        )
    )


def best_sellers(store: Store, now: dt.datetime, limit: int = 12) -> list[int]:
    key = f"aisle:bestsellers:{store.pk}:{now:%Y%m%d%H}"
    ids = cache.get(key)
    if ids is None:
        ids = list(
            OrderLine.objects.filter(order__store=store, order__created_at__gte=now - RECENT)
            .exclude(order__status=OrderStatus.CANCELLED)
            .values_list("variant__product_id", flat=True)
            .annotate(q=Sum("quantity"))
            .order_by("-q", "variant__product_id")[:limit]
        )
        cache.set(key, ids, 3600)
    return ids


def popular_online(now: dt.datetime, limit: int = 12) -> list[int]:
    key = f"aisle:popular-online:{now:%Y%m%d}"
    ids = cache.get(key)
    if ids is None:
        ids = list(
            BrowsingEvent.objects.filter(
                kind=EventKind.PRODUCT_VIEW,
                variant__isnull=False,
                occurred_at__gte=now - dt.timedelta(days=30),
            )
            .values_list("variant__product_id", flat=True)
            .annotate(n=Count("pk"))
            .order_by("-n", "variant__product_id")[:limit]
        )
        cache.set(key, ids, 3600 * 6)
    return ids


@dataclass
class Recommendation:
    product_id: int
    score: float
    reasons: list[str]
    variant_hint: int | None = None


def recommend(
    *,
    customer: Customer,
    store: Store,
    now: dt.datetime,
    viewed: list[dict],
    bought: dict[int, dict],
    kept: list[dict],
) -> tuple[list[Recommendation], str]:
    """Ranked candidates with their reasons (before the availability filter), and
    what kind of list it is ("personal", "store_best", "online_popular")."""
    candidates: dict[int, Recommendation] = {}

    def add(pid: int, score: float, reason: str, hint: int | None = None) -> None:
        if pid in bought:
            return
        rec = candidates.setdefault(pid, Recommendation(pid, 0.0, [], hint))
        rec.score += score
        if reason not in (text for _weight, text in rec.reasons):
            rec.reasons.append((score, reason))

    for row in viewed:
        pid = row["variant__product_id"]
        if row["week"] >= 2:
            add(
                pid,
                5 + row["week"],
                _("Viewed %(n)s times this week, last on %(day)s")
                % {"n": row["week"], "day": local_day(row["last"], store)},
                row["variant"],
            )
        elif row["n"] >= 2:
            add(
                pid,
                2 + row["n"] / 2,
                _("Viewed %(n)s times since %(day)s")
                % {"n": row["n"], "day": local_day(now - RECENT, store)},
                row["variant"],
            )
    for row in kept:
        pid = row["variant__product_id"]
        if row["added"] and not (row["removed"] and row["removed"] > row["added"]):
            add(
                pid,
                6,
                _("Left in the cart on %(day)s") % {"day": local_day(row["added"], store)},
                row["variant_id"],
            )
        if row["wished"]:
            add(
                pid,
                4,
                _("On the wishlist since %(day)s") % {"day": local_day(row["wished"], store)},
                row["variant_id"],
            )
    sources = {row["variant__product_id"]: ("viewed", row["last"]) for row in viewed[:SHOWN]}
    for pid, row in sorted(bought.items(), key=lambda item: item[1]["last"], reverse=True)[:10]:
        sources[pid] = ("bought", row["last"])
    if not sources and not candidates:
        best = best_sellers(store, now)
        if best:
            return [
                Recommendation(pid, 1.0, [_("A best seller at this store")]) for pid in best
            ], "store_best"
        return [
            Recommendation(pid, 1.0, [_("Popular online this month")])
            for pid in popular_online(now)
        ], "online_popular"
    affinities = list(
        ProductAffinity.objects.filter(product_id__in=list(sources)).values_list(
            "product_id", "other_id", "sessions", "baskets", "score"
        )
    )
    names = product_cards(list(sources))
    # Each source product weighs at most 5 (its best neighbour), so one strong signal
    # about the customer ("viewed 3 times this week") is not drowned by many weak ones.
    top = defaultdict(float)
    for source, _other, _sessions, _baskets, score in affinities:
        top[source] = max(top[source], score)
    texts: dict[tuple[int, bool], str] = {}

    def reason_for(source: int, bought_together: bool) -> str:
        """The words for one source product, formatted once per page."""
        key = (source, bought_together)
        if key not in texts:
            how, when = sources[source]
            name = catalogue.product_name(names.get(source))
            if how == "bought":
                texts[key] = (
                    _("Often bought with the %(product)s bought in %(month)s")
                    if bought_together
                    else _("Often looked at with the %(product)s bought in %(month)s")
                ) % {"product": name, "month": local_month(when, store)}
            else:
                texts[key] = _("Often viewed with the %(product)s they viewed on %(day)s") % {
                    "product": name,
                    "day": local_day(when, store),
                }
        return texts[key]

    for source, other, _sessions, baskets, score in affinities:
        score = 5 * score / top[source] if top[source] else 0
        weight = score * 1.5 if sources[source][0] == "bought" else score
        add(other, weight, reason_for(source, bool(baskets)))
    ranked = sorted(candidates.values(), key=lambda r: (-r.score, r.product_id))
    for rec in ranked:
        # The strongest reasons first, and only the two strongest.
        rec.reasons = [text for _w, text in sorted(rec.reasons, key=lambda r: -r[0])[:REASONS]]
    return ranked, "personal"


def customer_sizes(customer: Customer) -> set[str]:
    return {str(v) for v in (customer.sizes or {}).values() if v}


def build(customer: Customer, store: Store, now: dt.datetime | None = None) -> dict:
    """Everything the 360 panel shows, as plain values."""
    now = now or timezone.now()
    sizes = customer_sizes(customer)
    head = summary(customer, store)
    trip = journey(customer, store, now)
    bought = purchased_products(customer)
    ranked, rec_kind = recommend(
        customer=customer,
        store=store,
        now=now,
        viewed=trip["viewed"],
        bought=bought,
        kept=trip["kept"],
    )
    ranked = ranked[: RECOMMENDED * 3]
    product_ids = [row["variant__product_id"] for row in trip["viewed"]]
    product_ids += [row["variant__product_id"] for row in trip["kept"]]
    product_ids += [r.product_id for r in ranked]
    cards = product_cards(product_ids)
    hints = [(row["variant__product_id"], row["variant"]) for row in trip["viewed"]]
    hints += [(row["variant__product_id"], row["variant_id"]) for row in trip["kept"]]
    hints += [(r.product_id, r.variant_hint) for r in ranked]
    chosen = {}
    for pid, hint in hints:
        if pid in cards and (pid, hint) not in chosen:
            chosen[(pid, hint)] = size_variant(cards[pid], sizes, hint)
    stock = stock_for({v[0] for v, _theirs in chosen.values() if v}, store)

    def card(pid: int, hint: int | None = None) -> dict | None:
        base = cards.get(pid)
        if base is None:
            return None
        variant, theirs = chosen.get((pid, hint)) or size_variant(base, sizes, hint)
        css, words = availability_words(variant, theirs, stock)
        return {
            **base,
            "name": catalogue.product_name(base),
            "availability": words,
            "availability_class": css,
            "size": variant[1] if variant else "",
            "sku": variant[2] if variant else "",
            "theirs": theirs,
            "orderable": bool(variant)
            and (stock.here.get(variant[0], 0) > 0 or stock.orderable(variant[0])),
        }

    viewed = []
    for row in trip["viewed"]:
        c = card(row["variant__product_id"], row["variant"])
        if c:
            viewed.append({**c, "n": row["n"], "week": row["week"], "last": row["last"]})
    carts, wishlist, seen = [], [], set()
    for row in trip["kept"]:
        pid = row["variant__product_id"]
        c = card(pid, row["variant_id"])
        if c is None or pid in seen:
            continue
        seen.add(pid)
        in_cart = row["added"] and not (row["removed"] and row["removed"] > row["added"])
        if in_cart and (pid not in bought or bought[pid]["last"] < row["added"]):
            carts.append({**c, "at": row["added"]})
        if row["wished"]:
            wishlist.append({**c, "at": row["wished"]})
    carts.sort(key=lambda c: c["at"], reverse=True)
    wishlist.sort(key=lambda c: c["at"], reverse=True)
    recommendations = []
    for rec in ranked:
        c = card(rec.product_id, rec.variant_hint)
        if c is None or not c["orderable"]:
            continue  # only what is on the shelf here or can be ordered
        recommendations.append({**c, "reasons": [*rec.reasons, c["availability"]]})
        if len(recommendations) >= RECOMMENDED:
            break
    return {
        "summary": head,
        "viewed": viewed,
        "carts": carts[:SHOWN],
        "wishlist": wishlist[:SHOWN],
        "searches": trip["searches"],
        "recommendations": recommendations,
        "recommendation_kind": rec_kind,
        "sizes": sorted(sizes),
    }


def group_by(rows, key):
    out = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out
