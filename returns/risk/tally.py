"""The per-customer monthly tallies behind the abuse signals, kept up to date by the
order and return domain events and rebuilt from history by a command.

Each order and each return is a *source*: what it adds to its customer's tally for
one month (in the network's time zone, `settings.TIME_ZONE`) and one store (the
store that took a return; none for what was bought). A receiver recomputes the
source from the database and applies only the difference to the tallies, so an
event delivered twice (or an order later cancelled) counts exactly once. The
12-month figures are then a sum over a customer's few monthly rows.

What a source adds:
- an order (any channel, with a customer; not cancelled): the units kept (bought
  less cancelled) and their value (the line totals, discount shares included);
- a completed return (any way it started): one return; its units and value (what
  was paid for them: refund plus fee) as returned with a receipt, or as receipt-less;
  in HQ's occasion-wear categories, the units returned worn (not sellable again:
  damaged or donated, when the customer did not say they arrived damaged or faulty)
  or within HQ's days of collection or delivery (wardrobing); and the units whose
  catalogue price when returned is above what was paid for them (or above the
  receipt-less value basis), with that gap (price arbitrage).
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from orders.models import SUCCEEDED, FulfillmentLine, Order, OrderLine, OrderStatus
from retail.models import PriceChange, Variant
from returns.models import Disposition, Reason, Return, ReturnLine, ReturnState
from returns.risk.models import FIGURES, CustomerSignalMonth, SignalSettings, SignalSource

WINDOW_MONTHS = 12
CENT = Decimal("0.01")
#: A unit not sellable again counts as worn, unless the customer said it was faulty.
WORN_DISPOSITIONS = frozenset({Disposition.DAMAGED, Disposition.DONATE})
NOT_WORN_REASONS = frozenset({Reason.DAMAGED, Reason.QUALITY})


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def zero() -> dict:
    return {name: Decimal("0.00") if is_money else 0 for name, is_money in FIGURES.items()}


def _tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def month_of(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, _tz()).date().replace(day=1)


def window_start(months: int = WINDOW_MONTHS, now: dt.datetime | None = None) -> dt.date:
    """The first day of the oldest month in a window of `months` calendar months
    ending with this one."""
    this = month_of(now or timezone.now())
    index = this.year * 12 + this.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass
class Contribution:
    customer_id: int | None = None
    month: dt.date | None = None
    store_id: int | None = None
    figures: dict = field(default_factory=dict)  # only the figures that are not zero

    def stored(self) -> dict:
        return {k: str(v) if FIGURES[k] else int(v) for k, v in self.figures.items()}

    @classmethod
    def of(cls, source: SignalSource) -> Contribution:
        figures = {
            k: Decimal(v) if FIGURES.get(k) else int(v)
            for k, v in (source.figures or {}).items()
            if k in FIGURES
        }
        return cls(source.customer_id, source.month, source.store_id, figures)

    @property
    def counts(self) -> bool:
        return self.customer_id is not None and bool(self.figures)


def _nonzero(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if v}


# --- What one source adds -------------------------------------------------------------


def order_contribution(order: Order, lines: Iterable[OrderLine]) -> Contribution:
    if order.customer_id is None or order.status == OrderStatus.CANCELLED:
        return Contribution()
    figures = zero()
    for line in lines:
        kept = line.quantity - line.cancelled_quantity
        if kept <= 0 or line.quantity <= 0:
            continue
        figures["bought_units"] += kept
        figures["bought_value"] += _money(line.line_total * kept / line.quantity)
    return Contribution(order.customer_id, month_of(order.created_at), None, _nonzero(figures))


def return_contribution(
    ret: Return,
    lines: Iterable[ReturnLine],
    *,
    received: dict[int, dt.datetime],
    price_at: Callable[[int, dt.datetime], Decimal],
    rules: SignalSettings,
) -> Contribution:
    """What a completed return adds (nothing until it is completed). `lines` come with
    their `order_line`; `received` maps an order line to when the customer got it."""
    customer_id = ret.customer_id or (ret.order.customer_id if ret.order_id else None)
    if ret.state != ReturnState.COMPLETED or customer_id is None or ret.completed_at is None:
        return Contribution()
    occasion = rules.occasion_ids()
    quick_within = dt.timedelta(days=rules.wardrobing_days)
    figures = zero()
    figures["returns"] = 1
    if not ret.order_id:
        figures["receiptless_returns"] = 1
    for line in lines:
        units = line.quantity
        value = line.refund_amount + line.fee_amount
        if ret.order_id:
            figures["returned_units"] += units
            figures["returned_value"] += value
        else:
            figures["receiptless_units"] += units
            figures["receiptless_value"] += value
        if line.category_id in occasion:
            worn = line.disposition in WORN_DISPOSITIONS and line.reason not in NOT_WORN_REASONS
            got = received.get(line.order_line_id) if line.order_line_id else None
            quick = got is not None and ret.completed_at - got <= quick_within
            figures["worn_units"] += units if worn else 0
            figures["quick_units"] += units if quick else 0
            figures["wardrobing_units"] += units if (worn or quick) else 0
        if line.order_line_id:
            order_line = line.order_line
            paid = order_line.line_total / order_line.quantity if order_line.quantity else None
        else:
            paid = line.unit_basis
        catalogue = price_at(line.variant_id, ret.completed_at)
        if paid is not None and catalogue > paid:
            figures["arbitrage_units"] += units
            figures["arbitrage_gap"] += _money((catalogue - paid) * units)
    return Contribution(customer_id, month_of(ret.completed_at), ret.store_id, _nonzero(figures))


# --- What the contributions need, loaded for many sources at once ---------------------


def received_at(order_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """order line id -> when the customer got it: the latest hand-over or delivery
    holding it. One query."""
    got: dict[int, dt.datetime] = {}
    rows = FulfillmentLine.objects.filter(
        fulfillment__order_id__in=list(order_ids), fulfillment__state__in=SUCCEEDED
    ).values_list("order_line_id", "fulfillment__collected_at", "fulfillment__updated_at")
    for line_id, collected_at, updated_at in rows:
        moment = collected_at or updated_at
        if line_id not in got or moment > got[line_id]:
            got[line_id] = moment
    return got


def price_lookup(variant_ids: Iterable[int]) -> Callable[[int, dt.datetime], Decimal]:
    """A function (variant id, moment) -> the catalogue price in effect then: the last
    recorded change at or before it, else (before any history) the current price.
    Two queries, whatever the number of variants."""
    ids = set(variant_ids)
    history: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for variant_id, at, price in (
        PriceChange.objects.filter(variant_id__in=ids)
        .order_by("variant_id", "at", "pk")
        .values_list("variant_id", "at", "price")
    ):
        moments, prices = history[variant_id]
        moments.append(at)
        prices.append(price)
    current = dict(Variant.objects.filter(pk__in=ids).values_list("pk", "price"))

    def price_at(variant_id: int, moment: dt.datetime) -> Decimal:
        moments, prices = history.get(variant_id, ([], []))
        i = bisect.bisect_right(moments, moment)
        if i:
            return prices[i - 1]
        return current.get(variant_id, Decimal("0.00"))

    return price_at


def _return_lines(return_ids: Iterable[int]) -> dict[int, list[ReturnLine]]:
    by_return: dict[int, list[ReturnLine]] = defaultdict(list)
    for line in (
        ReturnLine.objects.filter(ret_id__in=list(return_ids))
        .select_related("order_line")
        .order_by("pk")
    ):
        by_return[line.ret_id].append(line)
    return by_return


def _returns_contributions(returns: list[Return], rules: SignalSettings) -> dict[int, Contribution]:
    lines = _return_lines(r.pk for r in returns)
    received = received_at({r.order_id for r in returns if r.order_id})
    prices = price_lookup({line.variant_id for group in lines.values() for line in group})
    return {
        r.pk: return_contribution(
            r, lines.get(r.pk, []), received=received, price_at=prices, rules=rules
        )
        for r in returns
    }


def _orders_contributions(orders: list[Order]) -> dict[int, Contribution]:
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=[o.pk for o in orders]):
        lines[line.order_id].append(line)
    return {o.pk: order_contribution(o, lines.get(o.pk, [])) for o in orders}


# --- Applying one source (the receivers) ------------------------------------------------


def _add(customer_id: int, month: dt.date, store_id: int | None, figures: dict, sign: int) -> None:
    bucket, _created = CustomerSignalMonth.objects.get_or_create(
        customer_id=customer_id, month=month, store_id=store_id
    )
    CustomerSignalMonth.objects.filter(pk=bucket.pk).update(
        **{name: F(name) + sign * value for name, value in figures.items()}
    )


@transaction.atomic
def _apply(key: str, new: Contribution) -> bool:
    """Make the tallies hold `new` for this source instead of what it held before.
    Returns whether anything changed (False: a re-delivery, counted once)."""
    SignalSource.objects.get_or_create(key=key)
    source = SignalSource.objects.select_for_update().get(key=key)
    old = Contribution.of(source)
    if (old.customer_id, old.month, old.store_id, old.figures) == (
        new.customer_id,
        new.month,
        new.store_id,
        new.figures,
    ):
        return False
    if old.counts:
        _add(old.customer_id, old.month, old.store_id, old.figures, -1)
    if new.counts:
        _add(new.customer_id, new.month, new.store_id, new.figures, +1)
    source.customer_id, source.month, source.store_id = new.customer_id, new.month, new.store_id
    source.figures = new.stored()
    source.save(update_fields=["customer", "month", "store", "figures", "updated_at"])
    return True


def order_refresh(*, order_id: int) -> bool:
    """Recount what an order adds (placed, cancelled, a line cancelled). A missing
    order adds nothing."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return _apply(f"order:{order_id}", Contribution())
    return _apply(f"order:{order_id}", _orders_contributions([order])[order.pk])


