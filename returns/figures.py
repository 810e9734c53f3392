"""What comes back, in figures: the one place that defines HQ's returns figures.

HQ's returns pages (`returns.hq_views`) show them and the KPI work (`insights`) charts
them; both call these functions, so a figure means the same thing everywhere. Each
function's docstring is its definition (what counts, which period, net or gross, which
timestamp); `DEFINITIONS` holds the same definition in words users read, translated.

Common ground for every figure:

- **A return counts** when it is completed (`ReturnState.COMPLETED`): requested,
  refused and cancelled returns moved no money and no stock.
- **The period** is a `Period` of whole days, `start` to `end` inclusive, in UTC:
  a return belongs to it when its `completed_at` is at or after `start` 00:00 UTC and
  before the day after `end`, 00:00 UTC. One network, one clock: a store's local
  midnight is not used, so the figures of all stores add up.
- **Units** are the returned units of the return lines; **refunded** is what was
  refunded for them, net of any restocking fee (to the tenders or as store credit,
  receipt-less returns included), the tax included — the same amounts as the
  `Refund` rows (and, for returns without a receipt, the store credit issued).
- **Filters**: `store` is the store that received the return; `channel` is the
  channel the returned order was bought in (`Return.order_channel`).

Every figure runs a fixed number of queries, whatever the size of the data: it
groups and sums in the database and returns plain rows (dicts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import LocationKind, MovementKind, StockLevel, StockLocation, StockMovement
from orders.models import Channel, OrderStatus, Refund, StoreCreditEntry
from retail.models import Store
from returns.models import Disposition, Reason, Return, ReturnLine, ReturnState

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)

#: Channels that are not a store: orders placed online (site, app, social). Store and
#: till sales (`store`) and kiosk orders (`kiosk`) are bought in a store.
ONLINE_CHANNELS = frozenset({Channel.WEB, Channel.APP, Channel.SOCIAL})

#: How many product rows a page shows (the CSV has all of them).
TOP_PRODUCTS = 50


@dataclass(frozen=True)
class Period:
    """Whole days, `start` to `end` inclusive, bounded in UTC."""

    start: dt.date
    end: dt.date

    def __post_init__(self):
        if self.start > self.end:
            raise ValueError("The period ends before it starts.")

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=dt.UTC)

    @property
    def until(self) -> dt.datetime:
        """The first moment after the period (exclusive bound)."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    @classmethod
    def last_days(cls, days: int = 30, today: dt.date | None = None) -> Period:
        """The `days` days ending today (UTC), today included."""
        today = today or timezone.now().astimezone(dt.UTC).date()
        return cls(today - dt.timedelta(days=days - 1), today)


@dataclass(frozen=True)
class Filters:
    """Optional narrowing: the receiving store, the channel of purchase."""

    store: Store | None = None
    channel: str | None = None


NO_FILTERS = Filters()


# --- The returns of a period ------------------------------------------------------------


def completed_returns(period: Period, filters: Filters = NO_FILTERS) -> QuerySet[Return]:
    """The returns a figure counts: completed within the period (UTC bounds of
    `completed_at`), received by the filtered store, bought in the filtered channel."""
    rows = Return.objects.filter(
        state=ReturnState.COMPLETED,
        completed_at__gte=period.since,
        completed_at__lt=period.until,
    )
    if filters.store is not None:
        rows = rows.filter(store=filters.store)
    if filters.channel:
        rows = rows.filter(order_channel=filters.channel)
    return rows


def _lines(period: Period, filters: Filters) -> QuerySet[ReturnLine]:
    lines = ReturnLine.objects.filter(
        ret__state=ReturnState.COMPLETED,
        ret__completed_at__gte=period.since,
        ret__completed_at__lt=period.until,
    )
    if filters.store is not None:
        lines = lines.filter(ret__store=filters.store)
    if filters.channel:
        lines = lines.filter(ret__order_channel=filters.channel)
    return lines


def _measures() -> dict:
    return {
        "returns": Count("ret", distinct=True),
        "units": Coalesce(Sum("quantity"), 0),
        "refunded": Coalesce(Sum("refund_amount"), ZERO, output_field=MONEY),
    }


