"""HQ admin for appointments: topics (and where they are offered), associates' working
hours and exceptions, and the appointments themselves, read-only with their history
and set-asides (changes go through `clienteling.appointments.services`). Every admin
here is an `AisleModelAdmin`, so `retail.access` decides what each list shows."""

from django.contrib import admin

from clienteling.appointments.models import (
    Appointment,
    AppointmentEvent,
    SetAside,
    Topic,
    TopicOffering,
    WorkingException,
    WorkingHours,
)
from retail.admin import AisleModelAdmin, RecordAdmin


class TopicOfferingInline(admin.TabularInline):
    model = TopicOffering
    extra = 0
    autocomplete_fields = ("store",)


@admin.register(Topic)
class TopicAdmin(AisleModelAdmin):
    list_display = (
        "code",
        "name",
        "minutes",
        "buffer_minutes",
        "skill",
        "level",
        "certified",
        "set_aside",
        "active",
    )
    list_filter = ("active", "set_aside", "certified", "skill", "offerings__store")
    search_fields = ("code", "name", "name_zh")
    list_select_related = ("skill",)
    inlines = [TopicOfferingInline]


@admin.register(WorkingHours)
class WorkingHoursAdmin(AisleModelAdmin):
    list_display = ("associate", "store", "weekday", "starts", "ends", "break_starts", "break_ends")
    list_filter = ("store", "weekday")
    search_fields = ("associate__email", "associate__first_name", "associate__last_name")
    list_select_related = ("associate", "store")
    raw_id_fields = ("associate",)


@admin.register(WorkingException)
class WorkingExceptionAdmin(AisleModelAdmin):
    list_display = ("associate", "kind", "starts_on", "ends_on", "starts", "ends")
    list_filter = ("kind",)
    search_fields = ("associate__email", "associate__first_name", "associate__last_name")
    list_select_related = ("associate",)
    raw_id_fields = ("associate",)
    date_hierarchy = "starts_on"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AppointmentEventInline(ReadOnlyInline):
    model = AppointmentEvent
    fields = ("at", "kind", "from_state", "to_state", "by", "reason")
    readonly_fields = fields


class SetAsideInline(ReadOnlyInline):
    model = SetAside
    fields = ("variant", "quantity", "state", "location", "created_at", "ended_at", "end_reason")
    readonly_fields = fields


@admin.register(Appointment)
class AppointmentAdmin(RecordAdmin):
    list_display = ("appointment_ref", "store", "topic", "associate", "start", "state", "source")
    list_filter = ("state", "source", "store", "topic")
    search_fields = ("appointment_ref", "code", "customer__customer_ref", "associate__email")
    list_select_related = ("store", "topic", "associate")
    date_hierarchy = "start"
    inlines = [SetAsideInline, AppointmentEventInline]
