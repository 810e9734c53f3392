"""HQ admin for stock: locations, levels, the read-only ledger, receipts,
adjustments and transfers — every change through `inventory.services`."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory import services
from inventory.models import (
    CarrierService,
    SourcingSettings,
    StockFeed,
    StockLevel,
    StockLocation,
    StockMovement,
    Transfer,
    TransferLine,
)
from retail import access
from retail.admin import AisleModelAdmin
from retail.models import Variant


def render_admin_form(model_admin, request, form, title):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "form": form,
        "title": title,
    }
    return TemplateResponse(request, "admin/inventory/form.html", context)


@admin.register(StockLocation)
class StockLocationAdmin(AisleModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "store",
        "sellable_online",
        "ships_to_customers",
        "receives_transfers",
        "lead_time_days",
        "active",
    )
    list_filter = ("kind", "active", "sellable_online", "ships_to_customers", "receives_transfers")
    search_fields = ("code", "name", "postcode")
    autocomplete_fields = ("store",)
    list_select_related = ("store",)


@admin.register(CarrierService)
class CarrierServiceAdmin(AisleModelAdmin):
    list_display = (
        "name",
        "country",
        "service",
        "cutoff",
        "transit_days",
        "cross_border_days",
        "active",
    )
    list_filter = ("service", "country", "active")
    search_fields = ("name", "country")


@admin.register(SourcingSettings)
class SourcingSettingsAdmin(AisleModelAdmin):
    list_display = ("__str__", "nearby_km")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SourcingSettings.objects.exists()


class StockChangeForm(forms.Form):
    KIND_CHOICES = (("receipt", _("Receipt (goods in)")), ("adjustment", _("Adjustment (±)")))

    location = forms.ModelChoiceField(
        label=_("Location"), queryset=StockLocation.objects.filter(active=True)
    )
    sku = forms.CharField(label=_("SKU or barcode"), max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES)
    quantity = forms.IntegerField(
        label=_("Quantity"),
        help_text=_("Receipts: units in. Adjustments: a positive or negative change."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_sku(self):
        code = self.cleaned_data["sku"].strip()
        variant = (
            Variant.objects.filter(sku=code).first() or Variant.objects.filter(barcode=code).first()
        )
        if variant is None:
            raise forms.ValidationError(gettext("No product has this SKU or barcode."))
        return variant


@admin.register(StockLevel)
class StockLevelAdmin(AisleModelAdmin):
    list_display = (
        "location",
        "sku",
        "product",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
    )
    list_filter = ("location__kind", "location")
    search_fields = ("variant__sku", "variant__barcode", "variant__product__name", "location__code")
    list_select_related = ("location", "variant", "variant__product")
    readonly_fields = ("location", "variant", "on_hand", "reserved", "updated_at")
    fields = ("location", "variant", "on_hand", "reserved", "safety_stock", "updated_at")
    change_list_template = "admin/inventory/stocklevel/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("SKU"), ordering="variant__sku")
    def sku(self, obj):
        return obj.variant.sku

    @admin.display(description=_("product"))
    def product(self, obj):
        return obj.variant.product.name

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.available

    def save_model(self, request, obj, form, change):
        # Safety stock is the only editable figure; it goes through the service.
        services.stock_set_safety(
            location=obj.location, variant=obj.variant, safety_stock=obj.safety_stock
        )

    def get_urls(self):
        return [
            path(
                "change-stock/",
                self.admin_site.admin_view(self.change_stock_view),
                name="inventory_stocklevel_change_stock",
            ),
            *super().get_urls(),
        ]

    def change_stock_view(self, request):
        """A receipt or an adjustment with a reason, written through the ledger."""
        if not access.can_open(request.user, access.Area.ADMIN):
            raise PermissionDenied
        form = StockChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["kind"] == "receipt":
                    services.stock_receive(
                        location=data["location"],
                        variant=data["sku"],
                        quantity=data["quantity"],
                        by=request.user,
                        reason=data["reason"],
                    )
                else:
                    services.stock_adjust(
                        location=data["location"],
                        variant=data["sku"],
                        delta=data["quantity"],
                        by=request.user,
                        reason=data["reason"],
                    )
            except services.StockError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, gettext("The stock change was recorded in the ledger."))
                return redirect(reverse("admin:inventory_stocklevel_changelist"))
        return render_admin_form(self, request, form, gettext("Receive or adjust stock"))


@admin.register(StockMovement)
class StockMovementAdmin(AisleModelAdmin):
    """The ledger is read-only everywhere."""

    list_display = (
        "at",
        "kind",
        "location",
        "variant",
        "quantity",
        "on_hand_delta",
        "reserved_delta",
        "by",
        "reason",
        "source",
    )
    list_filter = ("kind", "location__kind", "location")
    search_fields = ("variant__sku", "location__code", "source", "reason")
    date_hierarchy = "at"
    list_select_related = ("location", "variant", "by")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockFeed)
class StockFeedAdmin(StockMovementAdmin):
    """What the retailer's systems sent (API and stock imports); its lines are in the
    ledger under the source `feed:<movement reference>`. Read-only."""

    list_display = (
        "created_at",
        "movement_ref",
        "kind",
        "location",
        "lines",
        "changed",
        "api_client",
        "by",
        "reason",
    )
    list_filter = ("kind", "location__kind", "location")
    search_fields = ("movement_ref", "location__code", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("location", "api_client", "by")


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    extra = 0
    autocomplete_fields = ("variant",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TransferForm(forms.Form):
    from_location = forms.ModelChoiceField(
        label=_("From"), queryset=StockLocation.objects.filter(active=True)
    )
    to_location = forms.ModelChoiceField(
        label=_("To"), queryset=StockLocation.objects.filter(active=True, receives_transfers=True)
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    lines = forms.CharField(
        label=_("Lines"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One line per SKU: SKU quantity, e.g. AIS-TOP-0001-M-NAVY 3"),
    )

    def clean_lines(self):
        parsed = {}
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            if not raw.strip():
                continue
            parts = raw.split()
            if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) <= 0:
                raise forms.ValidationError(
                    gettext("Line %(n)s: write a SKU and a quantity above zero.") % {"n": number}
                )
            variant = Variant.objects.filter(sku=parts[0]).first()
            if variant is None:
                raise forms.ValidationError(
                    gettext("Line %(n)s: unknown SKU %(sku)s.") % {"n": number, "sku": parts[0]}
                )
            parsed[variant] = parsed.get(variant, 0) + int(parts[1])
        if not parsed:
            raise forms.ValidationError(gettext("A transfer needs at least one line."))
        return parsed


@admin.register(Transfer)
class TransferAdmin(AisleModelAdmin):
    list_display = (
        "pk",
        "from_location",
        "to_location",
        "state",
        "created_at",
        "shipped_at",
        "received_at",
    )
    list_filter = ("state", "from_location", "to_location")
    search_fields = ("from_location__code", "to_location__code", "lines__variant__sku", "reason")
    list_select_related = ("from_location", "to_location")
    actions = ["ship_transfers", "receive_transfers", "cancel_transfers"]
    readonly_fields = ("state", "created_by", "created_at", "shipped_at", "received_at")
    inlines = [TransferLineInline]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "from_location", "to_location", "reason"]

    def add_view(self, request, form_url="", extra_context=None):
        """Requesting a transfer reserves its units at the source, through the service."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TransferForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                transfer = services.transfer_create(
                    from_location=data["from_location"],
                    to_location=data["to_location"],
                    lines=data["lines"],
                    by=request.user,
                    reason=data["reason"],
                )
            except services.StockError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, gettext("Transfer %(t)s requested.") % {"t": transfer})
                return redirect(reverse("admin:inventory_transfer_change", args=[transfer.pk]))
        return render_admin_form(self, request, form, gettext("Request a transfer"))

    def _run(self, request, queryset, service, done_message):
        done = 0
        for transfer in queryset:
            try:
                service(transfer=transfer, by=request.user)
                done += 1
            except services.StockError as exc:
                self.message_user(request, f"{transfer}: {exc}", messages.ERROR)
        if done:
            self.message_user(request, done_message % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Ship the selected transfers"))
    def ship_transfers(self, request, queryset):
        self._run(request, queryset, services.transfer_ship, gettext("%(n)s transfer(s) shipped."))

    @admin.action(description=_("Receive the selected transfers"))
    def receive_transfers(self, request, queryset):
        self._run(
            request, queryset, services.transfer_receive, gettext("%(n)s transfer(s) received.")
        )

    @admin.action(description=_("Cancel the selected transfers"))
    def cancel_transfers(self, request, queryset):
        self._run(
            request, queryset, services.transfer_cancel, gettext("%(n)s transfer(s) cancelled.")
        )
