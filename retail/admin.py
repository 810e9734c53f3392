"""HQ's Django admin for the core records. Every list asks `retail.access`."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from retail import access, roles
from retail.models import (
    AuditLog,
    Category,
    Customer,
    OpeningHours,
    Product,
    StaffProfile,
    Store,
    User,
    Variant,
)
from retail.validators import normalise_phone


class AisleModelAdmin(admin.ModelAdmin):
    """Base admin: the queryset is scoped by the access module."""

    list_per_page = 50

    def get_queryset(self, request):
        return access.admin_queryset(request.user, super().get_queryset(request))


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0
    max_num = 7


@admin.register(Store)
class StoreAdmin(AisleModelAdmin):
    list_display = ("code", "name", "city", "country", "time_zone", "pickup_enabled", "is_open")
    list_filter = ("is_open", "pickup_enabled", "country", "time_zone")
    search_fields = ("code", "name", "city", "postcode")
    inlines = [OpeningHoursInline]
    fieldsets = (
        (None, {"fields": ("code", "name", "is_open")}),
        (
            _("Address"),
            {
                "fields": (
                    "address_line1",
                    "address_line2",
                    ("city", "postcode", "country"),
                    ("latitude", "longitude"),
                )
            },
        ),
        (_("Pickup and time"), {"fields": ("time_zone", "pickup_enabled", "pickup_hold_days")}),
    )


@admin.register(Category)
class CategoryAdmin(AisleModelAdmin):
    list_display = ("name", "code", "tax_rate")
    search_fields = ("name", "code")


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("sku", "size", "colour", "barcode", "price", "active")
    show_change_link = True


@admin.register(Product)
class ProductAdmin(AisleModelAdmin):
    list_display = ("name", "brand", "category", "style_code", "final_sale", "active")
    list_filter = ("active", "final_sale", "category", "brand")
    search_fields = ("name", "brand", "style_code", "variants__sku", "variants__barcode")
    autocomplete_fields = ("category",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [VariantInline]
    list_select_related = ("category",)

    def get_search_results(self, request, queryset, search_term):
        results, _may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False


@admin.register(Variant)
class VariantAdmin(AisleModelAdmin):
    list_display = ("sku", "product", "size", "colour", "barcode", "price", "active")
    list_filter = ("active", "product__category", "size")
    search_fields = ("sku", "barcode", "product__name", "product__brand")
    autocomplete_fields = ("product",)
    list_select_related = ("product",)


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = "__all__"  # noqa: DJ007 - HQ edits the whole profile

    def clean_phone(self):
        store = self.cleaned_data.get("preferred_store")
        return normalise_phone(self.cleaned_data.get("phone", ""), store.country if store else None)


@admin.register(Customer)
class CustomerAdmin(AisleModelAdmin):
    form = CustomerAdminForm
    list_display = (
        "name",
        "customer_ref",
        "email",
        "phone",
        "preferred_store",
        "tracking_consent",
        "marketing_consent",
        "created_at",
    )
    list_filter = ("tracking_consent", "marketing_consent", "preferred_store")
    search_fields = ("name", "email", "phone", "customer_ref")
    autocomplete_fields = ("preferred_store",)
    readonly_fields = ("tracking_consent_at", "marketing_consent_at", "created_at", "updated_at")
    list_select_related = ("preferred_store",)
    date_hierarchy = "created_at"

    def save_model(self, request, obj, form, change):
        from retail.services import consent_times_update

        consent_times_update(customer=obj, changed=form.changed_data)
        super().save_model(request, obj, form, change)


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    autocomplete_fields = ("home_store", "other_stores")
    fk_name = "user"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "role", "home_store", "is_active")
    list_filter = ("is_active", "staff_profile__role", "staff_profile__home_store")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("last_login", "date_joined")
    inlines = [StaffProfileInline]
    list_select_related = ("staff_profile", "staff_profile__home_store")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request):
        return access.admin_queryset(request.user, super().get_queryset(request))

    @admin.display(description=_("role"), ordering="staff_profile__role")
    def role(self, obj):
        profile = getattr(obj, "staff_profile", None)
        return profile.get_role_display() if profile else "—"

    @admin.display(description=_("home store"), ordering="staff_profile__home_store__code")
    def home_store(self, obj):
        profile = getattr(obj, "staff_profile", None)
        return profile.home_store if profile and profile.home_store_id else "—"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        profile = StaffProfile.objects.filter(user=form.instance).first()
        if profile is not None:
            roles.sync_user_with_role(form.instance, profile.role)


@admin.register(StaffProfile)
class StaffProfileAdmin(AisleModelAdmin):
    list_display = ("user", "role", "home_store")
    list_filter = ("role", "home_store")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    autocomplete_fields = ("user", "home_store", "other_stores")
    list_select_related = ("user", "home_store")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        roles.sync_user_with_role(form.instance.user, form.instance.role)


@admin.register(AuditLog)
class AuditLogAdmin(AisleModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("at", "actor", "action", "target_type", "target_id", "store")
    list_filter = ("action", "target_type", "store")
    search_fields = ("action", "target_type", "target_id", "actor__email")
    date_hierarchy = "at"
    list_select_related = ("actor", "store")

    def get_queryset(self, request):
        return access.audit_logs_for(request.user).select_related("actor", "store")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