def _grouped(period: Period, filters: Filters, *fields: str, order_by=("-units",)) -> list[dict]:
    return _cents(
        _lines(period, filters).values(*fields).annotate(**_measures()).order_by(*order_by, *fields)
    )


def returns_summary(period: Period, filters: Filters = NO_FILTERS) -> dict:
    """All completed returns of the period together: how many returns, units and
    refunded value (net of fees, tax included), the restocking fees kept and the tax in
    the refunds. The totals row of every "returns by …" table: a return with lines of
    two reasons counts once here, once in each reason's row."""
    lines = _lines(period, filters).aggregate(**_measures())
    money = completed_returns(period, filters).aggregate(
        fees=Coalesce(Sum("fee_amount"), ZERO, output_field=MONEY),
        tax=Coalesce(Sum("tax_amount"), ZERO, output_field=MONEY),
    )
    return _cents([{**lines, **money}])[0]


def returns_by_store(period: Period, filters: Filters = NO_FILTERS) -> list[dict]:
    """Completed returns of the period per receiving store (`Return.store`; a parcel
    received at the distribution centre has none): returns, units, refunded value."""
    rows = _grouped(period, filters, "ret__store__code", "ret__store__name", order_by=())
    for row in rows:
        row["key"] = row.pop("ret__store__code") or ""
        row["label"] = row.pop("ret__store__name") or str(_("Distribution centre (by post)"))
    rows.sort(key=lambda r: (r["key"] == "", r["key"]))
    return rows


def returns_by_reason(period: Period, filters: Filters = NO_FILTERS) -> list[dict]:
    """Completed returns of the period per reason the customer gave (per return line):
    returns, units, refunded value."""
    rows = _grouped(period, filters, "reason")
    for row in rows:
        row["key"] = row.pop("reason")
        row["label"] = _label(Reason, row["key"])
    return rows


def returns_by_category(period: Period, filters: Filters = NO_FILTERS) -> list[dict]:
    """Completed returns of the period per product category (the category the return
    line recorded when it was taken): returns, units, refunded value."""
    rows = _grouped(period, filters, "category__code", "category__name")
    for row in rows:
        row["key"] = row.pop("category__code") or ""
        row["label"] = row.pop("category__name") or str(_("No category"))
    return rows


def returns_by_product(
    period: Period, filters: Filters = NO_FILTERS, *, limit: int | None = None
) -> list[dict]:
    """Completed returns of the period per product (style, all its sizes and colours
    together), most units first: returns, units, refunded value. `limit` keeps the
    first rows only."""
    rows = _grouped(
        period,
        filters,
        "variant__product__style_code",
        "variant__product__name",
        order_by=("-units", "-refunded"),
    )
    if limit is not None:
        rows = rows[:limit]
    for row in rows:
        row["key"] = row.pop("variant__product__style_code")
        row["label"] = row.pop("variant__product__name")
    return rows


def returns_by_channel(period: Period, filters: Filters = NO_FILTERS) -> list[dict]:
    """Completed returns of the period per channel the order was bought in
    (`Return.order_channel`; none for a return without a receipt): returns, units,
    refunded value."""
    rows = _grouped(period, filters, "ret__order_channel")
    for row in rows:
        row["key"] = row.pop("ret__order_channel")
        row["label"] = _label(Channel, row["key"]) if row["key"] else str(_("No receipt"))
    return rows


def returns_by_disposition(period: Period, filters: Filters = NO_FILTERS) -> list[dict]:
    """Completed returns of the period per disposition of the returned units
    (restocked at the receiving location; damaged, for the vendor or to donate: into its
    returns hold): returns, units, refunded value. Restocked units match the ledger's
    `return` movements at stores and the DC; the others its `return` movements into hold
    locations."""
    rows = _grouped(period, filters, "disposition")
    for row in rows:
        row["key"] = row.pop("disposition")
        row["label"] = _label(Disposition, row["key"])
    return rows


# --- BORIS -------------------------------------------------------------------------------


