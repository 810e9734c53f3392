"""What the rollup builders share: the journey window, a line's kept value, tax."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.conf import settings

from insights.models import (
    BrowseDay,
    CustomerChannel,
    CustomerSummary,
    FulfilmentFact,
    JournalDay,
    OrderDay,
    PurchaseFact,
    RefundDay,
    SalesDay,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CUSTOMER_BATCH = 500
PER_STORE_DAY = (SalesDay, OrderDay, RefundDay, FulfilmentFact, JournalDay)
PER_CUSTOMER = (CustomerChannel, CustomerSummary, PurchaseFact, BrowseDay)
BOPIS_METHODS = ("pickup", "ship_to_store")


def window() -> dt.timedelta:
    """The journey window (`AISLE_INSIGHTS_WINDOW_DAYS`)."""
    return dt.timedelta(days=settings.AISLE_INSIGHTS_WINDOW_DAYS)


def kept_value(line_total: Decimal, quantity: int, cancelled: int) -> Decimal:
    """What the units of a line the customer kept were paid: the line total less its
    cancelled units, each unit worth the total ÷ quantity rounded down to the cent
    (the last unit taking the remainder), as `orders.services.units_value` spreads it."""
    if cancelled <= 0:
        return line_total
    if cancelled >= quantity:
        return ZERO
    base = (line_total / quantity).quantize(CENT, rounding=ROUND_DOWN)
    return line_total - base * cancelled


def tax_in(amount: Decimal, rate: Decimal) -> Decimal:
    """The tax included in a tax-inclusive amount at `rate` per cent."""
    return (amount * rate / (Decimal(100) + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def _hours(later: dt.datetime | None, earlier: dt.datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return round((later - earlier).total_seconds() / 3600, 4)
