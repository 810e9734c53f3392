"""Finance's daily journal, read from its rollup (`JournalDay`): the CSV's rows and the
page's summary per store, for a period of days and every store (and online orders
without one) or one store. A fixed number of queries whatever the period.

What ties with the dashboards: a store's sales less its refunds of returns is
`kpis.revenue` for the same days and store (`net`). What does not, on purpose:
store credit spent is a tender (a payment), not revenue; store credit issued for a
return is that return's refund (tender `store_credit`), not a second one; a return
without a receipt is credit issued only (revenue does not deduct it either); refunds of
cancelled units were never sales; payments follow the day the money was taken (a
pickup paid at the counter on the day it is collected), not the day of the sale."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, F, IntegerField, Sum, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insights.models import JournalDay, JournalKind
from retail.money import money_heading

ZERO = Decimal("0.00")
K = JournalKind
TENDER_LABELS = {
    "card": gettext_lazy("Card"),
    "cash": gettext_lazy("Cash"),
    "store_credit": gettext_lazy("Store credit"),
}
KIND_RANK = Case(
    *(When(kind=kind, then=Value(i)) for i, kind in enumerate(JournalKind.values)),
    output_field=IntegerField(),
)


def csv_header() -> list[str]:
    """The CSV's columns, in this order (the README says what each holds). The amount
    is a plain number a spreadsheet sums; its header names the currency ("Amount (€)")."""
    return [
        _("Day"),
        _("Store"),
        _("Line"),
        _("Tender"),
        _("Tax rate (%)"),
        _("Count"),
        money_heading(_("Amount")),
        _("Currency"),
    ]


def _lines(start: dt.date, end: dt.date, store=None):
    rows = JournalDay.objects.filter(day__gte=start, day__lte=end)
    return rows.filter(store=store) if store is not None else rows


def csv_rows(start: dt.date, end: dt.date, store=None) -> Iterator[list]:
    """One row per store × day × line, by day, store (online orders last), line,
    tender and rate; money as plain decimals with two places."""
    currency = settings.AISLE_CURRENCY
    rows = (
        _lines(start, end, store)
        .order_by(
            "day",
            F("store__code").asc(nulls_last=True),
            KIND_RANK,
            "tender",
            F("tax_rate").asc(nulls_first=True),
        )
        .values_list("day", "store__code", "kind", "tender", "tax_rate", "count", "amount")
    )
    for day, code, kind, tender, rate, count, amount in rows.iterator(chunk_size=2000):
        yield [
            day.isoformat(),
            code or "",
            kind,
            tender,
            "" if rate is None else f"{rate:.2f}",
            count,
            f"{amount:.2f}",
            currency,
        ]


@dataclass
class StoreJournal:
    """One store's (or online orders') journal over the period."""

    code: str  # "" for online orders without a store
    amounts: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    tax: dict = field(default_factory=lambda: defaultdict(lambda: [ZERO, ZERO]))
    tenders: dict = field(default_factory=lambda: defaultdict(lambda: [ZERO, ZERO]))

    @property
    def net(self) -> Decimal:
        """Sales less refunds of returns: the dashboards' net revenue."""
        return self.amounts[K.SALE] - self.amounts[K.REFUND]

    def add(self, kind: str, tender: str, rate, amount: Decimal) -> None:
        self.amounts[kind] += amount
        if kind in (K.TAX, K.REFUND_TAX):
            self.tax[rate][0 if kind == K.TAX else 1] += amount
        elif kind == K.PAYMENT:
            self.tenders[tender][0] += amount
        elif kind in (K.REFUND, K.CANCEL_REFUND):
            self.tenders[tender][1] += amount

    def sorted_tax(self) -> list[tuple]:
        """(rate, tax in sales, tax in refunds), rates ascending (unknown last)."""
        items = sorted(self.tax.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        return [(rate, sold, refunded) for rate, (sold, refunded) in items]

    def sorted_tenders(self) -> list[tuple]:
        """(tender's label, taken, refunded, taken − refunded), by tender."""
        return [
            (TENDER_LABELS.get(t, t), taken, back, taken - back)
            for t, (taken, back) in sorted(self.tenders.items())
        ]


@dataclass
class Journal:
    stores: list[StoreJournal]
    total: StoreJournal


def summary(start: dt.date, end: dt.date, store=None) -> Journal:
    """Every store's journal over the period (online orders last) and their total."""
    per_store: dict[str, StoreJournal] = {}
    total = StoreJournal(code="*")
    rows = (
        _lines(start, end, store)
        .values("store__code", "kind", "tender", "tax_rate")
        .annotate(amount=Sum("amount"))
        .values_list("store__code", "kind", "tender", "tax_rate", "amount")
    )
    for code, kind, tender, rate, amount in rows:
        journal = per_store.setdefault(code or "", StoreJournal(code=code or ""))
        journal.add(kind, tender, rate, amount)
        total.add(kind, tender, rate, amount)
    ordered = sorted(per_store.values(), key=lambda j: (j.code == "", j.code))
    return Journal(stores=ordered, total=total)
