"""The abuse signals in words, with the figures behind them: for the associate's return
screen (order page and return detail), the manager's approval and HQ's list. Never
for the customer: kiosk pages, receipts, API responses and e-mails do not use this.

A signal is *raised* when the customer's 12-month figures reach HQ's threshold
(`SignalSettings`); a raised signal that HQ or a manager cleared (and the clearance
still runs) is shown, but no longer sends their returns to a manager. Signals never
refuse a return on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retail.money import money_text
from returns.risk import tally
from returns.risk.models import SignalClearance, SignalSettings

#: Signal codes in the order they are shown, with their short names.
SIGNALS = {
    "serial": gettext_lazy("Serial returner"),
    "wardrobing": gettext_lazy("Wardrobing"),
    "receiptless": gettext_lazy("Returns without a receipt"),
    "stores": gettext_lazy("Returns at many stores"),
    "arbitrage": gettext_lazy("Price arbitrage"),
}


def rate(part, whole) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal (None when `whole` is 0)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value} %"


@dataclass
class Signal:
    code: str
    label: str
    text: str  # the explanation with its figures, in the active language


@dataclass
class Assessment:
    figures: tally.Figures
    summary: str  # the return rate in words
    signals: list[Signal] = field(default_factory=list)  # the raised ones
    clearance: SignalClearance | None = None

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.signals]

    @property
    def score(self) -> int:
        return len(self.signals)

    @property
    def uncleared(self) -> list[Signal]:
        cleared = set(self.clearance.signals) if self.clearance is not None else set()
        return [s for s in self.signals if s.code not in cleared]

    @property
    def flagged(self) -> bool:
        """Do this customer's returns wait for a manager because of the signals?"""
        return bool(self.uncleared)


def _serial_raised(f: tally.Figures, rules: SignalSettings) -> bool:
    if f.returns < rules.serial_min_returns:
        return False
    threshold = rules.serial_rate_percent
    if not f.bought_units:
        return f.returned_units > 0
    by_units = f.returned_units * 100 >= threshold * f.bought_units
    by_value = f.bought_value > 0 and f.returned_value * 100 >= threshold * f.bought_value
    return by_units or by_value


def assess(
    figures: tally.Figures,
    rules: SignalSettings,
    *,
    clearance: SignalClearance | None = None,
    months: int = tally.WINDOW_MONTHS,
) -> Assessment:
    """The customer's signals over the window, explained with their figures."""
    f = figures
    unit_rate, value_rate = (
        rate(f.returned_units, f.bought_units),
        rate(f.returned_value, f.bought_value),
    )
    if f.bought_units:
        summary = _(
            "In the last %(months)s months: %(returned)s of %(bought)s units bought were "
            "returned (%(unit_rate)s), %(returned_value)s of %(bought_value)s by value "
            "(%(value_rate)s), in %(returns)s returns."
        ) % {
            "months": months,
            "returned": f.returned_units,
            "bought": f.bought_units,
            "unit_rate": _pct(unit_rate),
            "returned_value": money_text(f.returned_value),
            "bought_value": money_text(f.bought_value),
            "value_rate": _pct(value_rate),
            "returns": f.returns,
        }
    else:
        summary = _(
            "In the last %(months)s months: nothing bought; %(returns)s returns "
            "(%(units)s units with a receipt)."
        ) % {"months": months, "returns": f.returns, "units": f.returned_units}
    signals = []

    def raise_(code: str, text: str) -> None:
        signals.append(Signal(code, str(SIGNALS[code]), text))

    if _serial_raised(f, rules):
        raise_(
            "serial",
            _(
                "%(returns)s returns with a return rate of %(unit_rate)s by units and "
                "%(value_rate)s by value: HQ's threshold is %(threshold)s %% with at least "
                "%(min)s returns."
            )
            % {
                "returns": f.returns,
                "unit_rate": _pct(unit_rate),
                "value_rate": _pct(value_rate),
                "threshold": rules.serial_rate_percent.normalize(),
                "min": rules.serial_min_returns,
            },
        )
    if f.wardrobing_units >= rules.wardrobing_min_units:
        raise_(
            "wardrobing",
            _(
                "%(units)s units of occasion wear returned worn (%(worn)s) or within "
                "%(days)s days of collection (%(quick)s): HQ's threshold is %(min)s units."
            )
            % {
                "units": f.wardrobing_units,
                "worn": f.worn_units,
                "days": rules.wardrobing_days,
                "quick": f.quick_units,
                "min": rules.wardrobing_min_units,
            },
        )
    if f.receiptless_returns >= rules.receiptless_min_returns:
        raise_(
            "receiptless",
            _(
                "%(returns)s returns without a receipt (%(units)s units, %(value)s in store "
                "credit): HQ's threshold is %(min)s returns."
            )
            % {
                "returns": f.receiptless_returns,
                "units": f.receiptless_units,
                "value": money_text(f.receiptless_value),
                "min": rules.receiptless_min_returns,
            },
        )
    if f.stores >= rules.stores_min:
        raise_(
            "stores",
            _("Returns at %(stores)s different stores: HQ's threshold is %(min)s stores.")
            % {"stores": f.stores, "min": rules.stores_min},
        )
    if f.arbitrage_units >= rules.arbitrage_min_units:
        raise_(
            "arbitrage",
            _(
                "%(units)s units returned that were bought for less than their catalogue "
                "price at the return (or returned without a receipt below it), %(gap)s "
                "below that price in all. Refunds follow what was paid, never the "
                "catalogue price: HQ's threshold is %(min)s units."
            )
            % {
                "units": f.arbitrage_units,
                "gap": money_text(f.arbitrage_gap),
                "min": rules.arbitrage_min_units,
            },
        )
    return Assessment(f, summary, signals, clearance)


