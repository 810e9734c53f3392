"""HQ admin for the abuse signals: the one settings row HQ edits (thresholds and
occasion-wear categories), and the clearances, read-only (they are made on the
return screen and HQ's risk page, audited)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from retail.admin import AisleModelAdmin, RecordAdmin
from returns.risk.models import SignalClearance, SignalSettings


@admin.register(SignalSettings)
class SignalSettingsAdmin(AisleModelAdmin):
    filter_horizontal = ("occasion_categories",)
    readonly_fields = ("updated_at", "updated_by")
    fieldsets = (
        (_("Serial returner"), {"fields": ("serial_rate_percent", "serial_min_returns")}),
        (
            _("Wardrobing"),
            {"fields": ("occasion_categories", "wardrobing_days", "wardrobing_min_units")},
        ),
        (
            _("Other signals"),
            {"fields": ("receiptless_min_returns", "stores_min", "arbitrage_min_units")},
        ),
        (_("Clearing a flag"), {"fields": ("clearance_days",)}),
        (_("Changes"), {"fields": ("updated_at", "updated_by")}),
    )

    def changelist_view(self, request, extra_context=None):
        """One row: the list opens it (made with the defaults the first time)."""
        if not self.has_view_permission(request):
            return super().changelist_view(request, extra_context)
        row = SignalSettings.load()
        return redirect(reverse("admin:returns_signalsettings_change", args=[row.pk]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(SignalClearance)
class SignalClearanceAdmin(RecordAdmin):
    list_display = ("customer_ref", "signals", "cleared_by", "store", "created_at", "valid_until")
    list_filter = ("store", "created_at")
    search_fields = ("customer__customer_ref",)
    list_select_related = ("customer", "cleared_by", "store")
    date_hierarchy = "created_at"

    @admin.display(description=_("customer"), ordering="customer__customer_ref")
    def customer_ref(self, obj: SignalClearance) -> str:
        return obj.customer.customer_ref or f"#{obj.customer_id}"

    def has_change_permission(self, request, obj=None):
        return False
