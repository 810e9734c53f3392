"""Returns: the policies HQ sets (per category, and the network's default) and the
exceptions HQ grants. The engine that reads them is `returns.policy`."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