def boris_share(period: Period, filters: Filters = NO_FILTERS) -> dict:
    """BORIS (bought online, returned in store): of the completed returns of the period
    of orders bought online (`ONLINE_CHANNELS`: web, app, social), the part received
    at a store rather than by post at the distribution centre — by returns, units and
    refunded value. `rows` give each receiving location's part of the whole; the
    `share_*` figures are the stores' part: units returned in stores ÷ all units of
    online orders returned (and the same for value). A store filter keeps that store's
    row, still measured against every return of online orders."""
    channel_filter = Filters(channel=filters.channel)
    online = _lines(period, channel_filter).filter(ret__order_channel__in=ONLINE_CHANNELS)
    grouped = _cents(
        online.values("ret__location__kind", "ret__store__code", "ret__store__name")
        .annotate(**_measures())
        .order_by("ret__store__code")
    )
    total = {"returns": 0, "units": 0, "refunded": ZERO}
    in_stores = {"returns": 0, "units": 0, "refunded": ZERO}
    rows = []
    for row in grouped:
        at_store = row["ret__location__kind"] == LocationKind.STORE
        for key in total:
            total[key] += row[key]
            if at_store:
                in_stores[key] += row[key]
        if filters.store is not None and row["ret__store__code"] != filters.store.code:
            continue
        rows.append(
            {
                "key": row["ret__store__code"] or "",
                "label": row["ret__store__name"] if at_store else str(_("By post")),
                "in_store": at_store,
                "returns": row["returns"],
                "units": row["units"],
                "refunded": row["refunded"],
            }
        )
    for row in rows:
        row["units_share"] = _share(row["units"], total["units"])
        row["value_share"] = _share(row["refunded"], total["refunded"])
    return {
        "rows": rows,
        "total": total,
        "in_stores": in_stores,
        "share_units": _share(in_stores["units"], total["units"]),
        "share_value": _share(in_stores["refunded"], total["refunded"]),
    }


# --- Exchanges ---------------------------------------------------------------------------


def exchange_rate(period: Period, filters: Filters = NO_FILTERS) -> dict:
    """Returns turned into sales: completed returns of the period whose customer took
    an exchange order (`Return.exchange_order`) that was not cancelled since, ÷ all
    completed returns of the period.

    The value saved is the sum of those exchange orders' totals (what the customer
    paid for the new items, however they paid: the returned value carried over, store
    credit, or a difference charged). It is taken from the exchange orders rather than
    from the refunds because an exchange settles the returned value against the new
    order, so the part of it "kept" depends on how the difference was settled; the
    order total is the sale the return turned into, whichever way. An exchange order
    cancelled since saved nothing, so it counts neither in the rate nor in the value.
    `rows` give the same per receiving store."""
    rows = _cents(
        completed_returns(period, filters)
        .values("store__code", "store__name")
        .annotate(
            returns=Count("pk"),
            exchanges=Count(
                "pk",
                filter=Q(exchange_order__isnull=False)
                & ~Q(exchange_order__status=OrderStatus.CANCELLED),
            ),
            saved=Coalesce(
                Sum(
                    "exchange_order__total",
                    filter=~Q(exchange_order__status=OrderStatus.CANCELLED),
                ),
                ZERO,
                output_field=MONEY,
            ),
        )
        .order_by("store__code")
    )
    total = {"returns": 0, "exchanges": 0, "saved": ZERO}
    for row in rows:
        row["key"] = row.pop("store__code") or ""
        row["label"] = row.pop("store__name") or str(_("Distribution centre (by post)"))
        row["rate"] = _share(row["exchanges"], row["returns"])
        for key in total:
            total[key] += row[key]
    total["rate"] = _share(total["exchanges"], total["returns"])
    return {"rows": rows, "total": total}


# --- Refunds ----------------------------------------------------------------------------