def clearance_for(customer_id: int, now=None) -> SignalClearance | None:
    """The customer's clearance still running, if any. One query."""
    return (
        SignalClearance.objects.filter(
            customer_id=customer_id, valid_until__gt=now or timezone.now()
        )
        .select_related("cleared_by", "store")
        .order_by("-created_at", "-pk")
        .first()
    )


def for_customer(customer, *, rules: SignalSettings | None = None) -> Assessment | None:
    """A customer's signals now (None without a customer). Three queries."""
    if customer is None:
        return None
    customer_id = customer if isinstance(customer, int) else customer.pk
    rules = rules or SignalSettings.load()
    figures = tally.figures_for(customer_id)
    return assess(figures, rules, clearance=clearance_for(customer_id))


def approval_reason(customer) -> str:
    """Why a manager approves this customer's return because of the signals ("" when
    none is raised, or all raised ones are cleared). Words for staff only."""
    assessment = for_customer(customer)
    if assessment is None or not assessment.flagged:
        return ""
    return _("Return signals for this customer (%(signals)s): a manager approves") % {
        "signals": ", ".join(s.label for s in assessment.uncleared)
    }


# --- The same thresholds in SQL, for HQ's list ------------------------------------------


def score_annotations(rules: SignalSettings) -> dict:
    """Annotations over `tally.aggregates()` giving each signal as 0/1 (`sig_<code>`)
    and their sum (`score`): the same rules as `assess`, so the list sorts and filters
    in the database and agrees with the words on each row."""
    threshold = rules.serial_rate_percent
    one = Value(1)

    def flag(condition: Q) -> Case:
        return Case(When(condition, then=one), default=Value(0), output_field=IntegerField())

    serial = Q(returns_sum__gte=rules.serial_min_returns) & (
        Q(bought_units_sum=0, returned_units_sum__gt=0)
        | Q(bought_units_sum__gt=0, ru100__gte=F("bu_threshold"))
        | Q(bought_value_sum__gt=0, rv100__gte=F("bv_threshold"))
    )
    return {
        "ru100": F("returned_units_sum") * 100,
        "bu_threshold": F("bought_units_sum") * threshold,
        "rv100": F("returned_value_sum") * 100,
        "bv_threshold": F("bought_value_sum") * threshold,
        "sig_serial": flag(serial),
        "sig_wardrobing": flag(Q(wardrobing_units_sum__gte=rules.wardrobing_min_units)),
        "sig_receiptless": flag(Q(receiptless_returns_sum__gte=rules.receiptless_min_returns)),
        "sig_stores": flag(Q(stores__gte=rules.stores_min)),
        "sig_arbitrage": flag(Q(arbitrage_units_sum__gte=rules.arbitrage_min_units)),
    }


def score_expression():
    return sum((F(f"sig_{code}") for code in SIGNALS), Value(0))
