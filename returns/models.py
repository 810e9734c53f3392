"""Returns (BORIS): the policies HQ sets (per category, and the network's default),
the exceptions HQ grants, and the returns themselves.

A return points at an order's lines and never edits the order. What the order must
know — units claimed and returned, refunds — is written through `orders.returning`;
the return keeps its own record of what was asked, decided and refunded, with an
event history (who, when, where, from → to, why). The engine that reads the
policies is `returns.policy`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import StockLocation
from orders.models import Order, OrderLine
from retail.models import Category, Customer, Store, Variant


class FeeKind(models.TextChoices):
    NONE = "none", _("No fee")
    FIXED = "fixed", _("Fixed amount per unit")
    PERCENT = "percent", _("Percent of the refund")


class ReturnPolicy(models.Model):
    """How a category's products may be returned; the one without a category is the
    network's default, used for every category without its own policy."""

    category = models.OneToOneField(
        "retail.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="return_policy",
        verbose_name=_("category"),
        help_text=_("Leave empty for the network's default policy."),
    )
    window_days = models.PositiveSmallIntegerField(
        _("return window (days)"),
        default=30,
        validators=[MaxValueValidator(3650)],
        help_text=_("Counted from collection or delivery, in the receiving store's time zone."),
    )
    final_sale = models.BooleanField(
        _("final sale"),
        default=False,
        help_text=_("Nothing in this category can be returned (unless HQ grants an exception)."),
    )
    require_unworn = models.BooleanField(_("must be unworn"), default=False)
    require_tags = models.BooleanField(_("tags must be attached"), default=False)
    require_packaging = models.BooleanField(_("must be in its original packaging"), default=False)
    fee_kind = models.CharField(
        _("restocking fee"), max_length=10, choices=FeeKind.choices, default=FeeKind.NONE
    )
    fee_value = models.DecimalField(
        _("fee value"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text=_("Fixed: an amount per returned unit. Percent: a share of the refund."),
    )
    receiptless_allowed = models.BooleanField(
        _("returns without a receipt"),
        default=False,
        help_text=_(
            "With a manager's approval, refunded as store credit at the lowest price of the "
            "last 90 days."
        ),
    )
    approval_threshold = models.DecimalField(
        _("manager approval above"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("500.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text=_("A return refunding more than this waits for a store manager."),
    )
    note = models.TextField(
        _("note"), blank=True, help_text=_("Why the policy is what it is, for HQ and the stores.")
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
        verbose_name = _("return policy")
        verbose_name_plural = _("return policies")
        ordering = ["category__name"]
        constraints = [
            # At most one default: a category-less policy counts as category 0.
            models.UniqueConstraint(
                Coalesce("category", 0),
                name="returnpolicy_one_default",
                violation_error_message=_("There is already a default policy for the network."),
            ),
            models.CheckConstraint(
                condition=Q(fee_value__gte=0), name="returnpolicy_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(fee_kind=FeeKind.PERCENT) | Q(fee_value__lte=100),
                name="returnpolicy_percent_at_most_100",
                violation_error_message=_("A percentage fee cannot be above 100."),
            ),
            models.CheckConstraint(
                condition=Q(fee_kind__in=FeeKind.values), name="returnpolicy_fee_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(approval_threshold__gte=0), name="returnpolicy_threshold_not_negative"
            ),
        ]

    def __str__(self) -> str:
        if self.category_id is None:
            return str(_("Network default policy"))
        return str(_("Return policy: %(category)s") % {"category": self.category})

    @property
    def is_default(self) -> bool:
        return self.category_id is None

    def condition_labels(self) -> tuple[str, ...]:
        """What the associate confirms before taking a unit back, in the active language."""
        labels = []
        if self.require_unworn:
            labels.append(str(_("Unworn")))
        if self.require_tags:
            labels.append(str(_("Tags attached")))
        if self.require_packaging:
            labels.append(str(_("In its original packaging")))
        return tuple(labels)


class PolicyExceptionQuerySet(models.QuerySet):
    def in_force(self, on) -> PolicyExceptionQuerySet:
        """Not past `valid_until` on that date."""
        return self.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))


class PolicyException(models.Model):
    """An exception HQ grants for one customer, one order or purchases in a date range
    (optionally for one category): more days, or final sale waived."""

    customer = models.ForeignKey(
        "retail.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="return_policy_exceptions",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="return_policy_exceptions",
        verbose_name=_("order"),
    )
    purchased_from = models.DateField(_("purchased from"), null=True, blank=True)
    purchased_to = models.DateField(_("purchased until"), null=True, blank=True)
    category = models.ForeignKey(
        "retail.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("Leave empty for every category."),
    )
    extra_days = models.PositiveSmallIntegerField(
        _("extra days"), default=0, validators=[MaxValueValidator(3650)]
    )
    waive_final_sale = models.BooleanField(_("final sale waived"), default=False)
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Leave empty for no end.")
    )
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = PolicyExceptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("policy exception")
        verbose_name_plural = _("policy exceptions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        customer__isnull=False,
                        order__isnull=True,
                        purchased_from__isnull=True,
                        purchased_to__isnull=True,
                    )
                    | Q(
                        customer__isnull=True,
                        order__isnull=False,
                        purchased_from__isnull=True,
                        purchased_to__isnull=True,
                    )
                    | Q(
                        customer__isnull=True,
                        order__isnull=True,
                        purchased_from__isnull=False,
                        purchased_to__isnull=False,
                    )
                ),
                name="policyexception_one_scope",
                violation_error_message=_(
                    "Choose exactly one scope: a customer, an order, or a purchase date range "
                    "(both dates)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(purchased_from__isnull=True)
                | Q(purchased_to__isnull=True)
                | Q(purchased_from__lte=models.F("purchased_to")),
                name="policyexception_range_ordered",
                violation_error_message=_("The date range must not end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(extra_days__gt=0) | Q(waive_final_sale=True),
                name="policyexception_has_effect",
                violation_error_message=_(
                    "An exception must add days or waive final sale (or both)."
                ),
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="policyexception_reason_required"),
        ]
        indexes = [
            models.Index(fields=["purchased_from", "purchased_to"], name="policyexc_range_idx")
        ]

    def __str__(self) -> str:
        return str(_("Exception: %(scope)s") % {"scope": self.scope_label})

    @property
    def scope_label(self) -> str:
        if self.customer_id is not None:
            customer = self.customer
            return str(_("customer %(ref)s") % {"ref": customer.customer_ref or customer.name})
        if self.order_id is not None:
            return str(_("order %(ref)s") % {"ref": self.order})
        return str(
            _("purchases %(start)s to %(end)s")
            % {"start": self.purchased_from, "end": self.purchased_to}
        )


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
    exchange_order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exchange order"),
        help_text=_("The order the customer took instead of (part of) the refund."),
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


# The abuse signals' models live with their code (`returns.risk`).
from returns.risk.models import (  # noqa: E402, F401
    CustomerSignalMonth,
    SignalClearance,
    SignalSettings,
    SignalSource,
)