def refunds_by_tender(period: Period, filters: Filters = NO_FILTERS) -> list[dict]:
    """Refunds for returns recorded in the period (`Refund.at` within its UTC bounds,
    `Refund.return_ref` set; refunds of cancelled orders are not returns), per tender
    they went back against and whether the customer took them as store credit: refunds,
    amount and the tax in it. Returns without a receipt have no order to refund: their
    store credit (the ledger's `issued` entries for a return, without an order) is the
    row with no tender. The store filter keeps the refunds of returns received there;
    the channel filter, those of orders bought in that channel."""
    refunds = Refund.objects.filter(at__gte=period.since, at__lt=period.until).exclude(
        return_ref=""
    )
    credits = StoreCreditEntry.objects.filter(
        at__gte=period.since,
        at__lt=period.until,
        kind="issued",
        order__isnull=True,
    ).exclude(return_ref="")
    if filters.store is not None:
        refs = Return.objects.filter(store=filters.store).values("return_ref")
        refunds = refunds.filter(return_ref__in=refs)
        credits = credits.filter(return_ref__in=refs)
    if filters.channel:
        refunds = refunds.filter(order__channel=filters.channel)
        credits = credits.none()  # without a receipt there is no channel of purchase
    rows = _cents(
        refunds.values("tender", "to_store_credit")
        .annotate(
            refunds=Count("pk"),
            amount=Coalesce(Sum("amount"), ZERO, output_field=MONEY),
            tax=Coalesce(Sum("tax_amount"), ZERO, output_field=MONEY),
        )
        .order_by("tender", "to_store_credit")
    )
    receiptless = credits.aggregate(
        refunds=Count("pk"), amount=Coalesce(Sum("amount"), ZERO, output_field=MONEY)
    )
    receiptless = _cents([receiptless])[0]
    if receiptless["refunds"]:
        rows.append({"tender": "", "to_store_credit": True, "tax": None, **receiptless})
    for row in rows:
        row["key"] = f"{row['tender']}:{'credit' if row['to_store_credit'] else 'tender'}"
        row["label"] = row["tender"] or str(_("No receipt"))
    return rows


# --- Stock waiting for a decision -------------------------------------------------------


def hold_stock(filters: Filters = NO_FILTERS, *, now: dt.datetime | None = None) -> list[dict]:
    """Returned units waiting for a disposition decision, now (not a period figure):
    units on hand in each returns hold (damaged, for the vendor, to donate), per store
    (a DC's hold has no store), split by the disposition chosen at the counter, with
    their age in days — the oldest unit and the average over the units.

    A unit's age counts from the ledger's `return` movement that put it in the hold;
    units leave a hold first in, first out, so the units still there are those of the
    latest movements in. The channel filter does not apply (units in a hold are no
    longer tied to an order)."""
    now = now or timezone.now()
    levels = StockLevel.objects.filter(
        location_id=OuterRef("location_id"), variant_id=OuterRef("variant_id")
    ).values("on_hand")[:1]
    disposition = ReturnLine.objects.filter(
        ret_id=Cast(Substr(OuterRef("source"), len("return:") + 1), IntegerField()),
        variant_id=OuterRef("variant_id"),
    ).values("disposition")[:1]
    ins = StockMovement.objects.filter(
        location__kind=LocationKind.HOLD,
        kind=MovementKind.RETURN,
        on_hand_delta__gt=0,
        source__startswith="return:",
    )
    if filters.store is not None:
        shelf = StockLocation.objects.filter(store=filters.store).values_list("code", flat=True)
        ins = ins.filter(location__code__in=[f"{code[:11]}-HOLD" for code in shelf])
    # Units that came in at or after this movement, this one included (newest first).
    came_since = Window(
        Sum("on_hand_delta"),
        partition_by=[F("location_id"), F("variant_id")],
        order_by=[F("at").desc(), F("pk").desc()],
    )
    movements = list(
        ins.annotate(
            on_hand=Coalesce(Subquery(levels), Value(0)),
            came_since=came_since,
            disposition=Subquery(disposition),
        )
        .filter(came_since__lt=F("on_hand") + F("on_hand_delta"))
        .values(
            "location__code",
            "location__name",
            "on_hand_delta",
            "on_hand",
            "came_since",
            "at",
            "disposition",
        )
    )
    # The stores behind the holds (a hold is named after its store's location code).
    stores = (
        {
            f"{row['code'][:11]}-HOLD": row
            for row in StockLocation.objects.filter(kind=LocationKind.STORE, store__isnull=False)
            .values("code", "store__code", "store__name")
            .iterator()
        }
        if movements
        else {}
    )
    holds: dict[str, dict] = {}
    for m in movements:
        # The part of this movement still on hand: what the later movements leave room for.
        still = min(m["on_hand_delta"], m["on_hand"] - (m["came_since"] - m["on_hand_delta"]))
        if still <= 0:
            continue
        store = stores.get(m["location__code"], {})
        hold = holds.setdefault(
            m["location__code"],
            {
                "key": store.get("store__code", ""),
                "label": store.get("store__name") or m["location__name"],
                "hold": m["location__code"],
                "units": 0,
                "by_disposition": dict.fromkeys(HOLD_DISPOSITIONS, 0),
                "oldest_at": m["at"],
                "_unit_seconds": 0.0,
            },
        )
        hold["units"] += still
        key = m["disposition"] if m["disposition"] in HOLD_DISPOSITIONS else Disposition.DAMAGED
        hold["by_disposition"][key] += still
        hold["oldest_at"] = min(hold["oldest_at"], m["at"])
        hold["_unit_seconds"] += still * max((now - m["at"]).total_seconds(), 0.0)
    rows = sorted(holds.values(), key=lambda r: (r["key"] == "", r["key"], r["hold"]))
    for row in rows:
        row["oldest_days"] = max((now - row.pop("oldest_at")).days, 0)
        row["average_days"] = round(row.pop("_unit_seconds") / row["units"] / 86400, 1)
        for d in HOLD_DISPOSITIONS:
            row[d] = row["by_disposition"][d]
    return rows


