"""Channel-usage segments, defined once.

A customer's segment comes from their per-customer rollup (`CustomerSummary`, their
whole history up to the last refresh), decided in this order — the first that fits:

1. **browsers** — viewed products online, never bought;
2. **omnichannel** — both ways: at least one webroomed store purchase *and* one
   showroomed online purchase;
3. **webroomers** — at least one store or kiosk purchase of a product (or its
   category) they had viewed online in the journey window before;
4. **showroomers** — at least one online purchase after an assisted-selling session
   or a kiosk visit in the journey window before;
5. **omnichannel** — bought both online and in store, without such a journey;
6. **web_only** — bought online only; **store_only** — bought in store (or at a
   kiosk) only.

A customer with neither a purchase nor a view has no segment. The journey window is
`AISLE_INSIGHTS_WINDOW_DAYS`; "online" is web, app and social, "in store" is store
and kiosk.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

BROWSERS = "browsers"
OMNICHANNEL = "omnichannel"
WEBROOMERS = "webroomers"
SHOWROOMERS = "showroomers"
WEB_ONLY = "web_only"
STORE_ONLY = "store_only"
SEGMENTS = (WEBROOMERS, SHOWROOMERS, WEB_ONLY, STORE_ONLY, OMNICHANNEL, BROWSERS)

LABELS = {
    WEBROOMERS: gettext_lazy("Webroomers"),
    SHOWROOMERS: gettext_lazy("Showroomers"),
    WEB_ONLY: gettext_lazy("Web only"),
    STORE_ONLY: gettext_lazy("Store only"),
    OMNICHANNEL: gettext_lazy("Omnichannel"),
    BROWSERS: gettext_lazy("Never-bought browsers"),
}
DEFINITIONS = {
    WEBROOMERS: gettext_lazy(
        "Bought in a store or at a kiosk a product (or one of its category) they had "
        "viewed online in the days before."
    ),
    SHOWROOMERS: gettext_lazy(
        "Bought online after an associate served them or after a kiosk visit in the days before."
    ),
    WEB_ONLY: gettext_lazy("Bought online only (web, app or social)."),
    STORE_ONLY: gettext_lazy("Bought in store or at a kiosk only."),
    OMNICHANNEL: gettext_lazy(
        "Bought both online and in store: both ways (webroomed and showroomed), or "
        "in both channels without such a journey."
    ),
    BROWSERS: gettext_lazy("Viewed products online but never bought."),
}
ZERO = Decimal("0.00")


def classify(summary) -> str:
    """The segment of a customer's `CustomerSummary` (the order of the module's rules)."""
    if summary.orders == 0:
        return BROWSERS if summary.views else ""
    if summary.webroomed_orders and summary.showroomed_orders:
        return OMNICHANNEL
    if summary.webroomed_orders:
        return WEBROOMERS
    if summary.showroomed_orders:
        return SHOWROOMERS
    if summary.online_orders and summary.store_orders:
        return OMNICHANNEL
    return WEB_ONLY if summary.online_orders else STORE_ONLY


@dataclass
class SegmentWhy:
    segment: str
    label: str
    why: str


def segment_for(customer) -> SegmentWhy | None:
    """A customer's segment with why it applies, in words (for the badge on the
    customer page); None when they have none (or are not rolled up yet)."""
    from insights.models import CustomerSummary

    summary = CustomerSummary.objects.filter(customer_id=customer.pk).first()
    if summary is None or not summary.segment:
        return None
    days = settings.AISLE_INSIGHTS_WINDOW_DAYS
    numbers = {
        "views": summary.views,
        "orders": summary.orders,
        "online": summary.online_orders,
        "store": summary.store_orders,
        "webroomed": summary.webroomed_orders,
        "showroomed": summary.showroomed_orders,
        "days": days,
    }
    both_ways = summary.webroomed_orders and summary.showroomed_orders
    why = {
        BROWSERS: _("Online product views: %(views)s; no purchase yet."),
        WEBROOMERS: _(
            "Store purchases after an online view of the same product or category within "
            "%(days)s days: %(webroomed)s."
        ),
        SHOWROOMERS: _(
            "Online purchases after in-store service or a kiosk visit within %(days)s "
            "days: %(showroomed)s."
        ),
        OMNICHANNEL: _(
            "Both ways — store purchases after viewing online: %(webroomed)s; online "
            "purchases after in-store service or a kiosk visit: %(showroomed)s."
        )
        if both_ways
        else _("Buys both online (orders: %(online)s) and in store (orders: %(store)s)."),
        WEB_ONLY: _("Every purchase was online (orders: %(orders)s)."),
        STORE_ONLY: _("Every purchase was in store (orders: %(orders)s)."),
    }[summary.segment] % numbers
    return SegmentWhy(summary.segment, str(LABELS[summary.segment]), why)


def segment_figures(start, end) -> dict[str, dict]:
    """Per segment: customers (count), their net revenue in [start, end] (net of
    returns), CLV (that revenue per customer), return rate (units returned ÷ units
    bought, of those purchases) and the trend (net revenue by month). Three queries."""
    from insights.models import CustomerSummary, PurchaseFact

    counts = dict(
        CustomerSummary.objects.exclude(segment="")
        .values_list("segment")
        .annotate(n=Count("pk"))
        .values_list("segment", "n")
    )
    in_period = Q(day__gte=start, day__lte=end)
    money = {
        row["segment"]: row
        for row in PurchaseFact.objects.filter(in_period)
        .values(segment=_segment_of())
        .annotate(net=Sum("net"), units=Sum("units"), returned=Sum("units_returned"))
    }
    trend: dict[str, list] = defaultdict(list)
    for row in (
        PurchaseFact.objects.filter(in_period)
        .annotate(month=TruncMonth("day"))
        .values("month", segment=_segment_of())
        .annotate(net=Sum("net"))
        .order_by("month")
    ):
        trend[row["segment"]].append((row["month"].strftime("%Y-%m"), row["net"]))
    result = {}
    for segment in SEGMENTS:
        n = counts.get(segment, 0)
        row = money.get(segment, {})
        net = row.get("net") or ZERO
        units = row.get("units") or 0
        result[segment] = {
            "customers": n,
            "revenue": net,
            "clv": (net / n).quantize(Decimal("0.01")) if n else ZERO,
            "return_rate": round((row.get("returned") or 0) / units, 4) if units else 0.0,
            "trend": trend.get(segment, []),
        }
    return result


def _segment_of():
    from django.db.models import OuterRef, Subquery

    from insights.models import CustomerSummary

    return Subquery(
        CustomerSummary.objects.filter(customer_id=OuterRef("customer_id")).values("segment")[:1]
    )
