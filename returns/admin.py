"""HQ admin for returns: the policies per category (and the network's default), the
exceptions HQ grants, and every return read-only with its lines and event history.
Who changed a policy and who granted an exception are recorded here, never typed in;
returns change through `returns.services` (the tablet and the API)."""

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.admin import ReadOnlyInline
from retail.admin import AisleModelAdmin, RecordAdmin
from retail.money import money_column, money_text
from returns.models import FeeKind, PolicyException, Return, ReturnEvent, ReturnLine, ReturnPolicy


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(AisleModelAdmin):
    approval_threshold_money = money_column(ReturnPolicy, "approval_threshold")
    list_display = (
        "policy_name",
        "window_days",
        "final_sale",
        "fee",
        "approval_threshold_money",
        "receiptless_allowed",
        "updated_at",
        "updated_by",
    )
    list_filter = (
        "final_sale",
        "fee_kind",
        "receiptless_allowed",
        "require_unworn",
        "require_tags",
        "require_packaging",
    )
    search_fields = ("category__name", "category__code", "note")
    autocomplete_fields = ("category",)
    list_select_related = ("category", "updated_by")
    readonly_fields = ("updated_at", "updated_by")
    fieldsets = (
        (None, {"fields": ("category", "window_days", "final_sale", "note")}),
        (
            _("Conditions the associate confirms"),
            {"fields": ("require_unworn", "require_tags", "require_packaging")},
        ),
        (_("Restocking fee"), {"fields": ("fee_kind", "fee_value")}),
        (_("Approval"), {"fields": ("receiptless_allowed", "approval_threshold")}),
        (_("Changes"), {"fields": ("updated_at", "updated_by")}),
    )

    @admin.display(description=_("policy"), ordering="category__name")
    def policy_name(self, obj: ReturnPolicy) -> str:
        return str(obj.category) if obj.category_id else gettext("Network default")

    @admin.display(description=_("restocking fee"))
    def fee(self, obj: ReturnPolicy) -> str:
        if obj.fee_kind == FeeKind.FIXED:
            return gettext("%(amount)s per unit") % {"amount": money_text(obj.fee_value)}
        if obj.fee_kind == FeeKind.PERCENT:
            return f"{obj.fee_value}%"
        return gettext("none")

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class ScopeFilter(admin.SimpleListFilter):
    title = _("scope")
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return (
            ("customer", _("a customer")),
            ("order", _("an order")),
            ("dates", _("a purchase date range")),
        )

    def queryset(self, request, queryset):
        if self.value() == "customer":
            return queryset.filter(customer__isnull=False)
        if self.value() == "order":
            return queryset.filter(order__isnull=False)
        if self.value() == "dates":
            return queryset.filter(purchased_from__isnull=False)
        return queryset


@admin.register(PolicyException)
class PolicyExceptionAdmin(AisleModelAdmin):
    list_display = (
        "scope",
        "category",
        "extra_days",
        "waive_final_sale",
        "valid_until",
        "granted_by",
        "created_at",
    )
    list_filter = (ScopeFilter, "waive_final_sale", "category", "valid_until", "created_at")
    search_fields = ("customer__customer_ref", "order__order_ref", "reason")
    autocomplete_fields = ("customer", "order", "category")
    list_select_related = ("customer", "order", "category", "granted_by")
    readonly_fields = ("granted_by", "created_at")
    date_hierarchy = "created_at"
    fieldsets = (
        (
            _("Scope: exactly one of a customer, an order or a purchase date range"),
            {"fields": ("customer", "order", ("purchased_from", "purchased_to"), "category")},
        ),
        (_("Effect"), {"fields": ("extra_days", "waive_final_sale", "valid_until", "reason")}),
        (_("Granted"), {"fields": ("granted_by", "created_at")}),
    )

    @admin.display(description=_("scope"))
    def scope(self, obj: PolicyException) -> str:
        return obj.scope_label

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = (
        "sku",
        "quantity",
        "reason",
        "conditions",
        "note",
        "photo",
        "disposition",
        "unit_basis",
        "refund_amount",
        "fee_amount",
    )
    readonly_fields = fields


class ReturnEventInline(ReadOnlyInline):
    model = ReturnEvent
    fields = ("at", "kind", "from_state", "to_state", "by", "store", "reason")
    readonly_fields = fields


@admin.register(Return)
class ReturnAdmin(RecordAdmin):
    refund_amount_money = money_column(Return, "refund_amount")
    list_display = (
        "return_ref",
        "code",
        "state",
        "order",
        "order_channel",
        "store",
        "refund_amount_money",
        "refund_to",
        "created_at",
    )
    list_filter = ("state", "started_via", "order_channel", "refund_to", "store", "created_at")
    search_fields = ("return_ref", "code", "order__order_ref", "customer__customer_ref")
    date_hierarchy = "created_at"
    list_select_related = ("order", "store")
    inlines = [ReturnLineInline, ReturnEventInline]
    fieldsets = (
        (None, {"fields": ("return_ref", "code", "state", "started_via", "order", "customer")}),
        (_("Where"), {"fields": ("order_channel", "store", "location")}),
        (_("Refund"), {"fields": ("refund_to", "refund_amount", "fee_amount", "tax_amount")}),
        (_("Decision"), {"fields": ("approval_reasons", "decided_by", "decision_reason")}),
        (
            _("Record"),
            {
                "fields": (
                    "created_by",
                    "created_at",
                    "completed_at",
                    "updated_at",
                    "request_fingerprint",
                )
            },
        ),
    )

    def has_change_permission(self, request, obj=None):
        return False  # viewed, never edited: returns change through returns.services


# The abuse signals' settings and clearances.
from returns.risk import admin as _risk_admin  # noqa: E402, F401
