"""Authentication backends that load the staff profile with the user.

Every staff page needs the user, their profile (role) and their home store: one
query with the user instead of three (`retail.access` reads the cached profile).
"""

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ProfileLoadingMixin:
    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("staff_profile__home_store")
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class StaffModelBackend(ProfileLoadingMixin, ModelBackend):
    """Django's password backend (admin, tests' force_login)."""


class StaffAllauthBackend(ProfileLoadingMixin, AuthenticationBackend):
    """allauth's backend (the login form, by e-mail)."""
