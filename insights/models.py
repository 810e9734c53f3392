"""Insights' rollups: what the KPI functions read, never raw orders or events.

Two families, both written only by `insights.rollups` (delete and re-compute a key in
one transaction, so a refresh is idempotent):

- **per store and day** (`SalesDay`, `OrderDay`, `RefundDay`, `FulfilmentFact`,
  `AssociateDay`, `JournalDay`), keyed by (store, day). The store is the order's
  store (a till sale, an order placed in store, a pickup's store); online orders
  without one fall under "no store". The day is the store-local date for store and
  kiosk sales and the reporting time zone's date (`AISLE_REPORTING_TIME_ZONE`) for
  online orders; refunds and returns count on the day they happen, in their order's
  bucket.
- **per customer** (`CustomerChannel`, `CustomerSummary`, `PurchaseFact`,
  `BrowseDay`), keyed by customer: segments, CLV, loyalty and conversion come from them.

Domain-event receivers mark keys dirty (`DirtyDay`, `DirtyCustomer`: one idempotent
row per key); the beat task re-computes only those.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retail.models import Category, Customer, Store

ZERO = Decimal("0.00")


def _money(name: str) -> models.DecimalField:
    return models.DecimalField(name, max_digits=14, decimal_places=2, default=ZERO)


def _store(**kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
        **kwargs,
    )


def _per_store_day(name: str, *fields: str) -> list[models.UniqueConstraint]:
    """One row per key: (day, store, *fields) — with a store, and without one."""
    return [
        models.UniqueConstraint(
            fields=["day", "store", *fields],
            condition=Q(store__isnull=False),
            name=f"{name}_unique_store",
        ),
        models.UniqueConstraint(
            fields=["day", *fields], condition=Q(store__isnull=True), name=f"{name}_unique_online"
        ),
    ]


# --- Dirty keys -----------------------------------------------------------------------------


class DirtyDay(models.Model):
    """A (store, day) whose rollups must be re-computed; empty store: online orders."""

    store = _store()
    day = models.DateField(_("day"))
    marked_at = models.DateTimeField(_("marked"), default=timezone.now)

    class Meta:
        verbose_name = _("day to refresh")
        verbose_name_plural = _("days to refresh")
        constraints = _per_store_day("dirtyday")

    def __str__(self) -> str:
        return f"{self.store_id or '-'} {self.day}"


class DirtyCustomer(models.Model):
    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    marked_at = models.DateTimeField(_("marked"), default=timezone.now)

    class Meta:
        verbose_name = _("customer to refresh")
        verbose_name_plural = _("customers to refresh")

    def __str__(self) -> str:
        return f"customer #{self.customer_id}"


class RefreshMark(models.Model):
    """How far the beat task has looked at data that raises no domain event
    (browsing, selling sessions): one row per source."""

    source = models.CharField(_("source"), max_length=40, unique=True)
    at = models.DateTimeField(_("seen up to"))

    class Meta:
        verbose_name = _("refresh mark")
        verbose_name_plural = _("refresh marks")

    def __str__(self) -> str:
        return f"{self.source} {self.at:%Y-%m-%d %H:%M}"


# --- Per store and day ----------------------------------------------------------------------


class SalesDay(models.Model):
    """Sales of one category in one store (or online), channel and day.

    Units and money count what the customer kept of the orders placed that day
    (cancelled and expired units left out): `gross` at catalog price, `net` as paid,
    `discount` the difference, `tax` the tax included in `net`. `units_returned` and
    `returned_value` are returns completed that day (whatever day the sale was)."""

    day = models.DateField(_("day"))
    store = _store()
    channel = models.CharField(_("channel"), max_length=10)
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="+", verbose_name=_("category")
    )
    orders = models.PositiveIntegerField(_("orders with this category"), default=0)
    units = models.PositiveIntegerField(_("units kept"), default=0)
    units_cancelled = models.PositiveIntegerField(_("units cancelled"), default=0)
    gross = _money(_("gross"))
    discount = _money(_("discount"))
    net = _money(_("net"))
    tax = _money(_("tax"))
    units_returned = models.PositiveIntegerField(_("units returned"), default=0)
    returned_value = _money(_("returned value"))

    class Meta:
        verbose_name = _("sales by day")
        verbose_name_plural = _("sales by day")
        constraints = _per_store_day("salesday", "channel", "category")
        indexes = [models.Index(fields=["day", "channel"], name="salesday_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id or '-'} {self.channel} {self.category_id}"


class OrderDay(models.Model):
    """Orders placed in one store (or online), channel and day, with their journeys."""

    day = models.DateField(_("day"))
    store = _store()
    channel = models.CharField(_("channel"), max_length=10)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    cancelled_orders = models.PositiveIntegerField(_("cancelled or expired orders"), default=0)
    net = _money(_("net sales"))
    bopis_orders = models.PositiveIntegerField(_("orders to collect in store"), default=0)
    sfs_orders = models.PositiveIntegerField(_("orders shipped from a store"), default=0)
    webroomed_orders = models.PositiveIntegerField(_("webroomed orders"), default=0)
    webroomed_net = _money(_("webroomed net sales"))
    showroomed_orders = models.PositiveIntegerField(_("showroomed orders"), default=0)
    showroomed_net = _money(_("showroomed net sales"))
    attributed_net = _money(_("credited to associates"))

    class Meta:
        verbose_name = _("orders by day")
        verbose_name_plural = _("orders by day")
        constraints = _per_store_day("orderday", "channel")
        indexes = [models.Index(fields=["day", "channel"], name="orderday_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id or '-'} {self.channel}"


class RefundDay(models.Model):
    """Refunds paid on one day for orders of one store (or online) and channel."""

    day = models.DateField(_("day"))
    store = _store()
    channel = models.CharField(_("channel"), max_length=10)
    tender = models.CharField(_("tender"), max_length=30)
    to_store_credit = models.BooleanField(_("as store credit"), default=False)
    from_return = models.BooleanField(_("for a return"), default=False)
    refunds = models.PositiveIntegerField(_("refunds"), default=0)
    amount = _money(_("amount"))
    tax = _money(_("tax"))

    class Meta:
        verbose_name = _("refunds by day")
        verbose_name_plural = _("refunds by day")
        constraints = _per_store_day(
            "refundday", "channel", "tender", "to_store_credit", "from_return"
        )

    def __str__(self) -> str:
        return f"{self.day} {self.store_id or '-'} {self.channel} {self.amount}"


class FulfilmentFact(models.Model):
    """One fulfilment (not a till sale) of an order placed that day, with its timings
    in hours; `fulfilled_at` is the store that held or shipped it."""

    day = models.DateField(_("order day"))
    store = _store()
    fulfillment = models.OneToOneField(
        "orders.Fulfillment", on_delete=models.CASCADE, related_name="+"
    )
    fulfilled_at = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fulfilled at"),
    )
    channel = models.CharField(_("channel"), max_length=10)
    method = models.CharField(_("method"), max_length=16)
    state = models.CharField(_("state"), max_length=12)
    hours_to_ready = models.FloatField(_("hours from order to ready"), null=True, blank=True)
    hours_held = models.FloatField(_("hours held until collected"), null=True, blank=True)
    hours_to_ship = models.FloatField(_("hours from order to shipped"), null=True, blank=True)
    short_lines = models.PositiveIntegerField(_("lines short at picking"), default=0)

    class Meta:
        verbose_name = _("fulfilment fact")
        verbose_name_plural = _("fulfilment facts")
        indexes = [
            models.Index(fields=["day", "store"], name="fulfilmentfact_day_idx"),
            models.Index(fields=["fulfilled_at", "day"], name="fulfilmentfact_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.method} {self.state}"


class AssociateDay(models.Model):
    """One associate's clienteling and credited sales in one store on one day (the
    store's local day): sessions opened, actions, credits for orders placed that day,
    pickups handed over, follow-ups done and converted."""

    day = models.DateField(_("day"))
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sessions = models.PositiveIntegerField(_("assisted-selling sessions"), default=0)
    actions = models.PositiveIntegerField(_("clienteling actions"), default=0)
    credited_orders = models.PositiveIntegerField(_("credited orders"), default=0)
    credited_store = _money(_("credited store sales"))
    credited_online = _money(_("credited online sales"))
    reversed_store = _money(_("reversed store credit"))
    reversed_online = _money(_("reversed online credit"))
    pickups_handed = models.PositiveIntegerField(_("pickups handed over"), default=0)
    followups_done = models.PositiveIntegerField(_("follow-ups done"), default=0)
    followups_converted = models.PositiveIntegerField(_("follow-ups converted"), default=0)

    class Meta:
        verbose_name = _("associate by day")
        verbose_name_plural = _("associates by day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "store", "associate"], name="associateday_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id} {self.associate_id}"


class JournalKind(models.TextChoices):
    """The lines of finance's daily journal, in the order the journal lists them."""

    SALE = "sale", _("Sales")
    TAX = "tax", _("Tax in sales")
    REFUND = "refund", _("Refunds of returns")
    REFUND_TAX = "refund_tax", _("Tax in refunds of returns")
    CANCEL_REFUND = "cancel_refund", _("Refunds of cancelled units")
    PAYMENT = "payment", _("Payments taken")
    CREDIT_ISSUED = "credit_issued", _("Store credit issued")
    CREDIT_RESTORED = "credit_restored", _("Store credit restored")
    CREDIT_SPENT = "credit_spent", _("Store credit spent")


