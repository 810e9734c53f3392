"""The headline figures: each KPI's value for the period, against the previous period
of the same length, with the definition that explains it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insights import kpis
from insights.dashboard.filters import RegionScope
from insights.dashboard.formats import shown
from insights.models import FulfilmentFact
from insights.templatetags.figures import hours, number, percent
from retail.money import money_text


def ready_hours(scope: kpis.Scope) -> dict:
    """BOPIS hours from order to ready over every store in the scope (the network, a
    region or one store), as `kpis.fulfilment` defines them per store: p50 and p90 of
    `FulfilmentFact.hours_to_ready` of pickup and ship-to-store fulfilments of orders
    placed in the period that became ready. One query."""
    q = Q(day__gte=scope.start, day__lte=scope.end, method__in=("pickup", "ship_to_store"))
    q &= Q(hours_to_ready__isnull=False)
    if scope.store is not None:
        q &= Q(fulfilled_at=scope.store)
    elif isinstance(scope, RegionScope):
        q &= Q(fulfilled_at__in=scope.stores)
    if scope.channel:
        q &= Q(channel=scope.channel)
    values = list(FulfilmentFact.objects.filter(q).values_list("hours_to_ready", flat=True))
    return {"p50": kpis.percentile(values, 50), "p90": kpis.percentile(values, 90)}


# --- Headlines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadlineSpec:
    key: str
    label: object
    kind: str
    kpi: str  # whose definition explains it
    value: Callable[[dict], object]
    network_wide: bool = False


SPECS = (
    HeadlineSpec(
        "revenue", gettext_lazy("Net revenue"), "money", "revenue", lambda f: f["revenue"]["total"]
    ),
    HeadlineSpec(
        "influenced_online",
        gettext_lazy("Store-influenced online revenue"),
        "money",
        "store_influenced_online",
        lambda f: f["store_influenced_online"]["influenced_online"],
    ),
    HeadlineSpec(
        "bopis_share",
        gettext_lazy("BOPIS share of online orders"),
        "percent",
        "fulfilment_mix",
        lambda f: f["fulfilment_mix"]["bopis_share"],
    ),
    HeadlineSpec(
        "conversion",
        gettext_lazy("Cross-channel conversion"),
        "percent",
        "conversion",
        lambda f: f["conversion"]["rate"],
        network_wide=True,
    ),
    HeadlineSpec(
        "clv",
        gettext_lazy("Customer lifetime value (12 months)"),
        "money",
        "clv",
        lambda f: f["clv"]["historic"],
        network_wide=True,
    ),
    HeadlineSpec(
        "repeat_rate",
        gettext_lazy("Repeat-purchase rate"),
        "percent",
        "loyalty",
        lambda f: f["loyalty"]["repeat_rate"],
        network_wide=True,
    ),
    HeadlineSpec(
        "active_90d",
        gettext_lazy("Customers active in the last 90 days"),
        "percent",
        "loyalty",
        lambda f: f["loyalty"]["active_90d"],
        network_wide=True,
    ),
    HeadlineSpec(
        "ready_p50",
        gettext_lazy("BOPIS time to ready (median)"),
        "hours",
        "fulfilment",
        lambda f: f["ready"]["p50"],
    ),
    HeadlineSpec(
        "return_rate",
        gettext_lazy("Return rate"),
        "percent",
        "returns",
        lambda f: f["returns"]["rate"],
    ),
    HeadlineSpec(
        "webrooming",
        gettext_lazy("Webrooming (store orders after an online view)"),
        "percent",
        "webrooming",
        lambda f: f["webrooming"]["share"],
    ),
    HeadlineSpec(
        "showrooming",
        gettext_lazy("Showrooming (online orders after a store visit)"),
        "percent",
        "showrooming",
        lambda f: f["showrooming"]["share"],
    ),
)


@dataclass
class Headline:
    key: str
    label: str
    kind: str
    value: object
    previous: object
    definition: str
    network_wide: bool
    note: str = ""

    @property
    def value_text(self) -> str:
        return shown(self.value, self.kind)

    @property
    def previous_text(self) -> str:
        return shown(self.previous, self.kind)

    @property
    def change(self):
        """Shares: the difference in points; the rest: the relative change (None
        when there is nothing to compare with)."""
        if self.value is None or self.previous is None:
            return None
        if self.kind == "percent":
            return round((float(self.value) - float(self.previous)) * 100, 1)
        if not self.previous:
            return None
        return round((float(self.value) / float(self.previous) - 1) * 100, 1)

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return _("no comparison")
        sign = "+" if change > 0 else ("−" if change < 0 else "±")
        amount = number(abs(Decimal(str(change))))
        if self.kind == "percent":
            return _("%(sign)s%(n)s pts") % {"sign": sign, "n": amount}
        return f"{sign}{amount}%"

    @property
    def direction(self) -> str:
        change = self.change
        return "" if not change else ("up" if change > 0 else "down")


def notes(figures) -> dict[str, str]:
    """The line under each headline that says what it is made of (`figures`: a
    dashboard's `Figures`)."""
    influenced = figures["store_influenced_online"]
    notes = {
        "influenced_online": _("%(share)s of online revenue; store revenue %(store)s")
        % {
            "share": percent(influenced["influenced_share"]),
            "store": money_text(influenced["store_revenue"]),
        },
        "ready_p50": _("p90: %(p90)s") % {"p90": hours(figures["ready"]["p90"])},
        "webrooming": _("%(n)s of %(total)s store orders")
        % {
            "n": number(figures["webrooming"]["webroomed_orders"]),
            "total": number(figures["webrooming"]["store_orders"]),
        },
        "showrooming": _("%(n)s of %(total)s online orders")
        % {
            "n": number(figures["showrooming"]["showroomed_orders"]),
            "total": number(figures["showrooming"]["online_orders"]),
        },
        "return_rate": _("%(units)s units returned; %(refunded)s refunded")
        % {
            "units": number(figures["returns"]["units_returned"]),
            "refunded": money_text(figures["returns"]["refunded"]),
        },
    }
    if "clv" in figures.names:
        notes["clv"] = _("Multichannel customers %(multi)s; single-channel %(single)s") % {
            "multi": money_text(figures["clv"]["multichannel"]["historic"]),
            "single": money_text(figures["clv"]["single_channel"]["historic"]),
        }
    return notes
