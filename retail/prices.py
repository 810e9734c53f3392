"""Price history reads: what a variant cost over a past window.

The history is kept from the day Aisle started recording it (`PriceChange`, written
by `Variant.save()`); before that, and for a variant without history, the current
price is all Aisle knows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Min
from django.utils import timezone

from retail.models import PriceChange, Variant


def lowest_price(variant: Variant, *, days: int = 90, at: dt.datetime | None = None) -> Decimal:
    """The lowest price in effect at any moment of the `days` days up to `at` (now).

    The price in effect when the window opens counts: that is the last change at or
    before its start. With no history up to `at`, the variant's current price.
    """
    at = at or timezone.now()
    start = at - dt.timedelta(days=days)
    changes = PriceChange.objects.filter(variant_id=variant.pk)
    opening = changes.filter(at__lte=start).order_by("-at", "-pk").values_list("price", flat=True)
    prices = list(opening[:1])
    low = changes.filter(at__gt=start, at__lte=at).aggregate(low=Min("price"))["low"]
    if low is not None:
        prices.append(low)
    if not prices:
        return variant.price
    return min(prices).quantize(Decimal("0.01"))
