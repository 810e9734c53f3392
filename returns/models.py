"""Returns (BORIS): a return points at an order's lines and never edits the order.

What the order must know — units claimed and returned, refunds — is written through
`orders.returning`; the return keeps its own record of what was asked, decided and
refunded, with an event history (who, when, where, from → to, why).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import StockLocation
from orders.models import Order, OrderLine
from retail.models import Category, Customer, Store, Variant


class ReturnState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")


#: state -> states it may move to (design.md "Order and fulfilment states").
RETURN_TRANSITIONS = {
    ReturnState.REQUESTED: frozenset(
        {ReturnState.COMPLETED, ReturnState.AWAITING_APPROVAL, ReturnState.CANCELLED}
    ),
    ReturnState.AWAITING_APPROVAL: frozenset(
        {ReturnState.COMPLETED, ReturnState.REFUSED, ReturnState.CANCELLED}
    ),
}
OPEN_STATES = frozenset({ReturnState.REQUESTED, ReturnState.AWAITING_APPROVAL})


class Reason(models.TextChoices):
    SIZE = "size", _("Wrong size")
    FIT = "fit", _("Does not fit")
    QUALITY = "quality", _("Quality")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    CHANGED_MIND = "changed_mind", _("Changed mind")
    DAMAGED = "damaged", _("Arrived damaged")
    OTHER = "other", _("Other")


class Disposition(models.TextChoices):
    RESTOCK = "restock", _("Restock: sellable again here")
    DAMAGED = "damaged", _("Damaged: held, not sellable")
    VENDOR = "vendor", _("Return to vendor")
    DONATE = "donate", _("Donate")


class RefundTo(models.TextChoices):
    ORIGINAL = "original", _("Original payment")
    STORE_CREDIT = "store_credit", _("Store credit")


class StartedVia(models.TextChoices):
    ONLINE = "online", _("Online")
    COUNTER = "counter", _("Store counter")
    KIOSK = "kiosk", _("Kiosk")


class Return(models.Model):
    return_ref = models.CharField(_("return reference"), max_length=64, unique=True)
    code = models.CharField(
        _("return code"),
        max_length=12,
        unique=True,
        help_text=_("What the customer shows at any store to finish the return."),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
        help_text=_("Empty for a return without receipt."),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    state = models.CharField(_("state"), max_length=20, choices=ReturnState.choices)
    started_via = models.CharField(_("started"), max_length=10, choices=StartedVia.choices)
    order_channel = models.CharField(
        _("order's channel"), max_length=10, blank=True, help_text=_("Where it was bought.")
    )
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receiving store"),
    )
    location = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received at"),
    )
    refund_to = models.CharField(
        _("refund to"), max_length=12, choices=RefundTo.choices, default=RefundTo.ORIGINAL
    )
    refund_amount = models.DecimalField(
        _("refunded"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    fee_amount = models.DecimalField(
        _("restocking fee"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    tax_amount = models.DecimalField(
        _("tax included"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    approval_reasons = models.JSONField(_("why approval is needed"), default=list, blank=True)
    decision_reason = models.CharField(_("decision note"), max_length=300, blank=True)
    request_fingerprint = models.CharField(_("request fingerprint"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "store"], name="return_state_store_idx"),
            models.Index(fields=["order"], name="return_order_idx"),
            models.Index(fields=["customer"], name="return_customer_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0, fee_amount__gte=0), name="return_money_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=False) | Q(customer__isnull=False),
                name="return_order_or_customer",
            ),
        ]

    def __str__(self) -> str:
        return self.return_ref

    @property
    def has_receipt(self) -> bool:
        return self.order_id is not None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class ReturnLine(models.Model):
    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(_("SKU"), max_length=40)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    conditions = models.JSONField(
        _("conditions confirmed"),
        default=list,
        blank=True,
        help_text=_("What the associate checked."),
    )
    note = models.CharField(_("condition note"), max_length=300, blank=True)
    photo = models.ImageField(_("photo"), upload_to="returns/%Y/%m/", blank=True)
    disposition = models.CharField(
        _("disposition"), max_length=10, choices=Disposition.choices, blank=True
    )
    unit_basis = models.DecimalField(
        _("value basis per unit"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Without a receipt: the lowest price of the last 90 days."),
    )
    refund_amount = models.DecimalField(
        _("refunded"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    fee_amount = models.DecimalField(
        _("fee"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnline_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class ReturnEvent(models.Model):
    """The return's history: who, when, where, from → to, why."""

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), default=timezone.now)
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
    kind = models.CharField(_("event"), max_length=40)
    from_state = models.CharField(_("from"), max_length=20, blank=True)
    to_state = models.CharField(_("to"), max_length=20, blank=True)
    reason = models.CharField(_("why"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("return event")
        verbose_name_plural = _("return events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.from_state}→{self.to_state}"
