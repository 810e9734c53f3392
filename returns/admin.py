"""HQ admin for returns: every return read-only, with its lines and event history.
Changes go through `returns.services` (the tablet and the API)."""

from django.contrib import admin


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False
