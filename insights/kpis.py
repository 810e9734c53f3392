"""Every KPI of Aisle, one function each, reading only the rollups.

Each function's docstring is its definition; the same definition, translatable, is
registered with it (`DEFINITIONS[name]`) for the UI's "How is this computed?". Every
function takes a `Scope` — a period of days (store-local for store sales, the
reporting time zone's for online orders; see `insights.dates`), optionally one store
and one channel — and runs a fixed number of queries whatever the size of the data.

Money is `Decimal`; shares and rates are floats between 0 and 1 (rounded to four
places); times are hours.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from insights.dates import IN_STORE, ONLINE
from insights.models import (
    AssociateDay,
    BrowseDay,
    FulfilmentFact,
    OrderDay,
    PurchaseFact,
    RefundDay,
    SalesDay,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
CLV_MONTHS = 12
ACTIVE_DAYS = 90
LIFETIME_CAP_YEARS = Decimal(5)

DEFINITIONS: dict[str, object] = {}
KPIS: dict[str, Callable] = {}


def kpi(name: str, definition) -> Callable:
    """Register a KPI function under `name` with its translatable definition."""

    def register(function: Callable) -> Callable:
        KPIS[name] = function
        DEFINITIONS[name] = definition
        function.kpi_name = name
        return function

    return register


@dataclass(frozen=True)
class Scope:
    start: dt.date
    end: dt.date
    store: object | None = None  # a retail.Store
    channel: str | None = None

    def days(self, prefix: str = "") -> Q:
        q = Q(**{f"{prefix}day__gte": self.start, f"{prefix}day__lte": self.end})
        if self.store is not None:
            q &= Q(**{f"{prefix}store": self.store})
        if self.channel:
            q &= Q(**{f"{prefix}channel": self.channel})
        return q


def _rate(part, whole) -> float:
    return round(float(part) / float(whole), 4) if whole else 0.0


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def _store_codes(ids) -> dict:
    from retail.models import Store

    return dict(Store.objects.filter(pk__in={i for i in ids if i}).values_list("pk", "code"))


# --- Revenue ------------------------------------------------------------------------------------


@kpi(
    "revenue",
    _(
        "Net revenue: what customers paid for the units they kept of the orders placed in "
        "the period (cancelled and expired units left out), less what returns refunded in "
        "the period, whatever day the sale was. By channel of the order, and by the "
        "order's store (a till sale, an order placed in store, a pickup's store); online "
        "orders delivered home have no store."
    ),
)
def revenue(scope: Scope) -> dict:
    """Net revenue = Σ net of kept units of orders placed in the period (`OrderDay.net`)
    − Σ refunds of returns paid in the period (`RefundDay.amount`, `from_return`).
    By channel, and by store code (orders without a store are left out of `by_store`).
    `sales` and `returns_refunded` give the two parts."""
    by_channel: dict[str, Decimal] = defaultdict(lambda: ZERO)
    by_store: dict = defaultdict(lambda: ZERO)
    sales = refunded = ZERO
    for store_id, channel, net in (
        OrderDay.objects.filter(scope.days())
        .values("store_id", "channel")
        .annotate(net=Sum("net"))
        .values_list("store_id", "channel", "net")
    ):
        by_channel[channel] += net
        by_store[store_id] += net
        sales += net
    for store_id, channel, amount in (
        RefundDay.objects.filter(scope.days(), from_return=True)
        .values("store_id", "channel")
        .annotate(amount=Sum("amount"))
        .values_list("store_id", "channel", "amount")
    ):
        by_channel[channel] -= amount
        by_store[store_id] -= amount
        refunded += amount
    codes = _store_codes(by_store)
    return {
        "total": sales - refunded,
        "sales": sales,
        "returns_refunded": refunded,
        "by_channel": dict(sorted(by_channel.items())),
        "by_store": dict(sorted((codes[k], v) for k, v in by_store.items() if k in codes)),
    }


@kpi(
    "store_influenced_online",
    _(
        "Store revenue (store and kiosk orders, net of cancellations) beside store-"
        "influenced online revenue: the part of online orders credited to associates "
        "who served the customer before (attribution, less credit reversed by "
        "cancellations and returns), and its share of online revenue."
    ),
)
def store_influenced_online(scope: Scope) -> dict:
    """store_revenue = Σ `OrderDay.net` of store and kiosk orders; influenced_online =
    Σ `OrderDay.attributed_net` of web, app and social orders (credits less reversals);
    share = influenced_online ÷ Σ `OrderDay.net` of online orders."""
    rows = (
        OrderDay.objects.filter(scope.days())
        .values("channel")
        .annotate(net=Sum("net"), attributed=Sum("attributed_net"))
    )
    store_net = online_net = influenced = ZERO
    for row in rows:
        if row["channel"] in IN_STORE:
            store_net += row["net"]
        else:
            online_net += row["net"]
            influenced += row["attributed"]
    return {
        "store_revenue": store_net,
        "online_revenue": online_net,
        "influenced_online": influenced,
        "influenced_share": _rate(influenced, online_net),
    }


@kpi(
    "fulfilment_mix",
    _(
        "Of the online orders placed in the period (web, app, social; cancelled ones "
        "included), the share to collect in a store (pickup or ship to store: BOPIS) and "
        "the share shipped from a store."
    ),
)
def fulfilment_mix(scope: Scope) -> dict:
    """bopis_share = online orders with a pickup or ship-to-store fulfilment ÷ online
    orders; sfs_share = online orders with a ship-from-store fulfilment ÷ online orders."""
    row = OrderDay.objects.filter(scope.days(), channel__in=ONLINE).aggregate(
        orders=Sum("orders"), bopis=Sum("bopis_orders"), sfs=Sum("sfs_orders")
    )
    orders = row["orders"] or 0
    return {
        "online_orders": orders,
        "bopis_orders": row["bopis"] or 0,
        "sfs_orders": row["sfs"] or 0,
        "bopis_share": _rate(row["bopis"] or 0, orders),
        "sfs_share": _rate(row["sfs"] or 0, orders),
    }


# --- Journeys -----------------------------------------------------------------------------------


@kpi(
    "webrooming",
    _(
        "ROPO (research online, purchase offline): store and kiosk orders of the period "
        "by customers who had viewed the same product, or a product of the same "
        "category, online in the days before (the journey window), as a count, a share "
        "of those orders and their net value."
    ),
)
def webrooming(scope: Scope) -> dict:
    """Among store and kiosk orders placed in the period (not cancelled), those whose
    customer viewed online (web, app, social) a product of the order — or of one of its
    categories — in the `AISLE_INSIGHTS_WINDOW_DAYS` before it. share = webroomed ÷
    (orders − cancelled orders)."""
    row = OrderDay.objects.filter(scope.days(), channel__in=IN_STORE).aggregate(
        orders=Sum("orders"),
        cancelled=Sum("cancelled_orders"),
        n=Sum("webroomed_orders"),
        net=Sum("webroomed_net"),
    )
    orders = (row["orders"] or 0) - (row["cancelled"] or 0)
    return {
        "store_orders": orders,
        "webroomed_orders": row["n"] or 0,
        "share": _rate(row["n"] or 0, orders),
        "net": _money(row["net"]),
    }


@kpi(
    "showrooming",
    _(
        "Online orders of the period placed after the customer was served by an "
        "associate (an assisted-selling session) or visited a kiosk (a kiosk order or a "
        "pickup check-in) in the days before (the journey window): count, share of "
        "online orders and net value."
    ),
)
def showrooming(scope: Scope) -> dict:
    """Among web, app and social orders placed in the period (not cancelled), those
    whose customer had an assisted-selling session, a kiosk order or a pickup check-in
    in the `AISLE_INSIGHTS_WINDOW_DAYS` before it. share = showroomed ÷ those orders."""
    row = OrderDay.objects.filter(scope.days(), channel__in=ONLINE).aggregate(
        orders=Sum("orders"),
        cancelled=Sum("cancelled_orders"),
        n=Sum("showroomed_orders"),
        net=Sum("showroomed_net"),
    )
    orders = (row["orders"] or 0) - (row["cancelled"] or 0)
    return {
        "online_orders": orders,
        "showroomed_orders": row["n"] or 0,
        "share": _rate(row["n"] or 0, orders),
        "net": _money(row["net"]),
    }


@kpi(
    "conversion",
    _(
        "Cross-channel conversion: of the customers who viewed products online on a day "
        "of the period, the share who placed an order in any channel within the journey "
        "window after that day's first view; by the channel of that first order. Network-"
        "wide (browsing belongs to no store)."
    ),
)
def conversion(scope: Scope) -> dict:
    """browsers = distinct customers with a `BrowseDay` in the period; converted =
    those with at least one such day followed by an order (not cancelled) within
    `AISLE_INSIGHTS_WINDOW_DAYS` of its first view; by_channel counts each converted
    customer once, by the channel of their earliest converting day's order; rate =
    converted ÷ browsers. A channel in the scope keeps only conversions in it."""
    days = BrowseDay.objects.filter(day__gte=scope.start, day__lte=scope.end)
    browsers = days.values("customer_id").distinct().count()
    first: dict[int, str] = {}
    for customer_id, channel in (
        days.exclude(converted_channel="")
        .order_by("customer_id", "day")
        .values_list("customer_id", "converted_channel")
    ):
        first.setdefault(customer_id, channel)
    if scope.channel:
        first = {c: ch for c, ch in first.items() if ch == scope.channel}
    by_channel: dict[str, int] = defaultdict(int)
    for channel in first.values():
        by_channel[channel] += 1
    return {
        "browsers": browsers,
        "converted": len(first),
        "rate": _rate(len(first), browsers),
        "by_channel": {
            ch: {"customers": n, "rate": _rate(n, browsers)} for ch, n in sorted(by_channel.items())
        },
    }


# --- Customers ----------------------------------------------------------------------------------


def _months_back(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1])) + dt.timedelta(
        days=1
    )


@kpi(
    "clv",
    _(
        "Customer lifetime value. Historic: net revenue (less returns) per customer over "
        "the 12 months up to the period's end, among customers who bought in them. "
        "Predicted: average order value × orders per customer per year × expected "
        "lifetime in years, the lifetime being 1 ÷ (1 − repeat rate) capped at 5 years. "
        "Shown for customers who bought in two or more channels and for single-channel "
        "ones."
    ),
)
def clv(scope: Scope) -> dict:
    """Over the 12 months ending on the scope's last day (`PurchaseFact`, net of
    returns): historic = Σ net ÷ customers who bought; predicted = AOV × F × L where
    AOV = Σ net ÷ orders, F = orders ÷ customers (a year's orders), L = 1 ÷ (1 − r),
    r = customers with 2+ orders ÷ customers, L at most 5 years — a geometric-churn
    model: a customer who bought again this year is taken to come back next year with
    the same chance. multichannel = customers whose purchases in the 12 months span 2+
    channels; single_channel = the others, each with its historic and predicted CLV."""
    since = _months_back(scope.end, CLV_MONTHS)
    rows = (
        PurchaseFact.objects.filter(day__gte=since, day__lte=scope.end)
        .values("customer_id")
        .annotate(
            net=Sum("net"),
            orders=Count("pk"),
            channels=Count("channel", distinct=True),
        )
        .values_list("customer_id", "net", "orders", "channels")
    )
    groups: dict[str, list] = {"all": [], "multichannel": [], "single_channel": []}
    for _customer, net, orders, channels in rows:
        groups["all"].append((net, orders))
        groups["multichannel" if channels >= 2 else "single_channel"].append((net, orders))
    figures = {name: _clv_of(members) for name, members in groups.items()}
    result = dict(figures["all"])
    result["since"] = since.isoformat()
    result["multichannel"] = figures["multichannel"]
    result["single_channel"] = figures["single_channel"]
    return result


def _clv_of(members: list[tuple[Decimal, int]]) -> dict:
    customers = len(members)
    if not customers:
        return {"customers": 0, "historic": ZERO, "predicted": ZERO, "lifetime_years": 0.0}
    net = sum((m[0] for m in members), ZERO)
    orders = sum(m[1] for m in members)
    repeat = Decimal(sum(1 for m in members if m[1] >= 2)) / customers
    lifetime = LIFETIME_CAP_YEARS if repeat >= 1 else min(LIFETIME_CAP_YEARS, 1 / (1 - repeat))
    aov = net / orders
    frequency = Decimal(orders) / customers
    return {
        "customers": customers,
        "historic": (net / customers).quantize(CENT),
        "predicted": (aov * frequency * lifetime).quantize(CENT),
        "lifetime_years": round(float(lifetime), 4),
    }


@kpi(
    "loyalty",
    _(
        "Loyalty, as of the period's last day: repeat-purchase rate (customers with two "
        "or more orders ÷ customers with one or more), average days between purchases "
        "(from first to last order ÷ orders − 1, over repeat customers) and the share "
        "of customers who bought in the 90 days up to that day."
    ),
)
def loyalty(scope: Scope) -> dict:
    """Over every purchase (`PurchaseFact`, not cancelled) up to the scope's last day:
    repeat_rate = customers with 2+ orders ÷ customers with 1+; days_between = mean over
    repeat customers of (last − first order, in days) ÷ (orders − 1); active_90d =
    customers with an order in the 90 days ending that day ÷ customers with 1+."""
    from django.db.models import Max, Min

    rows = (
        PurchaseFact.objects.filter(day__lte=scope.end)
        .values("customer_id")
        .annotate(orders=Count("pk"), first=Min("at"), last=Max("at"), last_day=Max("day"))
        .values_list("orders", "first", "last", "last_day")
    )
    customers = repeat = active = 0
    gaps = []
    since = scope.end - dt.timedelta(days=ACTIVE_DAYS - 1)
    for orders, first, last, last_day in rows:
        customers += 1
        if orders >= 2:
            repeat += 1
            gaps.append((last - first).total_seconds() / 86400 / (orders - 1))
        if last_day >= since:
            active += 1
    return {
        "customers": customers,
        "repeat_rate": _rate(repeat, customers),
        "days_between": round(statistics.fmean(gaps), 2) if gaps else None,
        "active_90d": _rate(active, customers),
    }


# --- Fulfilment ---------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (0–100) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (k - low), 2)


@kpi(
    "fulfilment",
    _(
        "Per store, for orders placed in the period: BOPIS (pickup and ship to store) "
        "hours from order to ready (median p50 and p90); pickup rate (collected ÷ "
        "collected or expired) and no-show rate (expired ÷ the same); hours a ready "
        "pickup waited until collected (median); lines short at picking; ship-from-store "
        "hours from order to shipped (median)."
    ),
)
def fulfilment(scope: Scope) -> dict:
    """From `FulfilmentFact` of orders placed in the period, grouped by the store that
    fulfilled them: p50/p90 of `hours_to_ready` over pickup and ship-to-store
    fulfilments that became ready; pickup_rate = collected ÷ (collected + expired);
    no_show_rate = expired ÷ (collected + expired); hold_hours_p50 = median
    `hours_held` of collected pickups; short_lines = Σ lines short at picking;
    ship_hours_p50 = median `hours_to_ship` of ship-from-store fulfilments shipped."""
    q = Q(day__gte=scope.start, day__lte=scope.end)
    if scope.store is not None:
        q &= Q(fulfilled_at=scope.store)
    if scope.channel:
        q &= Q(channel=scope.channel)
    per_store: dict = defaultdict(lambda: defaultdict(list))
    for store_id, method, state, ready, held, ship, short in FulfilmentFact.objects.filter(
        q
    ).values_list(
        "fulfilled_at_id",
        "method",
        "state",
        "hours_to_ready",
        "hours_held",
        "hours_to_ship",
        "short_lines",
    ):
        cell = per_store[store_id]
        cell["short"].append(short)
        if method in ("pickup", "ship_to_store"):
            if ready is not None:
                cell["ready"].append(ready)
            if state in ("collected", "expired"):
                cell[state].append(1)
            if held is not None:
                cell["held"].append(held)
        elif method == "ship_from_store" and ship is not None:
            cell["ship"].append(ship)
    codes = _store_codes(per_store)
    result = {}
    for store_id, cell in per_store.items():
        if store_id not in codes:
            continue
        ended = len(cell["collected"]) + len(cell["expired"])
        result[codes[store_id]] = {
            "ready_hours_p50": percentile(cell["ready"], 50),
            "ready_hours_p90": percentile(cell["ready"], 90),
            "pickups_ended": ended,
            "pickup_rate": _rate(len(cell["collected"]), ended),
            "no_show_rate": _rate(len(cell["expired"]), ended),
            "hold_hours_p50": percentile(cell["held"], 50),
            "short_lines": sum(cell["short"]),
            "ship_hours_p50": percentile(cell["ship"], 50),
        }
    return dict(sorted(result.items()))


# --- Returns ------------------------------------------------------------------------------------


@kpi(
    "returns",
    _(
        "Returns: what returns refunded in the period (on the day of the refund, "
        "whatever day the sale was), and the return rate — units returned in the period "
        "÷ units sold (kept) in the period. The breakdowns — by channel of purchase, "
        "receiving store, category, reason and disposition, the share of online orders "
        "returned in a store (BORIS) and the returns turned into exchanges — are the "
        "returns pages' own figures: completed returns of the period's days counted in "
        "UTC, one network clock."
    ),
)
def returns(scope: Scope) -> dict:
    """refunded = Σ `RefundDay.amount` of refunds for returns paid in the period;
    rate = Σ `SalesDay.units_returned` (returns completed in the period) ÷ Σ
    `SalesDay.units` (units kept of orders placed in the period).

    The breakdowns are `returns.figures`' own (one definition of each, shared with
    HQ's returns pages; their period is the same days bounded in UTC): `by_channel`
    (channel of purchase), `by_store` (receiving store), `by_category`, `by_reason`,
    `dispositions` — lists of {key, label, returns, units, refunded}; `boris` (the
    stores' share of returned units and value of online orders) and `exchanges`
    (returns turned into an exchange order, and the value it saved). A fixed number of
    queries over the period's returns (small beside orders and events)."""
    from returns import figures

    refunds = RefundDay.objects.filter(scope.days(), from_return=True)
    by_tender: dict[str, Decimal] = defaultdict(lambda: ZERO)
    refunded = ZERO
    for tender, credit, amount in (
        refunds.values("tender", "to_store_credit")
        .annotate(amount=Sum("amount"))
        .values_list("tender", "to_store_credit", "amount")
    ):
        by_tender["store_credit" if credit else (tender or "other")] += amount
        refunded += amount
    units = SalesDay.objects.filter(scope.days()).aggregate(
        sold=Sum("units"), returned=Sum("units_returned")
    )
    period = figures.Period(scope.start, scope.end)
    narrow = figures.Filters(store=scope.store, channel=scope.channel or None)
    boris = figures.boris_share(period, narrow)
    exchanges = figures.exchange_rate(period, narrow)["total"]
    return {
        "refunded": refunded,
        "units_sold": units["sold"] or 0,
        "units_returned": units["returned"] or 0,
        "rate": _rate(units["returned"] or 0, units["sold"] or 0),
        "refunds_by_tender": dict(sorted(by_tender.items())),
        "by_channel": figures.returns_by_channel(period, narrow),
        "by_store": figures.returns_by_store(period, narrow),
        "by_category": figures.returns_by_category(period, narrow),
        "by_reason": figures.returns_by_reason(period, narrow),
        "dispositions": figures.returns_by_disposition(period, narrow),
        "boris": {
            "units_share": _rate(boris["in_stores"]["units"], boris["total"]["units"]),
            "value_share": _rate(boris["in_stores"]["refunded"], boris["total"]["refunded"]),
            "units_in_stores": boris["in_stores"]["units"],
            "units_online_returned": boris["total"]["units"],
        },
        "exchanges": {
            "returns": exchanges["returns"],
            "exchanges": exchanges["exchanges"],
            "rate": _rate(exchanges["exchanges"], exchanges["returns"]),
            "saved": _money(exchanges["saved"]),
        },
    }


# --- People -------------------------------------------------------------------------------------


@kpi(
    "people",
    _(
        "Per associate and per store, in the period: clienteling actions and assisted-"
        "selling sessions, orders credited to them (conversions from that service) and "
        "the credited revenue less reversals. Beside each store: its conversion "
        "(credited orders ÷ sessions), its return rate, and — today — its staff's "
        "training completion (courses passed ÷ courses taken) and certification "
        "coverage (staff holding a valid certificate ÷ staff). Side by side, not cause "
        "and effect."
    ),
)
def people(scope: Scope) -> dict:
    """From `AssociateDay` (the store's local days): actions, sessions, credited orders
    and credited revenue (credited − reversed) per associate and per store; a store's
    conversion = credited orders ÷ sessions; its return rate as `returns` for that store.
    Training, from today's records of the store's staff (associates and managers whose
    home store it is): completion = enrolments passed ÷ enrolments passed, failed or
    in progress; certification coverage = staff with a valid certificate ÷ staff."""
    from django.utils import timezone

    from retail.models import StaffProfile
    from training.models import Certification, Enrolment

    q = Q(day__gte=scope.start, day__lte=scope.end)
    if scope.store is not None:
        q &= Q(store=scope.store)
    rows = (
        AssociateDay.objects.filter(q)
        .values("store_id", "associate_id", "associate__email")
        .annotate(
            actions=Sum("actions"),
            sessions=Sum("sessions"),
            orders=Sum("credited_orders"),
            store_credit=Sum("credited_store"),
            online_credit=Sum("credited_online"),
            reversed_store=Sum("reversed_store"),
            reversed_online=Sum("reversed_online"),
        )
    )
    associates = []
    stores: dict = defaultdict(lambda: defaultdict(lambda: 0))
    for row in rows:
        credited = (
            row["store_credit"]
            + row["online_credit"]
            - row["reversed_store"]
            - row["reversed_online"]
        )
        associates.append(
            {
                "associate_id": row["associate_id"],
                "email": row["associate__email"],
                "store_id": row["store_id"],
                "actions": row["actions"],
                "sessions": row["sessions"],
                "conversions": row["orders"],
                "attributed": credited,
            }
        )
        cell = stores[row["store_id"]]
        cell["actions"] += row["actions"]
        cell["sessions"] += row["sessions"]
        cell["conversions"] += row["orders"]
        cell["attributed"] += credited
    sales_q = Q(day__gte=scope.start, day__lte=scope.end, store__isnull=False)
    if scope.store is not None:
        sales_q &= Q(store=scope.store)
    for store_id, sold, returned in (
        SalesDay.objects.filter(sales_q)
        .values("store_id")
        .annotate(sold=Sum("units"), returned=Sum("units_returned"))
        .values_list("store_id", "sold", "returned")
    ):
        stores[store_id]["sold"] += sold
        stores[store_id]["returned"] += returned
    staff = StaffProfile.objects.filter(
        role__in=("associate", "store_manager"), home_store__isnull=False
    )
    if scope.store is not None:
        staff = staff.filter(home_store=scope.store)
    home = dict(staff.values_list("user_id", "home_store_id"))
    for user_id, status in (
        Enrolment.objects.filter(user_id__in=list(home))
        .exclude(status="withdrawn")
        .values_list("user_id", "status")
    ):
        cell = stores[home[user_id]]
        cell["enrolments"] += 1
        cell["passed"] += status == "passed"
    certified = set(
        Certification.objects.valid(timezone.now())
        .filter(user_id__in=list(home))
        .values_list("user_id", flat=True)
    )
    for user_id, store_id in home.items():
        stores[store_id]["staff"] += 1
        stores[store_id]["certified"] += user_id in certified
    codes = _store_codes(stores)
    per_store = {}
    for store_id, cell in stores.items():
        if store_id not in codes:
            continue
        per_store[codes[store_id]] = {
            "actions": cell["actions"],
            "sessions": cell["sessions"],
            "conversions": cell["conversions"],
            "attributed": Decimal(cell["attributed"]),
            "conversion_rate": _rate(cell["conversions"], cell["sessions"]),
            "return_rate": _rate(cell["returned"], cell["sold"]),
            "staff": cell["staff"],
            "training_completion": _rate(cell["passed"], cell["enrolments"]),
            "certification_coverage": _rate(cell["certified"], cell["staff"]),
        }
    for row in associates:
        row["store"] = codes.get(row.pop("store_id"), "")
    associates.sort(key=lambda r: (r["store"], r["email"]))
    return {"associates": associates, "stores": dict(sorted(per_store.items()))}


# --- Segments -----------------------------------------------------------------------------------


@kpi(
    "segments",
    _(
        "Channel-usage segments (each customer in one, from their whole history): "
        "webroomers, showroomers, web only, store only, omnichannel and never-bought "
        "browsers — with each segment's customers, their net revenue in the period, "
        "revenue per customer, return rate and revenue by month."
    ),
)
def segments(scope: Scope) -> dict:
    """Counts of customers per segment (`CustomerSummary.segment`, see
    `insights.segments` for the rules) and, per segment, `segment_figures` for the
    period. Segments are network-wide (a customer belongs to no one store)."""
    from insights import segments as definitions

    return definitions.segment_figures(scope.start, scope.end)


# --- Appointments -------------------------------------------------------------------------------

#: An order counts for an appointment from this long before its start ...
APPOINTMENT_BUY_BEFORE = dt.timedelta(minutes=30)
#: ... until this long after its end.
APPOINTMENT_BUY_AFTER = dt.timedelta(hours=24)


@kpi(
    "appointments",
    _(
        "Per store, appointments starting in the period (store days): booked (not "
        "cancelled), completed, no-shows; conversion = completed appointments whose "
        "customer placed an order (any channel, not cancelled) from 30 minutes before the "
        "start until 24 hours after the end ÷ completed appointments; value per "
        "appointment = those orders' total ÷ completed appointments; no-show rate = "
        "no-shows ÷ (completed + no-shows); booking lead time = median hours from booking "
        "to start."
    ),
)
def appointments(scope: Scope) -> dict:
    """Read from the appointments themselves (few rows beside orders) and the orders of
    their customers around them: three queries whatever the period."""
    from clienteling.models import Appointment
    from orders.models import Order, OrderStatus
    from retail.models import zone_named

    first = dt.datetime.combine(scope.start, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
    last = dt.datetime.combine(scope.end, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=2)
    rows = Appointment.objects.filter(start__gte=first, start__lt=last)
    if scope.store is not None:
        rows = rows.filter(store=scope.store)
    stores = getattr(scope, "stores", None)
    if stores:
        rows = rows.filter(store__in=stores)
    kept = []
    for row in rows.values(
        "pk", "store_id", "store__time_zone", "start", "end", "created_at", "state", "customer_id"
    ):
        day = row["start"].astimezone(zone_named(row["store__time_zone"])).date()
        if scope.start <= day <= scope.end and row["state"] != "cancelled":
            kept.append(row)
    completed = [r for r in kept if r["state"] == "completed" and r["customer_id"]]
    orders: dict[int, list[tuple[dt.datetime, Decimal]]] = defaultdict(list)
    if completed:
        for customer_id, at, total in (
            Order.objects.filter(
                customer_id__in={r["customer_id"] for r in completed},
                created_at__gte=min(r["start"] for r in completed) - APPOINTMENT_BUY_BEFORE,
                created_at__lte=max(r["end"] for r in completed) + APPOINTMENT_BUY_AFTER,
            )
            .exclude(status=OrderStatus.CANCELLED)
            .values_list("customer_id", "created_at", "total")
        ):
            orders[customer_id].append((at, total))
    cells: dict = defaultdict(
        lambda: {
            "booked": 0,
            "completed": 0,
            "no_show": 0,
            "with_purchase": 0,
            "value": ZERO,
            "lead": [],
        }
    )
    for row in kept:
        cell = cells[row["store_id"]]
        cell["booked"] += 1
        cell["lead"].append((row["start"] - row["created_at"]).total_seconds() / 3600)
        if row["state"] == "no_show":
            cell["no_show"] += 1
        if row["state"] != "completed":
            continue
        cell["completed"] += 1
        low, high = row["start"] - APPOINTMENT_BUY_BEFORE, row["end"] + APPOINTMENT_BUY_AFTER
        bought = [t for at, t in orders.get(row["customer_id"], []) if low <= at <= high]
        if bought:
            cell["with_purchase"] += 1
            cell["value"] += sum(bought, ZERO)

    def summary(cell) -> dict:
        finished = cell["completed"] + cell["no_show"]
        return {
            "booked": cell["booked"],
            "completed": cell["completed"],
            "no_shows": cell["no_show"],
            "with_purchase": cell["with_purchase"],
            "conversion": _rate(cell["with_purchase"], cell["completed"]),
            "value": _money(cell["value"]),
            "value_per_appointment": _money(
                cell["value"] / cell["completed"] if cell["completed"] else 0
            ),
            "no_show_rate": _rate(cell["no_show"], finished),
            "lead_time_hours": (
                round(statistics.median(cell["lead"]), 1) if cell["lead"] else None
            ),
        }

    total = {"booked": 0, "completed": 0, "no_show": 0, "with_purchase": 0, "value": ZERO}
    for cell in cells.values():
        for key in total:
            total[key] += cell[key]
    total["lead"] = [h for cell in cells.values() for h in cell["lead"]]
    codes = _store_codes(cells)
    return {
        **summary(total),
        "by_store": {codes.get(sid, ""): summary(cell) for sid, cell in sorted(cells.items())},
    }
