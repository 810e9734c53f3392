"""HQ admin for orders: every channel, with lines, payments, refunds, fulfilments
and their event history. Money and history are read-only; changes go through
`orders.services`."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory.promise import explain
from orders import services, webhooks
from orders.models import (
    Fulfillment,
    FulfillmentLine,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    ReceivingDiscrepancy,
    Refund,
    StoreCredit,
    StoreCreditEntry,
)
from retail.admin import AisleModelAdmin, RecordAdmin, webhook_deliveries_table
from retail.money import money_column


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "sku",
        "quantity",
        "catalog_price",
        "unit_price",
        "discount_share",
        "line_total",
        "tax_rate",
        "tax_amount",
        "cancelled_quantity",
        "received_quantity",
        "claimed_quantity",
        "returned_quantity",
    )
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("at", "tender", "amount", "reference")
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = (
        "at",
        "amount",
        "tax_amount",
        "tender",
        "to_store_credit",
        "reason",
        "source",
        "return_ref",
    )
    readonly_fields = fields


class FulfillmentInline(ReadOnlyInline):
    model = Fulfillment
    fields = (
        "method",
        "location",
        "pickup_store",
        "state",
        "ready_by",
        "checked_in_at",
        "tracking_ref",
    )
    readonly_fields = fields
    show_change_link = True


DISCREPANCY_FIELDS = (
    "at",
    "store",
    "from_location",
    "order_line",
    "sent",
    "good",
    "short",
    "damaged",
    "resourced",
    "cancelled",
    "by",
    "note",
)


class ReceivingDiscrepancyInline(ReadOnlyInline):
    """Units a store found short or damaged when it received the order's parcels."""

    model = ReceivingDiscrepancy
    fk_name = "order"
    fields = DISCREPANCY_FIELDS
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("at", "kind", "fulfillment", "from_state", "to_state", "by", "store", "reason")
    readonly_fields = fields


class FulfillmentStateFilter(admin.SimpleListFilter):
    title = _("fulfilment state")
    parameter_name = "fulfillment_state"

    def lookups(self, request, model_admin):
        from orders.models import State

        return State.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(fulfillments__state=self.value()).distinct()
        return queryset


@admin.register(Order)
class OrderAdmin(AisleModelAdmin):
    total_money = money_column(Order, "total", currency_field="currency")
    list_display = (
        "order_ref",
        "channel",
        "status",
        "customer",
        "store",
        "total_money",
        "created_at",
    )
    list_filter = ("channel", "status", FulfillmentStateFilter, "store", "created_at")
    search_fields = ("order_ref", "customer__name", "customer__email", "customer__customer_ref")
    date_hierarchy = "created_at"
    list_select_related = ("customer", "store")
    readonly_fields = (
        "order_ref",
        "channel",
        "status",
        "customer",
        "store",
        "currency",
        "subtotal",
        "discount",
        "total",
        "address",
        "credited_to",
        "placed_by",
        "request_fingerprint",
        "created_at",
        "updated_at",
        "webhook_deliveries",
    )
    inlines = [
        OrderLineInline,
        PaymentInline,
        RefundInline,
        FulfillmentInline,
        ReceivingDiscrepancyInline,
        OrderEventInline,
    ]

    @admin.display(description=_("webhook deliveries"))
    def webhook_deliveries(self, obj):
        """The order's changes as sent to the online channel (resend from the delivery)."""
        return webhook_deliveries_table(webhooks.deliveries(obj))

    actions = ["cancel_orders"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Cancel the selected orders (release stock, record refunds)"))
    def cancel_orders(self, request, queryset):
        for order in queryset:
            try:
                services.order_cancel(
                    order=order, by=request.user, reason=gettext("cancelled by HQ")
                )
            except services.OrderError as exc:
                self.message_user(request, f"{order}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(
                    request, gettext("%(ref)s cancelled.") % {"ref": order}, messages.SUCCESS
                )


class FulfillmentLineInline(ReadOnlyInline):
    model = FulfillmentLine
    fields = ("order_line", "quantity", "picked_quantity", "refused_quantity", "refused_reason")
    readonly_fields = fields


@admin.register(Fulfillment)
class FulfillmentAdmin(AisleModelAdmin):
    list_display = (
        "order",
        "method",
        "location",
        "pickup_store",
        "state",
        "ready_by",
        "promised_by",
        "updated_at",
    )
    list_filter = ("method", "state", "pickup_store", "location__kind")
    search_fields = ("order__order_ref", "pickup_code", "tracking_ref")
    list_select_related = ("order", "location", "pickup_store")
    readonly_fields = (
        "order",
        "method",
        "location",
        "pickup_store",
        "state",
        "ready_by",
        "promised_by",
        "promise_why",
        "late_notice_at",
        "checked_in_at",
        "pickup_code",
        "ready_at",
        "hold_until",
        "reminded_at",
        "collected_at",
        "tracking_ref",
        "created_at",
        "updated_at",
    )
    exclude = ("promise",)  # shown in words (`promise_why`)
    inlines = [FulfillmentLineInline]

    @admin.display(description=_("why from there"))
    def promise_why(self, obj: Fulfillment) -> str:
        return " ".join(explain(obj.promise or {}))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReceivingDiscrepancy)
class ReceivingDiscrepancyAdmin(RecordAdmin):
    """Every parcel a store received short or damaged (also HQ's /hq/ship/discrepancies/):
    written once by receiving, never edited here."""

    list_display = ("at", "store", "order", "order_line", "sent", "short", "damaged", "by")
    list_filter = ("store", "from_location", "at")
    search_fields = ("order__order_ref", "order_line__sku")
    list_select_related = ("store", "order", "order_line", "by")
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None):
        return False


# --- Store credit: read-only; written by `orders.credit` only ---------------------------


class StoreCreditEntryInline(ReadOnlyInline):
    model = StoreCreditEntry
    fields = (
        "at",
        "kind",
        "amount",
        "balance_after",
        "order",
        "return_ref",
        "reason",
        "store",
        "by",
    )
    readonly_fields = fields
    ordering = ("-pk",)


class CreditLeftFilter(admin.SimpleListFilter):
    title = _("balance")
    parameter_name = "credit_left"

    def lookups(self, request, model_admin):
        return [("yes", _("Some credit left")), ("no", _("Nothing left"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(balance__gt=0)
        if self.value() == "no":
            return queryset.filter(balance=0)
        return queryset


@admin.register(StoreCredit)
class StoreCreditAdmin(RecordAdmin):
    balance_money = money_column(StoreCredit, "balance")
    list_display = ("customer", "balance_money", "updated_at")
    list_filter = (CreditLeftFilter, "updated_at")
    search_fields = ("customer__customer_ref", "customer__name", "customer__email")
    list_select_related = ("customer",)
    inlines = [StoreCreditEntryInline]

    def has_change_permission(self, request, obj=None):
        return False  # the balance moves only through `orders.credit`


@admin.register(StoreCreditEntry)
class StoreCreditEntryAdmin(RecordAdmin):
    amount_money = money_column(StoreCreditEntry, "amount")
    balance_after_money = money_column(StoreCreditEntry, "balance_after")
    list_display = (
        "at",
        "account",
        "kind",
        "amount_money",
        "balance_after_money",
        "order",
        "return_ref",
    )
    list_filter = ("kind", "store", "at")
    search_fields = (
        "account__customer__customer_ref",
        "account__customer__name",
        "order__order_ref",
        "return_ref",
    )
    list_select_related = ("account__customer", "order")
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None):
        return False  # append-only
