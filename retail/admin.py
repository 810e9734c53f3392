"""HQ's Django admin for the core records. Every list asks `retail.access`."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from retail import access, roles, webhooks
from retail.models import (
    ApiClient,
    AttributeTranslation,
    AuditLog,
    Category,
    CategoryTranslation,
    Customer,
    ImportJob,
    OpeningHours,
    OutboundMessage,
    OutboxEntry,
    OutboxState,
    PriceChange,
    Product,
    ProductTranslation,
    StaffProfile,
    Store,
    StoreClosure,
    User,
    Variant,
    WebhookDelivery,
    WebhookState,
    catalogue_languages,
)
from retail.validators import normalise_phone


class AisleModelAdmin(admin.ModelAdmin):
    """Base admin: the queryset is scoped by the access module."""

    list_per_page = 50

    def get_queryset(self, request):
        return access.admin_queryset(request.user, super().get_queryset(request))


class RecordAdmin(AisleModelAdmin):
    """A record kept by Aisle itself (audit rows, the outbox, messages, webhook
    deliveries): every field read-only, never added or deleted by hand."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0
    max_num = 7


class StoreClosureInline(admin.TabularInline):
    model = StoreClosure
    extra = 0


@admin.register(Store)
class StoreAdmin(AisleModelAdmin):
    list_display = ("code", "name", "city", "country", "time_zone", "pickup_enabled", "is_open")
    list_filter = ("is_open", "pickup_enabled", "country", "time_zone")
    search_fields = ("code", "name", "city", "postcode")
    inlines = [OpeningHoursInline, StoreClosureInline]
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


class TranslationInline(admin.StackedInline):
    """The record's text in each other language Aisle speaks: one row per language."""

    extra = 0
    min_num = 0

    def get_max_num(self, request, obj=None, **kwargs):
        return len(catalogue_languages())


class CategoryTranslationInline(TranslationInline):
    model = CategoryTranslation
    fields = ("language", "name")


@admin.register(Category)
class CategoryAdmin(AisleModelAdmin):
    list_display = ("name", "code", "tax_rate")
    search_fields = ("name", "code", "translations__name")
    inlines = [CategoryTranslationInline]

    def get_search_results(self, request, queryset, search_term):
        results, _may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False


class ProductTranslationInline(TranslationInline):
    model = ProductTranslation
    fields = ("language", "name", "description")


@admin.register(AttributeTranslation)
class AttributeTranslationAdmin(AisleModelAdmin):
    """The catalogue's words (attribute names and values, colours, sizes) in other
    languages: one row per English text and language."""

    list_display = ("source", "language", "text")
    list_filter = ("language",)
    search_fields = ("source", "text")


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("sku", "size", "colour", "barcode", "price", "active")
    show_change_link = True


@admin.register(Product)
class ProductAdmin(AisleModelAdmin):
    list_display = ("name", "brand", "category", "style_code", "final_sale", "active")
    list_filter = ("active", "final_sale", "category", "brand")
    search_fields = (
        "name",
        "translations__name",
        "brand",
        "style_code",
        "variants__sku",
        "variants__barcode",
    )
    autocomplete_fields = ("category",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [ProductTranslationInline, VariantInline]
    list_select_related = ("category",)

    def get_search_results(self, request, queryset, search_term):
        results, _may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False


class PriceChangeInline(admin.TabularInline):
    """The variant's price history, newest first: read-only, written by `Variant.save()`."""

    model = PriceChange
    extra = 0
    can_delete = False
    fields = ("at", "price")
    readonly_fields = ("at", "price")
    ordering = ("-at", "-pk")
    verbose_name_plural = _("price history")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Variant)
class VariantAdmin(AisleModelAdmin):
    list_display = ("sku", "product", "size", "colour", "barcode", "price", "active")
    list_filter = ("active", "product__category", "size")
    search_fields = ("sku", "barcode", "product__name", "product__brand")
    autocomplete_fields = ("product",)
    list_select_related = ("product",)
    inlines = [PriceChangeInline]


