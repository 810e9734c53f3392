"""Admin for second factors: listed, never shown or edited (#16).

allauth registers `Authenticator` with every field editable, the TOTP secret
included. Aisle replaces it: the list shows who has which factor and when it was
used; its data (the encrypted secret, recovery-code seed) is never shown, nothing
is added or changed by hand. HQ may delete a lost authenticator, so its owner sets
up TOTP again at the next sign-in.
"""

from allauth.mfa.models import Authenticator
from django.contrib import admin

from retail.admin import AisleModelAdmin

if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(AisleModelAdmin):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type", "created_at", "last_used_at")
    search_fields = ("user__email",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