def return_refresh(*, return_id: int) -> bool:
    """Recount what a return adds (completed; nothing while open, refused, cancelled)."""
    ret = Return.objects.select_related("order").filter(pk=return_id).first()
    if ret is None:
        return _apply(f"return:{return_id}", Contribution())
    contribution = _returns_contributions([ret], SignalSettings.load())[ret.pk]
    return _apply(f"return:{return_id}", contribution)


# --- The 12-month figures ---------------------------------------------------------------


def aggregates() -> dict:
    """The sums a window of tallies gives, for `.aggregate()` or `.annotate()`."""
    sums = {f"{name}_sum": Sum(name) for name in FIGURES}
    sums["stores"] = Count("store", distinct=True, filter=Q(returns__gt=0))
    return sums


@dataclass
class Figures:
    """A customer's figures over a window, with `stores` (distinct stores returned at)."""

    stores: int = 0
    values: dict = field(default_factory=zero)

    def __getattr__(self, name):
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    @classmethod
    def from_row(cls, row: dict) -> Figures:
        values = zero()
        for name, is_money in FIGURES.items():
            value = row.get(f"{name}_sum")
            if value is not None:
                values[name] = _money(value) if is_money else int(value)
        return cls(stores=int(row.get("stores") or 0), values=values)


def figures_for(
    customer_id: int, *, months: int = WINDOW_MONTHS, now: dt.datetime | None = None
) -> Figures:
    """One customer's figures over the last `months` months. One query over at most a
    dozen small rows per store they returned at."""
    row = CustomerSignalMonth.objects.filter(
        customer_id=customer_id, month__gte=window_start(months, now)
    ).aggregate(**aggregates())
    return Figures.from_row(row)


