"""`JournalDay`: finance's daily journal of one (store, day), computed from the records
in the same transaction as the key's other rollups (`days.refresh_day`).

Dated as every rollup is (`insights.dates`): an order's sales on the day it was placed,
its payments, refunds and store-credit movements on the day they happened, all in the
order's bucket (the store's day for store and kiosk sales, the reporting day for online
orders). A store-credit movement without an order (credit for a return without a
receipt, goodwill) counts in the store where it happened, on its local day, or under
"no store" on the reporting day.

The journal ties out with `kpis.revenue`: Σ `sale` is `OrderDay.net` (the same kept
value of each line) and Σ `refund` is the refunds of returns in `RefundDay`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from insights.dates import day_bounds, in_day, local_day, reporting_tz
from insights.models import JournalDay, JournalKind
from insights.rollups.common import CENT, ZERO, kept_value, tax_in
from retail.models import Store

K = JournalKind
CREDIT_KINDS = {"issued": K.CREDIT_ISSUED, "restored": K.CREDIT_RESTORED, "spent": K.CREDIT_SPENT}
STORE_CREDIT = "store_credit"

# (kind, tender, tax rate) -> [amount, count]
Lines = dict[tuple[str, str, Decimal | None], list]


def refresh_journal(store: Store | None, day: dt.date) -> None:
    """Write the key's journal lines (the caller deleted the old ones)."""
    lines: Lines = defaultdict(lambda: [ZERO, 0])
    _sales(store, day, lines)
    _payments(store, day, lines)
    _refunds(store, day, lines)
    _credit(store, day, lines)
    store_id = store.pk if store else None
    JournalDay.objects.bulk_create(
        [
            JournalDay(
                day=day,
                store_id=store_id,
                kind=kind,
                tender=tender,
                tax_rate=rate,
                amount=amount,
                count=count,
            )
            for (kind, tender, rate), (amount, count) in lines.items()
            if amount or count
        ]
    )


def _of_orders(store: Store | None, day: dt.date, prefix: str, at: str) -> Q:
    """Rows of the key's orders (through `prefix`) whose `at` falls on the key's day."""
    store_id = store.pk if store else None
    return Q(**{f"{prefix}store_id": store_id}) & in_day(
        store, day, at=at, channel=f"{prefix}channel"
    )


def _sales(store: Store | None, day: dt.date, lines: Lines) -> None:
    """`sale` and `tax` per rate: the kept value of the day's orders' lines, counted as
    `SalesDay` and `OrderDay` count it; the count is the orders with units kept."""
    from orders.models import OrderLine

    orders: dict[Decimal, set[int]] = defaultdict(set)
    for order_id, quantity, cancelled, total, rate in OrderLine.objects.filter(
        _of_orders(store, day, "order__", "order__created_at")
    ).values_list("order_id", "quantity", "cancelled_quantity", "line_total", "tax_rate"):
        if quantity - cancelled <= 0:
            continue
        net = kept_value(total, quantity, cancelled)
        orders[rate].add(order_id)
        lines[(K.SALE, "", rate)][0] += net
        lines[(K.TAX, "", rate)][0] += tax_in(net, rate)
    for rate, ids in orders.items():
        lines[(K.SALE, "", rate)][1] = len(ids)
        lines[(K.TAX, "", rate)][1] = len(ids)


def _payments(store: Store | None, day: dt.date, lines: Lines) -> None:
    from orders.models import Payment

    for tender, amount in Payment.objects.filter(
        _of_orders(store, day, "order__", "at")
    ).values_list("tender", "amount"):
        cell = lines[(K.PAYMENT, tender, None)]
        cell[0] += amount
        cell[1] += 1


def _refunds(store: Store | None, day: dt.date, lines: Lines) -> None:
    """`refund` (returns) and `cancel_refund` (units never kept) per tender the money
    went back to, and `refund_tax` per rate (`_refund_tax`)."""
    from orders.models import Refund

    taxed: list[tuple[str, Decimal]] = []
    for tender, as_credit, return_ref, amount, tax in Refund.objects.filter(
        _of_orders(store, day, "order__", "at")
    ).values_list("tender", "to_store_credit", "return_ref", "amount", "tax_amount"):
        kind = K.REFUND if return_ref else K.CANCEL_REFUND
        cell = lines[(kind, STORE_CREDIT if as_credit else (tender or "other"), None)]
        cell[0] += amount
        cell[1] += 1
        if return_ref and tax:
            taxed.append((return_ref, tax))
    _refund_tax(taxed, lines)


def _refund_tax(taxed: list[tuple[str, Decimal]], lines: Lines) -> None:
    """The tax of each refund of a return, shared over the tax rates of the lines the
    return refunded in proportion to their refunds (the last rate takes the rounding
    remainder); a return whose lines are unknown puts its tax under no rate. The count
    is the refunds with tax at that rate."""
    from returns.models import ReturnLine

    if not taxed:
        return
    weights: dict[str, dict[Decimal, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for ref, rate, refunded in ReturnLine.objects.filter(
        ret__return_ref__in={ref for ref, _tax in taxed}, order_line__isnull=False
    ).values_list("ret__return_ref", "order_line__tax_rate", "refund_amount"):
        weights[ref][rate] += refunded
    for ref, tax in taxed:
        shares = sorted(weights.get(ref, {}).items())
        whole = sum((w for _rate, w in shares), ZERO)
        if not shares or whole <= 0:
            shares, whole = [(None, Decimal(1))], Decimal(1)
        left = tax
        for i, (rate, weight) in enumerate(shares):
            last = i == len(shares) - 1
            part = left if last else (tax * weight / whole).quantize(CENT, ROUND_HALF_UP)
            left -= part
            cell = lines[(K.REFUND_TAX, "", rate)]
            cell[0] += part
            cell[1] += 1


def _credit(store: Store | None, day: dt.date, lines: Lines) -> None:
    """The store-credit ledger's movements of the key: those of the key's orders on the
    day, and those without an order made in the key's store (or in none) on its day."""
    from orders.models import StoreCreditEntry

    start, end = day_bounds(day, store.tz if store is not None else reporting_tz())
    without_order = Q(
        order__isnull=True, store_id=store.pk if store else None, at__gte=start, at__lt=end
    )
    for kind, amount in StoreCreditEntry.objects.filter(
        (Q(order__isnull=False) & _of_orders(store, day, "order__", "at")) | without_order,
        kind__in=list(CREDIT_KINDS),
    ).values_list("kind", "amount"):
        cell = lines[(CREDIT_KINDS[kind], STORE_CREDIT, None)]
        cell[0] += abs(amount)
        cell[1] += 1


def credit_day_keys(stores: dict[int, Store]) -> set[tuple[int | None, dt.date]]:
    """Every (store, day) a store-credit movement falls on (for the full rebuild)."""
    from orders.models import StoreCreditEntry

    keys: set[tuple[int | None, dt.date]] = set()
    for order_store, channel, store_id, at in (
        StoreCreditEntry.objects.filter(kind__in=list(CREDIT_KINDS))
        .values_list("order__store_id", "order__channel", "store_id", "at")
        .iterator(chunk_size=5000)
    ):
        if channel:  # an order's movement: the order's bucket
            keys.add((order_store, local_day(at, stores.get(order_store), channel)))
        else:  # none: where it happened, as a store sale there
            keys.add((store_id, local_day(at, stores.get(store_id), "store")))
    return keys