def _journal_unique() -> list[models.UniqueConstraint]:
    """One row per (day, store, kind, tender, tax rate); store and rate may be empty."""
    constraints = []
    for store in (True, False):
        for rate in (True, False):
            fields = ["day", *(["store"] if store else []), "kind", "tender"]
            fields += ["tax_rate"] if rate else []
            constraints.append(
                models.UniqueConstraint(
                    fields=fields,
                    condition=Q(store__isnull=not store, tax_rate__isnull=not rate),
                    name=f"journalday_unique_{'store' if store else 'online'}"
                    f"_{'rate' if rate else 'norate'}",
                )
            )
    return constraints


class JournalDay(models.Model):
    """One line of finance's journal for one store (or online orders without one) and
    day, in the dates of `insights.dates`: `amount` (tax included, never negative: the
    kind says which way the money went) and how many records made it (`count`).

    - `sale` per tax rate: what customers paid for the units they kept of the orders
      placed that day; `tax` per rate: the tax included in it.
    - `refund` per tender: refunds of returns paid that day (tender `store_credit` when
      paid out as store credit); `refund_tax` per rate: the tax included in them.
    - `cancel_refund` per tender: refunds of units cancelled, expired or refused —
      never sold, so not revenue either way.
    - `payment` per tender: payments taken that day (store credit spent included).
    - `credit_issued`, `credit_restored`, `credit_spent`: the store-credit ledger's
      movements that day (a merge's moves between profiles left out)."""

    day = models.DateField(_("day"))
    store = _store()
    kind = models.CharField(_("line"), max_length=16, choices=JournalKind.choices)
    tender = models.CharField(_("tender"), max_length=30, blank=True)
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    amount = _money(_("amount"))
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        constraints = _journal_unique()
        indexes = [models.Index(fields=["day", "store"], name="journalday_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id or '-'} {self.kind} {self.amount}"


# --- Per customer ----------------------------------------------------------------------------


class CustomerChannel(models.Model):
    """A customer's purchases in one channel: orders (not cancelled), what they kept
    less what returns refunded, units, first and last purchase."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=10)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    net = _money(_("net revenue"))
    units = models.PositiveIntegerField(_("units kept"), default=0)
    units_returned = models.PositiveIntegerField(_("units returned"), default=0)
    first_at = models.DateTimeField(_("first purchase"))
    last_at = models.DateTimeField(_("last purchase"))

    class Meta:
        verbose_name = _("customer channel")
        verbose_name_plural = _("customer channels")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="customerchannel_unique")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}"


class CustomerSummary(models.Model):
    """Everything about one customer's journey the segments read (see
    `insights.segments` for how `segment` is decided)."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    views = models.PositiveIntegerField(_("online product views"), default=0)
    first_view_at = models.DateTimeField(_("first view"), null=True, blank=True)
    last_view_at = models.DateTimeField(_("last view"), null=True, blank=True)
    sessions = models.PositiveIntegerField(_("assisted-selling sessions"), default=0)
    kiosk_visits = models.PositiveIntegerField(_("kiosk visits"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    online_orders = models.PositiveIntegerField(_("online orders"), default=0)
    store_orders = models.PositiveIntegerField(_("store orders"), default=0)
    net = _money(_("net revenue"))
    units = models.PositiveIntegerField(_("units kept"), default=0)
    units_returned = models.PositiveIntegerField(_("units returned"), default=0)
    first_purchase_at = models.DateTimeField(_("first purchase"), null=True, blank=True)
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, blank=True)
    webroomed_orders = models.PositiveIntegerField(_("webroomed orders"), default=0)
    showroomed_orders = models.PositiveIntegerField(_("showroomed orders"), default=0)
    segment = models.CharField(_("segment"), max_length=12, blank=True, db_index=True)
    refreshed_at = models.DateTimeField(_("refreshed"), default=timezone.now)

    class Meta:
        verbose_name = _("customer summary")
        verbose_name_plural = _("customer summaries")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.segment}"


class PurchaseFact(models.Model):
    """One order of a customer (not cancelled): its day, channel and what it is worth
    net of returns. CLV, loyalty and segment trends add these up."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    at = models.DateTimeField(_("placed"))
    channel = models.CharField(_("channel"), max_length=10)
    net = _money(_("net revenue"))
    units = models.PositiveIntegerField(_("units kept"), default=0)
    units_returned = models.PositiveIntegerField(_("units returned"), default=0)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        indexes = [
            models.Index(fields=["day"], name="purchasefact_day_idx"),
            models.Index(fields=["customer", "day"], name="purchasefact_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.customer_id} {self.net}"


class BrowseDay(models.Model):
    """A day (reporting time zone) a customer viewed products online, and the first
    order they placed in the journey window after that day's first view."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    views = models.PositiveIntegerField(_("views"), default=0)
    converted_channel = models.CharField(_("bought in"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("browsing day")
        verbose_name_plural = _("browsing days")
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="browseday_unique")]
        indexes = [models.Index(fields=["day"], name="browseday_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.customer_id}"


# --- Incentives ------------------------------------------------------------------------------


class IncentiveWeights(models.Model):
    """HQ's weights for associates' incentive figures (one row; see
    `insights.incentives`)."""

    own_store_sales = models.DecimalField(
        _("own store sales (percent of credited sales)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
    )
    attributed_online = models.DecimalField(
        _("attributed online sales (percent of credited sales)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
    )
    pickup_handed = models.DecimalField(
        _("per pickup handed over"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.50"),
    )
    followup_converted = models.DecimalField(
        _("per follow-up converted"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("1.00"),
    )
    returns_deducted = models.DecimalField(
        _("returns deducted (percent of the credit they reverse)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("100.00"),
        help_text=_(
            "A return takes back this share of what the credit it reverses earned; "
            "100 takes it all back."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("incentive weights")
        verbose_name_plural = _("incentive weights")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    own_store_sales__gte=0,
                    attributed_online__gte=0,
                    pickup_handed__gte=0,
                    followup_converted__gte=0,
                    returns_deducted__gte=0,
                ),
                name="incentiveweights_gte_0",
            )
        ]

    def __str__(self) -> str:
        return str(_("Incentive weights"))

    WEIGHTS = (
        "own_store_sales",
        "attributed_online",
        "pickup_handed",
        "followup_converted",
        "returns_deducted",
    )

    def clean(self) -> None:
        errors = {}
        for name in self.WEIGHTS:
            value = getattr(self, name)
            if value is None:
                continue
            if value < 0:
                errors[name] = _("A weight cannot be negative.")
        percents = ("own_store_sales", "attributed_online", "returns_deducted")
        for name in percents:
            value = getattr(self, name)
            if value is not None and value > 100 and name not in errors:
                errors[name] = _("A percentage cannot be more than 100.")
        if not errors and all(
            (getattr(self, name) or 0) == 0 for name in self.WEIGHTS if name != "returns_deducted"
        ):
            errors["own_store_sales"] = _(
                "At least one weight must be above zero, or every figure would be nothing."
            )
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls) -> IncentiveWeights:
        return cls.objects.order_by("pk").first() or cls()
