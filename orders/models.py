"""One order model for every channel, with lines, payments, refunds and fulfilments.

Each fulfilment has its own state machine (`TRANSITIONS`); every change locks
the order row and writes an `OrderEvent` (who, when, from → to, why). Figures
are written by `orders.services` only.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.models import StockLocation
from retail.models import Customer, Store, Variant


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    APP = "app", _("App")
    STORE = "store", _("Store")
    KIOSK = "kiosk", _("Kiosk")
    SOCIAL = "social", _("Social")


class OrderStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("status of an order", "Open")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Method(models.TextChoices):
    PICKUP = "pickup", _("Pickup in store")
    SHIP_TO_STORE = "ship_to_store", _("Ship to store")
    SHIP_TO_HOME = "ship_to_home", _("Ship to home")
    SHIP_FROM_STORE = "ship_from_store", _("Ship from store")
    DROP_SHIP = "drop_ship", _("Drop-ship")
    CARRY_OUT = "carry_out", _("Carry-out")


class State(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    PICKING = "picking", _("Picking")
    READY = "ready", _("Ready")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COLLECTED = "collected", _("Collected")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


S = State
# The state machines of design.md, one per method: state -> states it may move to.
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    Method.PICKUP: {
        S.RESERVED: frozenset({S.PICKING, S.CANCELLED}),
        S.PICKING: frozenset({S.READY, S.CANCELLED}),
        S.READY: frozenset({S.COLLECTED, S.CANCELLED, S.EXPIRED}),
    },
    Method.SHIP_TO_STORE: {
        S.RESERVED: frozenset({S.IN_TRANSIT, S.CANCELLED}),
        # Units on the road cannot be called back: cancel once received.
        S.IN_TRANSIT: frozenset({S.RECEIVED}),
        S.RECEIVED: frozenset({S.PICKING, S.CANCELLED}),
        S.PICKING: frozenset({S.READY, S.CANCELLED}),
        S.READY: frozenset({S.COLLECTED, S.CANCELLED, S.EXPIRED}),
    },
    Method.SHIP_TO_HOME: {
        S.RESERVED: frozenset({S.PICKING, S.CANCELLED}),
        S.PICKING: frozenset({S.PACKED, S.CANCELLED}),
        S.PACKED: frozenset({S.SHIPPED, S.CANCELLED}),
        S.SHIPPED: frozenset({S.DELIVERED}),
    },
    Method.SHIP_FROM_STORE: {
        S.RESERVED: frozenset({S.PICKING, S.CANCELLED}),
        S.PICKING: frozenset({S.PACKED, S.CANCELLED}),
        S.PACKED: frozenset({S.SHIPPED, S.CANCELLED}),
        S.SHIPPED: frozenset({S.DELIVERED}),
    },
    Method.DROP_SHIP: {
        S.RESERVED: frozenset({S.SHIPPED, S.CANCELLED}),
        S.SHIPPED: frozenset({S.DELIVERED}),
    },
    Method.CARRY_OUT: {},
}
ENDED = frozenset({S.COLLECTED, S.DELIVERED, S.CANCELLED, S.EXPIRED})
SUCCEEDED = frozenset({S.COLLECTED, S.DELIVERED})
# States in which the fulfilment's units are still reserved at its location.
HOLDS_RESERVATION = frozenset({S.RESERVED, S.RECEIVED, S.PICKING, S.READY, S.PACKED})
# Not yet handed over or shipped: what a cancel may still stop.
CANCELLABLE = frozenset({S.RESERVED, S.RECEIVED, S.PICKING, S.READY, S.PACKED})


class OrderQuerySet(models.QuerySet):
    def for_customer(self, customer: Customer) -> OrderQuerySet:
        return self.filter(customer=customer)


class Order(models.Model):
    order_ref = models.CharField(_("order reference"), max_length=64, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("customer"),
    )
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("store"),
        help_text=_("The store of a pickup, a till sale or an order placed in store."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    currency = models.CharField(_("currency"), max_length=3)
    subtotal = models.DecimalField(_("subtotal"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(
        _("discount"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    address = models.JSONField(_("delivery address"), null=True, blank=True)
    credited_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("associate credited"),
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("placed by"),
    )
    request_fingerprint = models.CharField(
        _("request fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("SHA-256 of the API request that created the order (idempotency)."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="order_discount_gte_0"),
        ]
        indexes = [models.Index(fields=["channel", "created_at"], name="order_channel_idx")]

    def __str__(self) -> str:
        return self.order_ref


class OrderLine(models.Model):
    """A SKU bought: what it cost, its share of the order's discount and its tax
    share — all a later return needs to refund exactly."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(_("SKU"), max_length=40)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    catalog_price = models.DecimalField(_("catalog price"), max_digits=10, decimal_places=2)
    unit_price = models.DecimalField(_("unit price paid"), max_digits=10, decimal_places=2)
    discount_share = models.DecimalField(
        _("share of the order discount"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    tax_amount = models.DecimalField(_("tax included"), max_digits=12, decimal_places=2)
    cancelled_quantity = models.PositiveIntegerField(_("cancelled quantity"), default=0)
    # What the customer got (handed over or delivered), and what returns claim of it:
    # requested or completed (`claimed_quantity`), completed (`returned_quantity`).
    # Written by `orders.services` only; the CHECKs below make an over-claim uncommittable.
    received_quantity = models.PositiveIntegerField(
        _("received quantity"), default=0, help_text=_("Units handed over or delivered.")
    )
    claimed_quantity = models.PositiveIntegerField(
        _("claimed by returns"),
        default=0,
        help_text=_("Units that requested or completed returns claim."),
    )
    returned_quantity = models.PositiveIntegerField(
        _("returned quantity"), default=0, help_text=_("Units whose return is completed.")
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(cancelled_quantity__lte=models.F("quantity")),
                name="orderline_cancelled_lte_quantity",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__lte=models.F("catalog_price")),
                name="orderline_price_lte_catalog",
            ),
            models.CheckConstraint(
                condition=Q(
                    received_quantity__lte=models.F("quantity") - models.F("cancelled_quantity")
                ),
                name="orderline_received_lte_kept",
            ),
            models.CheckConstraint(
                condition=Q(claimed_quantity__lte=models.F("received_quantity")),
                name="orderline_claimed_lte_received",
            ),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=models.F("claimed_quantity")),
                name="orderline_returned_lte_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"

    @property
    def ref(self) -> str:
        return f"order_line:{self.pk}"


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    tender = models.CharField(_("tender"), max_length=30)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.tender} {self.amount}"


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(_("at"), default=timezone.now)
    source = models.CharField(
        _("source"), max_length=64, blank=True, help_text=_("What caused it, e.g. fulfillment:12.")
    )
    tender = models.CharField(
        _("tender"),
        max_length=30,
        blank=True,
        help_text=_("The payment's tender this refund goes back against."),
    )
    to_store_credit = models.BooleanField(
        _("as store credit"),
        default=False,
        help_text=_("Paid out as store credit instead of to the tender."),
    )
    return_ref = models.CharField(_("return reference"), max_length=64, blank=True, db_index=True)
    tax_amount = models.DecimalField(
        _("tax included"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0")]

    def __str__(self) -> str:
        return f"{self.amount} ({self.reason})"


class Fulfillment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillments")
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    location = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        related_name="fulfillments",
        verbose_name=_("source location"),
    )
    pickup_store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pickups",
        verbose_name=_("pickup store"),
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    ready_by = models.DateTimeField(_("ready by"), null=True, blank=True)
    # The promise the order was placed with (never moved): its date, and why this
    # source (`inventory.promise.Reason`, rendered in the reader's language).
    promised_by = models.DateTimeField(_("promised by"), null=True, blank=True)
    promise = models.JSONField(_("promise"), default=dict, blank=True)
    late_notice_at = models.DateTimeField(_("customer told it is late"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("customer checked in"), null=True, blank=True)
    pickup_code = models.CharField(_("pickup code"), max_length=12, blank=True)
    # Wrong codes typed for this pickup; at the limit (`AISLE_PICKUP_CODE_MISSES`) its
    # code is locked until a store manager unlocks it (the ID path still works).
    code_misses = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    code_locked_at = models.DateTimeField(_("code locked"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready since"), null=True, blank=True)
    hold_until = models.DateTimeField(
        _("held until"), null=True, blank=True, help_text=_("A ready pickup expires after this.")
    )
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    collected_at = models.DateTimeField(
        _("handed over or delivered"),
        null=True,
        blank=True,
        help_text=_("When the customer got the units: a return's window counts from here."),
    )
    tracking_ref = models.CharField(_("tracking reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("fulfilment")
        verbose_name_plural = _("fulfilments")
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["pickup_store", "state"], name="fulfillment_pickup_idx"),
            models.Index(fields=["location", "state"], name="fulfillment_location_idx"),
            models.Index(fields=["state", "hold_until"], name="fulfillment_hold_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order.order_ref} {self.get_method_display()} ({self.get_state_display()})"

    def can_transition(self, to: str) -> bool:
        return to in TRANSITIONS[self.method].get(self.state, frozenset())

    @property
    def ended(self) -> bool:
        return self.state in ENDED


class FulfillmentLine(models.Model):
    fulfillment = models.ForeignKey(Fulfillment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="fulfillment_lines"
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    picked_quantity = models.PositiveIntegerField(_("picked"), default=0)
    refused_quantity = models.PositiveIntegerField(
        _("refused at hand-over"), default=0, help_text=_("Units the customer refused.")
    )
    refused_reason = models.CharField(_("why refused"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("fulfilment line")
        verbose_name_plural = _("fulfilment lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="fulfillmentline_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(picked_quantity__lte=models.F("quantity")),
                name="fulfillmentline_picked_lte_quantity",
            ),
            models.CheckConstraint(
                condition=Q(refused_quantity__lte=models.F("quantity")),
                name="fulfillmentline_refused_lte_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.sku}"

    @property
    def ref(self) -> str:
        return f"fulfillment_line:{self.pk}"


class OrderEvent(models.Model):
    """The order's history: who, when, from → to, why. Shown on the tablet and in admin."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    fulfillment = models.ForeignKey(
        Fulfillment, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    kind = models.CharField(_("event"), max_length=40)
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("where"),
        help_text=_("The store where it happened (empty: online or the system)."),
    )
    from_state = models.CharField(_("from"), max_length=12, blank=True)
    to_state = models.CharField(_("to"), max_length=12, blank=True)
    reason = models.CharField(_("why"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.from_state}→{self.to_state}"


class ReceivingDiscrepancy(models.Model):
    """What a store found when it received a ship-to-store parcel, per order line: of
    the units sent, how many arrived in good condition, how many never arrived (short)
    and how many arrived damaged. Written once, by `orders.shipping.transfer_receive`;
    the damaged units are in the store's hold through the ledger, the short ones written
    off there, and the units missing from the order were re-sourced or cancelled."""

    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        related_name="receiving_discrepancies",
        verbose_name=_("order"),
    )
    fulfillment = models.ForeignKey(
        Fulfillment,
        on_delete=models.CASCADE,
        related_name="receiving_discrepancies",
        verbose_name=_("fulfilment"),
    )
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="+", verbose_name=_("order line")
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("received at")
    )
    from_location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent from")
    )
    sent = models.PositiveIntegerField(_("sent"))
    good = models.PositiveIntegerField(_("received in good condition"))
    short = models.PositiveIntegerField(_("short (never arrived)"))
    damaged = models.PositiveIntegerField(_("damaged"))
    resourced = models.PositiveIntegerField(
        _("re-sourced"), default=0, help_text=_("Missing units reserved again elsewhere.")
    )
    cancelled = models.PositiveIntegerField(
        _("cancelled and refunded"), default=0, help_text=_("Missing units no stock could replace.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )

    class Meta:
        verbose_name = _("receiving discrepancy")
        verbose_name_plural = _("receiving discrepancies")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sent=models.F("good") + models.F("short") + models.F("damaged")),
                name="receivingdiscrepancy_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(short__gt=0) | Q(damaged__gt=0),
                name="receivingdiscrepancy_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(
                    resourced__lte=models.F("short") + models.F("damaged"),
                    cancelled__lte=models.F("short") + models.F("damaged"),
                ),
                name="receivingdiscrepancy_outcome_lte_missing",
            ),
            models.UniqueConstraint(
                fields=["fulfillment", "order_line"], name="receivingdiscrepancy_once_per_line"
            ),
        ]
        indexes = [models.Index(fields=["store", "at"], name="receivingdiscrepancy_store_idx")]

    def __str__(self) -> str:
        return f"{self.order.order_ref} {self.order_line.sku}: -{self.short} / x{self.damaged}"


# --- Store credit ------------------------------------------------------------------------


class StoreCredit(models.Model):
    """A customer's store credit: the balance that returns issue and later orders spend
    (tender `store_credit`). Written only by `orders.credit`, under a row lock; the CHECK
    makes an overspend impossible to commit."""

    customer = models.OneToOneField(
        Customer,
        on_delete=models.PROTECT,
        related_name="store_credit",
        verbose_name=_("customer"),
    )
    balance = models.DecimalField(
        _("balance"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("store credit")
        verbose_name_plural = _("store credit")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="storecredit_balance_gte_0")
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.balance}"


class CreditKind(models.TextChoices):
    ISSUED = "issued", _("Credit issued")
    SPENT = "spent", _("Spent")
    RESTORED = "restored", _("Restored")
    ADJUSTED = "adjusted", _("Adjusted")


class StoreCreditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The store credit ledger is append-only.")

    def delete(self):
        raise PermissionError("The store credit ledger is append-only.")


class StoreCreditEntry(models.Model):
    """One movement of a customer's store credit: + issued or restored, − spent;
    `balance_after` is the account's balance once it was applied. Append-only (on
    PostgreSQL a trigger refuses UPDATE and DELETE too)."""

    account = models.ForeignKey(
        StoreCredit, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    balance_after = models.DecimalField(_("balance after"), max_digits=12, decimal_places=2)
    kind = models.CharField(_("kind"), max_length=10, choices=CreditKind.choices)
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
        verbose_name=_("order"),
    )
    return_ref = models.CharField(_("return reference"), max_length=64, blank=True)
    reason = models.CharField(_("why"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("where"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    objects = StoreCreditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("store credit entry")
        verbose_name_plural = _("store credit ledger")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="storecreditentry_amount_not_0"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="storecreditentry_balance_after_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The store credit ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The store credit ledger is append-only.")
