"""The abuse-signal models (imported by `returns.models`, so Django finds them)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The figures a tally keeps (and each source adds): name -> is money.
FIGURES: dict[str, bool] = {
    "bought_units": False,
    "bought_value": True,
    "returns": False,
    "returned_units": False,
    "returned_value": True,
    "receiptless_returns": False,
    "receiptless_units": False,
    "receiptless_value": True,
    "worn_units": False,
    "quick_units": False,
    "wardrobing_units": False,
    "arbitrage_units": False,
    "arbitrage_gap": True,
}


class SignalSettings(models.Model):
    """HQ's thresholds for the abuse signals: one row (edited in admin)."""

    serial_rate_percent = models.DecimalField(
        _("serial returner: return rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("40.00"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "A customer is a serial returner when they return at least this share of what "
            "they bought in 12 months (by units or by value)…"
        ),
    )
    serial_min_returns = models.PositiveSmallIntegerField(
        _("serial returner: minimum returns"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("…and made at least this many returns in those 12 months."),
    )
    occasion_categories = models.ManyToManyField(
        "retail.Category",
        blank=True,
        related_name="+",
        verbose_name=_("occasion-wear categories"),
        help_text=_(
            "Wardrobing is looked for in these categories (evening wear, suits, dresses). "
            "A change applies to returns completed from then on; run "
            "`manage.py rebuild_return_signals` to apply it to the history."
        ),
    )
    wardrobing_days = models.PositiveSmallIntegerField(
        _("wardrobing: days between collection and return"),
        default=3,
        validators=[MaxValueValidator(90)],
        help_text=_(
            "Occasion wear returned within this many days of collection or delivery counts "
            "as a short time (worn for one occasion)."
        ),
    )
    wardrobing_min_units = models.PositiveSmallIntegerField(
        _("wardrobing: minimum units"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Occasion-wear units returned worn or after a short time, in 12 months."),
    )
    receiptless_min_returns = models.PositiveSmallIntegerField(
        _("receipt-less: minimum returns"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Returns without a receipt in 12 months that raise the signal."),
    )
    stores_min = models.PositiveSmallIntegerField(
        _("many stores: minimum stores"),
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text=_("Returns spread over at least this many different stores in 12 months."),
    )
    arbitrage_min_units = models.PositiveSmallIntegerField(
        _("price arbitrage: minimum units"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_(
            "Units returned that were bought at a discount (or returned without a receipt) "
            "while the catalogue price is higher, in 12 months."
        ),
    )
    clearance_days = models.PositiveSmallIntegerField(
        _("a cleared flag lasts (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_(
            "After HQ or a manager clears a customer's flag, their returns no longer wait "
            "for a manager because of these signals for this many days."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("return signal settings")
        verbose_name_plural = _("return signal settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="signalsettings_single_row"),
            models.CheckConstraint(
                condition=Q(serial_rate_percent__gt=0, serial_rate_percent__lte=100),
                name="signalsettings_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Return signal settings"))

    @classmethod
    def load(cls) -> SignalSettings:
        """The one row (made with the defaults the first time). One query."""
        row = cls.objects.filter(pk=1).first()
        if row is None:
            row, _created = cls.objects.get_or_create(pk=1)
        return row

    def occasion_ids(self) -> frozenset[int]:
        if not hasattr(self, "_occasion_ids"):
            self._occasion_ids = frozenset(
                self.occasion_categories.values_list("pk", flat=True) if self.pk else ()
            )
        return self._occasion_ids


def _count():
    return models.IntegerField(default=0)


def _money():
    return models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))


class CustomerSignalMonth(models.Model):
    """One customer's tally for one month (network time zone) and one store (none for
    what they bought, which counts wherever they bought it): the 12-month figures are
    a sum over these few rows."""

    customer = models.ForeignKey(
        "retail.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    month = models.DateField(_("month"), help_text=_("Its first day."))
    store = models.ForeignKey(
        "retail.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    # The figures (FIGURES): bought, returned, and what each signal counts.
    bought_units = _count()
    bought_value = _money()
    returns = _count()
    returned_units = _count()
    returned_value = _money()
    receiptless_returns = _count()
    receiptless_units = _count()
    receiptless_value = _money()
    worn_units = _count()
    quick_units = _count()
    wardrobing_units = _count()
    arbitrage_units = _count()
    arbitrage_gap = _money()

    class Meta:
        verbose_name = _("customer return tally")
        verbose_name_plural = _("customer return tallies")
        constraints = [
            models.UniqueConstraint(
                "customer", "month", Coalesce("store", 0), name="signalmonth_one_per_store"
            ),
        ]
        indexes = [models.Index(fields=["month", "customer"], name="signalmonth_month_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m} {self.store_id or '-'}"


class SignalSource(models.Model):
    """What one order or one return added to a tally: a re-delivered event recomputes
    it and applies only the difference, so it counts once."""

    key = models.CharField(_("source"), max_length=40, unique=True)  # "order:7", "return:9"
    customer = models.ForeignKey(
        "retail.Customer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    month = models.DateField(null=True, blank=True)
    store = models.ForeignKey(
        "retail.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    figures = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("return signal source")
        verbose_name_plural = _("return signal sources")
        indexes = [models.Index(fields=["customer"], name="signalsource_customer_idx")]

    def __str__(self) -> str:
        return self.key


class SignalClearance(models.Model):
    """HQ or a store manager cleared a customer's flag, with a reason: for a while their
    returns no longer wait for a manager because of the signals cleared."""

    customer = models.ForeignKey(
        "retail.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    signals = models.JSONField(_("signals cleared"), default=list)
    reason = models.CharField(_("reason"), max_length=300)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cleared by"),
    )
    store = models.ForeignKey(
        "retail.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("at store"),
    )
    created_at = models.DateTimeField(_("cleared"), default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"))

    class Meta:
        verbose_name = _("return signal clearance")
        verbose_name_plural = _("return signal clearances")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["customer", "valid_until"], name="signalclear_cust_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="signalclearance_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.created_at:%Y-%m-%d}"