#: The dispositions that put a unit into a returns hold, waiting for a decision.
HOLD_DISPOSITIONS = (Disposition.DAMAGED, Disposition.VENDOR, Disposition.DONATE)


# --- Helpers ----------------------------------------------------------------------------


def _cents(rows) -> list[dict]:
    """The rows with their money to the cent (databases sum decimals each their own way:
    SQLite drops the trailing zeros)."""
    cent = Decimal("0.01")
    rows = list(rows)
    for row in rows:
        for key, value in row.items():
            if isinstance(value, Decimal):
                row[key] = value.quantize(cent)
    return rows


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


def _share(part, whole) -> Decimal | None:
    """`part` ÷ `whole` as a percentage with one decimal, None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


#: Each figure's definition, in words the pages show under "How is this computed?".
DEFINITIONS = {
    "by_store": _(
        "Returns completed in the period (by the time they were completed, in UTC days), "
        "per store that received them; parcels received at the distribution centre are a "
        "row of their own. Units are the returned units; refunded is what went back to "
        "the customer for them, tax included and restocking fees deducted, to the "
        "original payment or as store credit."
    ),
    "by_reason": _(
        "Returns completed in the period, per reason the customer gave for each returned "
        "item. A return with items of two reasons counts once in each reason's row, and "
        "once in the total."
    ),
    "by_category": _(
        "Returns completed in the period, per category of the returned products (as "
        "recorded when the return was taken). Refunded is net of restocking fees, tax "
        "included."
    ),
    "by_product": _(
        "Returns completed in the period, per product (all its sizes and colours "
        "together), the most returned units first. The page shows the first 50 "
        "products; the CSV has every product."
    ),
    "by_channel": _(
        "Returns completed in the period, per channel the order was bought in. Returns "
        "without a receipt have no channel of purchase."
    ),
    "by_disposition": _(
        "Returns completed in the period, per decision taken for the returned units: "
        "restocked (sellable again where received), or held as damaged, for the vendor or "
        "to donate. The units agree with the stock ledger's return movements of the "
        "period."
    ),
    "boris": _(
        "Of the returns completed in the period of orders bought online (web, app, "
        "social), the part received in a store rather than by post: units and refunded "
        "value returned in stores divided by all units and value of online orders "
        "returned. Each row is one receiving location's part of the whole."
    ),
    "exchanges": _(
        "Returns completed in the period for which the customer took an exchange order "
        "(not cancelled since), divided by all returns completed in the period. The value "
        "saved is the total of those exchange orders: the sale the return turned into, "
        "whichever way the difference was settled."
    ),
    "tenders": _(
        "Refunds for returns recorded in the period (by the time of the refund, in UTC "
        "days), per payment tender they went back against and whether the customer took "
        "store credit instead. Returns without a receipt are refunded as store credit "
        "only: they are the row without a tender. Refunds of cancelled orders are not "
        "included."
    ),
    "hold": _(
        "Returned units in each store's returns hold now, waiting for a decision "
        "(damaged, for the vendor, to donate), whatever the period. A unit's age counts "
        "from the day it was put in the hold; units leave the hold first in, first out. "
        "The channel filter does not apply."
    ),
}
