from django.contrib import admin

from clienteling.models import ClientelingSettings, FollowUpTask, Note, Outreach
from retail.admin import AisleModelAdmin as HQOnly


@admin.register(ClientelingSettings)
class ClientelingSettingsAdmin(HQOnly):
    list_display = ("__str__", "retention_months")

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