# --- Customer merge and erasure ------------------------------------------------------------


def merge_customer(*, survivor, duplicate) -> None:
    """Registered with `retail.customer_data`: the duplicate's tallies add into the
    survivor's (same month and store), and its sources follow it."""
    for bucket in CustomerSignalMonth.objects.filter(customer=duplicate).order_by("pk"):
        figures = _nonzero({name: getattr(bucket, name) for name in FIGURES})
        if figures:
            _add(survivor.pk, bucket.month, bucket.store_id, figures, +1)
    CustomerSignalMonth.objects.filter(customer=duplicate).delete()
    SignalSource.objects.filter(customer=duplicate).update(customer=survivor)


def count_customer(customer) -> int:
    return CustomerSignalMonth.objects.filter(customer=customer).count()


def export_customer(customer) -> list[dict]:
    """The data-rights export: the monthly counts of what the customer bought and
    returned (facts already in their orders and returns). No signal, score, flag or
    clearance: those are staff's judgement and never shown to the customer."""
    rows = (
        CustomerSignalMonth.objects.filter(customer=customer)
        .select_related("store")
        .order_by("month", F("store__code").asc(nulls_first=True))
    )
    return [
        {
            "month": row.month.strftime("%Y-%m"),
            "store": row.store.code if row.store_id else None,
            "units_bought": row.bought_units,
            "value_bought": f"{row.bought_value:.2f}",
            "returns": row.returns,
            "units_returned": row.returned_units + row.receiptless_units,
            "value_returned": f"{row.returned_value + row.receiptless_value:.2f}",
        }
        for row in rows
    ]