def audit_admin_list(request, response, *, action: str, target: str) -> None:
    """One audit row for an admin list that was shown: the search (its text, or a hash
    when it is an e-mail or phone), the filters, how many rows matched, the ids shown."""
    from retail import audit

    changelist = getattr(response, "context_data", None) or {}
    changelist = changelist.get("cl")
    if changelist is None or response.status_code != 200:
        return
    detail = {
        "results": changelist.result_count,
        "shown": [obj.pk for obj in changelist.result_list],
        **audit.params_detail(request.GET),
    }
    audit.record(actor=request.user, action=action, target_type=target, detail=detail)


def audit_admin_open(request, response, object_id, *, action: str, model) -> None:
    """One audit row for an admin page of one record that was shown (or saved)."""
    from retail import audit

    if response.status_code not in (200, 302):
        return
    try:
        pk = model._meta.pk.to_python(object_id)
    except (ValidationError, ValueError, TypeError):
        return
    if not access.admin_queryset(request.user, model.objects.filter(pk=pk)).exists():
        return
    audit.record(
        actor=request.user,
        action=action,
        target_type=model._meta.label_lower,
        target_id=str(pk),
        detail={"method": request.method},
    )


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
    readonly_fields = (
        "tracking_consent_at",
        "marketing_consent_at",
        "merged_into",
        "merged_at",
        "created_at",
        "updated_at",
    )
    list_select_related = ("preferred_store",)
    date_hierarchy = "created_at"
    actions = ["merge_customers"]

    def changelist_view(self, request, extra_context=None):
        """Audited: who listed customers, what they searched and which ids were shown."""
        response = super().changelist_view(request, extra_context)
        audit_admin_list(request, response, action="customer.admin_list", target="retail.customer")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Audited: every opening of a customer's page in admin (a look at the profile).
        A merged-away profile opens the profile it was merged into."""
        from django.shortcuts import redirect
        from django.urls import reverse

        from retail import services

        merged = Customer.objects.filter(pk=object_id if str(object_id).isdigit() else None)
        merged = merged.exclude(merged_into=None).first()
        if merged is not None:
            survivor = services.customer_survivor(merged)
            self.message_user(
                request,
                gettext("%(dup)s was merged into %(survivor)s: this is the profile that stays.")
                % {"dup": merged, "survivor": survivor},
                messages.INFO,
            )
            return redirect(reverse("admin:retail_customer_change", args=[survivor.pk]))
        response = super().change_view(request, object_id, form_url, extra_context)
        audit_admin_open(request, response, object_id, action="customer.admin_view", model=Customer)
        return response

    @admin.action(description=_("Merge two selected customers"))
    def merge_customers(self, request, queryset):
        """The two profiles side by side (what each holds, per app), nothing chosen in
        advance: HQ picks the one that stays, or cancels."""
        from retail import services

        customers = list(queryset.order_by("pk")[:3])
        if len(customers) != 2:
            self.message_user(
                request, gettext("Select exactly two customers to merge."), messages.ERROR
            )
            return None
        if any(c.merged_into_id for c in customers):
            self.message_user(
                request,
                gettext("One of these profiles was already merged into another one."),
                messages.ERROR,
            )
            return None
        error = ""
        if request.POST.get("confirm") == "yes":
            survivor_id = request.POST.get("survivor")
            chosen = [c for c in customers if str(c.pk) == survivor_id]
            if not chosen:
                error = gettext("Choose which profile stays.")
            else:
                survivor = chosen[0]
                duplicate = next(c for c in customers if c.pk != survivor.pk)
                try:
                    services.customer_merge(survivor=survivor, duplicate=duplicate, by=request.user)
                except services.MergeError as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                    return None
                self.message_user(
                    request,
                    gettext("%(dup)s was merged into %(survivor)s.")
                    % {"dup": duplicate, "survivor": survivor},
                    messages.SUCCESS,
                )
                return None
        return self._merge_page(request, customers, error)

    def _merge_page(self, request, customers, error: str):
        from django.template.response import TemplateResponse

        from retail import services

        first, second = customers
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Merge two customers"),
            "first": first,
            "second": second,
            "rows": services.merge_comparison(first, second),
            "error": error,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request,
            "admin/retail/customer/merge_confirm.html",
            context,
            status=400 if error else 200,
        )

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
class AuditLogAdmin(RecordAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("at", "actor", "action", "target_type", "target_id", "store")
    list_filter = ("action", "target_type", "store")
    search_fields = ("action", "target_type", "target_id", "actor__email")
    date_hierarchy = "at"
    list_select_related = ("actor", "store")

    def get_queryset(self, request):
        return access.audit_logs_for(request.user).select_related("actor", "store")

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """Reading the audit log is itself audited."""
        response = super().changelist_view(request, extra_context)
        audit_admin_list(request, response, action="auditlog.admin_list", target="retail.auditlog")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        audit_admin_open(request, response, object_id, action="auditlog.admin_view", model=AuditLog)
        return response


@admin.register(OutboxEntry)
class OutboxEntryAdmin(RecordAdmin):
    """Pending, published, done and failed side effects, with the error and a retry."""

    list_display = (
        "pk",
        "kind",
        "name",
        "receiver",
        "state",
        "attempts",
        "created_at",
        "available_at",
        "error",
    )
    list_filter = ("state", "kind", "name")
    search_fields = ("name", "receiver", "key", "last_error")
    date_hierarchy = "created_at"
    actions = ["retry_entries"]

    @admin.display(description=_("last error"))
    def error(self, obj):
        """The last line of the error (the whole of it is on the entry's page)."""
        lines = obj.last_error.strip().splitlines()
        return lines[-1][:160] if lines else ""

    @admin.action(description=_("Retry the selected entries now"))
    def retry_entries(self, request, queryset):
        from retail import outbox

        entries = list(queryset.exclude(state=OutboxState.DONE))
        for entry in entries:
            outbox.retry(entry)
        self.message_user(
            request, gettext("%(n)s entries queued again.") % {"n": len(entries)}, messages.SUCCESS
        )


@admin.register(OutboundMessage)
class OutboundMessageAdmin(RecordAdmin):
    """The log of e-mails to customers (read-only)."""

    list_display = ("created_at", "template", "customer", "state", "sent_at", "language", "error")
    list_filter = ("state", "template", "language")
    search_fields = ("key", "template", "customer__name", "customer__customer_ref")
    date_hierarchy = "created_at"
    list_select_related = ("customer",)

    def has_change_permission(self, request, obj=None):
        return False


def _channel_field():
    from retail.models import API_ORDER_CHANNELS

    labels = {
        "web": _("Web"),
        "app": _("App"),
        "store": _("Store"),
        "kiosk": _("Kiosk"),
        "social": _("Social"),
    }
    return forms.MultipleChoiceField(
        label=_("order channels"),
        choices=[(c, labels[c]) for c in API_ORDER_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("The channels this client may place orders in."),
    )


class ApiClientForm(forms.ModelForm):
    """HQ edits a client; its order channels are ticked, not typed."""

    webhook_url = forms.URLField(label=_("webhook URL"), required=False, assume_scheme="https")
    channels = _channel_field()

    class Meta:
        model = ApiClient
        fields = ("name", "scopes", "is_active", "rate_limit", "webhook_url", "channels")


class ApiClientAddForm(forms.ModelForm):
    webhook_url = forms.URLField(label=_("webhook URL"), required=False, assume_scheme="https")
    channels = _channel_field()

    class Meta:
        model = ApiClient
        fields = ("name", "scopes", "rate_limit", "webhook_url", "channels")


@admin.register(ApiClient)
class ApiClientAdmin(AisleModelAdmin):
    """HQ manages API clients: a new or rotated key is shown once, on a page of its own."""

    list_display = (
        "name",
        "is_active",
        "scope_list",
        "rate_limit",
        "last_used_at",
        "webhooks_waiting",
        "webhooks_oldest_wait",
        "webhooks_failing",
        "webhooks_breaker",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "key_prefix")
    readonly_fields = ("key_prefix", "key_hash", "created_at", "rotated_at", "last_used_at")
    actions = ["deactivate_clients", "rotate_keys"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = ApiClientAddForm if obj is None else ApiClientForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "scopes", "rate_limit", "webhook_url", "channels")
        return super().get_fields(request, obj)

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def get_queryset(self, request):
        # Webhook health per client, in the list's one query (`retail.webhooks`).
        return webhooks.annotate_clients(super().get_queryset(request))

    @admin.display(description=_("webhooks waiting"), ordering="webhooks_waiting")
    def webhooks_waiting(self, obj):
        if not obj.webhooks_waiting:
            return 0
        url = reverse("admin:retail_webhookdelivery_changelist")
        return format_html(
            '<a href="{}?client__id__exact={}&amp;health=undelivered">{}</a>',
            url,
            obj.pk,
            obj.webhooks_waiting,
        )

    @admin.display(description=_("oldest wait"), ordering="webhooks_oldest")
    def webhooks_oldest_wait(self, obj):
        if obj.webhooks_oldest is None:
            return "-"
        seconds = int((timezone.now() - obj.webhooks_oldest).total_seconds())
        if seconds < 120:
            return gettext("%(n)s s") % {"n": max(0, seconds)}
        if seconds < 7200:
            return gettext("%(n)s min") % {"n": seconds // 60}
        return gettext("%(n)s h") % {"n": seconds // 3600}

    @admin.display(description=_("webhooks failing"), ordering="webhooks_failing")
    def webhooks_failing(self, obj):
        return obj.webhooks_failing

    @admin.display(description=_("webhook breaker"))
    def webhooks_breaker(self, obj):
        return BREAKER_LABELS[webhooks.client_breaker(obj)]

    def save_model(self, request, obj, form, change):
        from retail.api_clients import api_client_create

        if change:
            from retail.api_clients import forget

            super().save_model(request, obj, form, change)
            forget(obj.key_prefix)  # scopes or the active flag changed: no stale copy
            return
        client, key = api_client_create(
            name=obj.name,
            scopes=obj.scopes,
            rate_limit=obj.rate_limit,
            webhook_url=obj.webhook_url,
            channels=obj.channels,
        )
        obj.pk = client.pk
        obj.refresh_from_db()
        # Shown once on the next page (`response_add`), never in the messages cookie.
        request._aisle_new_keys = [(client, key)]

    def _keys_page(self, request, keys, title):
        """The new keys, shown once: on this page, never in a cookie or a message, and
        never cached by the browser."""
        response = TemplateResponse(
            request,
            "admin/retail/apiclient/keys.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "keys": keys,
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    def response_add(self, request, obj, post_url_continue=None):
        keys = getattr(request, "_aisle_new_keys", None)
        if keys:
            return self._keys_page(request, keys, gettext("The new client's key"))
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Deactivate the selected clients"))
    def deactivate_clients(self, request, queryset):
        from retail.api_clients import api_client_deactivate

        for client in queryset:
            api_client_deactivate(client=client)
        self.message_user(request, gettext("The selected clients can no longer call the API."))

    @admin.action(description=_("Rotate the keys of the selected clients"))
    def rotate_keys(self, request, queryset):
        from retail.api_clients import api_client_rotate

        keys = [(client, api_client_rotate(client=client)) for client in queryset]
        return self._keys_page(request, keys, gettext("New keys"))


# --- Webhook deliveries (retail.webhooks) ----------------------------------------------

BREAKER_LABELS = {
    webhooks.Breaker.CLOSED: _("closed (sending)"),
    webhooks.Breaker.OPEN: _("open (paused after failures)"),
    webhooks.Breaker.HALF_OPEN: _("half-open (trying one)"),
}


def webhook_deliveries_table(deliveries):
    """A subject's deliveries as a small read-only table (an order's admin page)."""
    rows = list(deliveries.select_related("client").order_by("pk")[:200])
    if not rows:
        return "-"
    head = format_html(
        "<tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        gettext("recorded"),
        gettext("API client"),
        gettext("event"),
        gettext("state"),
        gettext("attempts"),
        gettext("last error"),
    )
    body = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td></tr>",
        (
            (
                reverse("admin:retail_webhookdelivery_change", args=[d.pk]),
                d.pk,
                d.created_at,
                d.client,
                d.event,
                d.get_state_display(),
                d.attempts,
                d.last_error[:120],
            )
            for d in rows
        ),
    )
    return format_html("<table>{}{}</table>", head, body)


class WebhookHealthFilter(admin.SimpleListFilter):
    title = _("health")
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return (
            ("failing", _("Failed or retrying")),
            ("retrying", _("Retrying after an error")),
            ("failed", _("Failed (no retry left)")),
            ("waiting", _("Waiting to be sent")),
            ("undelivered", _("Not delivered yet")),
            ("sending", _("Being sent now")),
            ("dropped", _("Dropped")),
            ("delivered", _("Delivered")),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value == "failing":
            return queryset.filter(
                state__in=(WebhookState.PENDING, WebhookState.FAILED), attempts__gt=0
            )
        if value == "retrying":
            return queryset.filter(state=WebhookState.PENDING, attempts__gt=0)
        if value == "failed":
            return queryset.filter(state=WebhookState.FAILED)
        if value == "waiting":
            return queryset.filter(state=WebhookState.PENDING, attempts=0)
        if value == "undelivered":
            return queryset.filter(state__in=(WebhookState.PENDING, WebhookState.FAILED))
        if value == "sending":
            return queryset.filter(leased_until__gt=timezone.now())
        if value == "dropped":
            return queryset.filter(state=WebhookState.DROPPED)
        if value == "delivered":
            return queryset.filter(state=WebhookState.DELIVERED)
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RecordAdmin):
    """Every change sent to an API client's webhook URL: its attempts, last HTTP status
    and error (or why it was dropped). Read-only; HQ may resend (after confirming).
    Each client's backlog and breaker are on the API clients list."""

    list_display = (
        "pk",
        "created_at",
        "client",
        "subject_type",
        "subject_ref",
        "event",
        "state",
        "attempts",
        "last_status",
        "last_attempt_at",
        "next_attempt_at",
        "error",
    )
    list_filter = (
        WebhookHealthFilter,
        "state",
        "event",
        "client",
        "subject_type",
        "last_status",
        "created_at",
    )
    search_fields = ("subject_ref", "client__name", "event", "last_error")
    date_hierarchy = "created_at"
    list_select_related = ("client",)
    actions = ["resend_deliveries"]

    @admin.display(description=_("last error"))
    def error(self, obj):
        return obj.last_error[:120]

    @admin.action(description=_("Resend the selected deliveries"))
    def resend_deliveries(self, request, queryset):
        """A confirmation page first; then each delivery is queued again, in order."""
        deliveries = list(queryset.select_related("client").order_by("pk")[:200])
        if request.POST.get("confirm") == "yes":
            n = webhooks.delivery_resend(deliveries=deliveries)
            self.message_user(
                request,
                gettext("%(n)s webhook deliveries queued to be sent again.") % {"n": n},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Resend webhook deliveries"),
            "deliveries": deliveries,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        template = "admin/retail/webhookdelivery/resend_confirm.html"
        return TemplateResponse(request, template, context)


from retail import accounts_admin  # noqa: E402, F401 - second factors, without their secrets
from retail.imports.admin import ImportJobAdmin  # noqa: E402 - uploads, dry runs, exports

admin.site.register(ImportJob, ImportJobAdmin)
