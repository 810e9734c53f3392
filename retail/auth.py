"""allauth hooks: staff accounts are made by HQ, never by public sign-up."""

from allauth.account.adapter import DefaultAccountAdapter
from django.shortcuts import resolve_url
from django.utils.translation import gettext_lazy as _


class AisleAccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Too many failed sign-in attempts. Wait a few minutes, then try again."
        ),
    }

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_redirect_url(self, request) -> str:
        return resolve_url("retail:home")