def erase_customer(customer) -> None:
    """Signals are about a person: erased with them (orders and returns stay, with no
    customer, so a rebuild adds nothing back)."""
    from returns.risk.models import SignalClearance

    CustomerSignalMonth.objects.filter(customer=customer).delete()
    SignalSource.objects.filter(customer=customer).update(customer=None, figures={})
    SignalClearance.objects.filter(customer=customer).delete()


# --- Rebuilding from history ---------------------------------------------------------------


def rebuild(*, batch: int = 500, write: Callable[[str], None] | None = None) -> dict:
    """Recount every order and return from history, replacing the tallies (one
    transaction: readers see the old tallies or the new ones). Returns the counts."""
    write = write or (lambda text: None)
    rules = SignalSettings.load()
    totals: dict[tuple, dict] = defaultdict(zero)
    done = {"orders": 0, "returns": 0, "tallies": 0}
    with transaction.atomic():
        SignalSource.objects.all().delete()
        CustomerSignalMonth.objects.all().delete()
        for kind, queryset, contributions in (
            ("orders", Order.objects.filter(customer__isnull=False), _orders_contributions),
            (
                "returns",
                Return.objects.filter(state=ReturnState.COMPLETED).select_related("order"),
                lambda rows: _returns_contributions(rows, rules),
            ),
        ):
            ids = list(queryset.order_by("pk").values_list("pk", flat=True))
            write(f"{kind}: {len(ids)} to count")
            for start in range(0, len(ids), batch):
                rows = list(queryset.filter(pk__in=ids[start : start + batch]))
                made = contributions(rows)
                prefix = "order" if kind == "orders" else "return"
                sources = []
                for pk, c in made.items():
                    sources.append(
                        SignalSource(
                            key=f"{prefix}:{pk}",
                            customer_id=c.customer_id,
                            month=c.month,
                            store_id=c.store_id,
                            figures=c.stored(),
                        )
                    )
                    if c.counts:
                        bucket = totals[(c.customer_id, c.month, c.store_id)]
                        for name, value in c.figures.items():
                            bucket[name] += value
                SignalSource.objects.bulk_create(sources, batch_size=batch)
                done[kind] += len(rows)
                write(f"  {kind}: {done[kind]}/{len(ids)}")
        CustomerSignalMonth.objects.bulk_create(
            [
                CustomerSignalMonth(customer_id=customer_id, month=month, store_id=store_id, **f)
                for (customer_id, month, store_id), f in totals.items()
            ],
            batch_size=batch,
        )
        done["tallies"] = len(totals)
    write(f"{done['tallies']} monthly tallies written")
    return done
