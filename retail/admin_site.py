from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from retail import access


class AisleAdminSite(admin.AdminSite):
    site_header = _("Aisle HQ administration")
    site_title = _("Aisle HQ")
    index_title = _("Network administration")

    def has_permission(self, request) -> bool:
        # Only HQ admins, and only once this session passed TOTP (retail.access).
        return access.may_enter(request, access.Area.ADMIN)
