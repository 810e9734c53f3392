from django.contrib import admin

from clienteling.models import (
    Cart,
    ClientelingSettings,
    FollowUpTask,
    Note,
    Outreach,
    SalesCredit,
    SellingSession,
)
from retail.admin import AisleModelAdmin as HQOnly
from retail.money import money_column


@admin.register(ClientelingSettings)
class ClientelingSettingsAdmin(HQOnly):
    list_display = ("__str__", "retention_months", "attribution_days")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ClientelingSettings.objects.exists()


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(HQOnly):
    list_display = ("title", "store", "due_on", "state", "assigned_to")
    list_filter = ("state", "store")
    raw_id_fields = ("customer", "assigned_to", "created_by")


@admin.register(Note)
class NoteAdmin(HQOnly):
    list_display = ("pk", "customer", "author", "created_at")
    raw_id_fields = ("customer", "author")


@admin.register(Outreach)
class OutreachAdmin(HQOnly):
    list_display = ("subject", "customer", "sent_by", "created_at")
    raw_id_fields = ("customer", "message", "sent_by")


class ReadOnly(HQOnly):
    """Records the services write; HQ reads them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SalesCredit)
class SalesCreditAdmin(ReadOnly):
    amount_money = money_column(SalesCredit, "amount")
    reversed_amount_money = money_column(SalesCredit, "reversed_amount")
    list_display = (
        "order",
        "associate",
        "store",
        "channel",
        "share",
        "amount_money",
        "reversed_amount_money",
    )
    list_filter = ("channel", "store")
    search_fields = ("order__order_ref", "associate__email")
    list_select_related = ("order", "associate", "store")


@admin.register(SellingSession)
class SellingSessionAdmin(ReadOnly):
    list_display = ("associate", "customer", "store", "opened_at", "last_action_at")
    list_filter = ("store",)
    search_fields = ("associate__email",)
    list_select_related = ("associate", "customer", "store")


@admin.register(Cart)
class CartAdmin(ReadOnly):
    list_display = ("pk", "store", "associate", "customer", "state", "order_ref", "updated_at")
    list_filter = ("state", "store")
    search_fields = ("order_ref", "associate__email")
    list_select_related = ("store", "associate", "customer")


# Appointments keep their admin in their own package.
from clienteling.appointments import admin as appointments_admin  # noqa: E402, F401
