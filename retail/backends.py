"""Authentication backends that load the staff profile with the user.

Every staff page needs the user, their profile (role) and their home store: one
query with the user instead of three (`retail.access` reads the cached profile).

With a shared cache (`settings.AISLE_SHARED_CACHE`), that user is kept there for a
minute at most and dropped the moment it changes: any save or delete of the user or
their profile forgets them (at once and again when the transaction commits), any
change to a store forgets every kept user (a version key). A store manager's other
stores are kept with them and forgotten when that list changes. So a password change, a
switched-off account or a new role takes effect on the next request.
"""

from allauth.account.auth_backends import AuthenticationBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

from retail import versions
from retail.models import Role

USER_SECONDS = 60
STORES_VERSION = "aisle:auth:stores-version"


def _key(user_id) -> str:
    return f"aisle:auth:user:{user_id}"


def _load(user_id):
    users = get_user_model()._default_manager.select_related("staff_profile__home_store")
    try:
        user = users.get(pk=user_id)
    except (get_user_model().DoesNotExist, ValueError, TypeError):
        return None
    from retail.access import role_of

    if settings.AISLE_SHARED_CACHE and role_of(user) == Role.HQ_ADMIN:
        # Kept with the user (and forgotten with them when an authenticator changes):
        # whether they have set up TOTP, which every HQ page asks (`access`).
        from allauth.mfa.models import Authenticator

        user._aisle_has_totp = Authenticator.objects.filter(
            user_id=user.pk, type=Authenticator.Type.TOTP
        ).exists()
    if settings.AISLE_SHARED_CACHE and role_of(user) in (Role.ASSOCIATE, Role.STORE_MANAGER):
        # Kept with the user too: the other stores they act in (a manager of two
        # stores), which every tablet request asks (`access.current_store`), so a poll
        # in either store needs no query. Forgotten when they change (`forget_stores_of`).
        user._aisle_other_stores = {s.pk: s for s in user.staff_profile.other_stores.all()}
    return user


def _kept_user(user_id):
    """The user from the shared cache (one round trip), else from the database."""
    key = _key(user_id)
    found = cache.get_many([key, STORES_VERSION])
    version, entry = found.get(STORES_VERSION), found.get(key)
    if version is not None and entry is not None and entry[0] == version:
        return entry[1]
    user = _load(user_id)
    if user is not None:
        cache.set(key, (version or versions.current(STORES_VERSION), user), USER_SECONDS)
    return user


def forget_user(sender, instance, **kwargs) -> None:
    """A user, a staff profile or an authenticator was saved or deleted: drop the
    kept user."""
    key = _key(instance.pk if sender is get_user_model() else instance.user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def forget_stores_of(sender, instance, action, reverse, **kwargs) -> None:
    """m2m_changed of a staff profile's other stores: drop the kept user (changed from
    a store's side, every kept user)."""
    if not action.startswith("post_"):
        return
    if reverse:
        forget_all_users()
    else:
        forget_user(type(instance), instance)


def forget_all_users(**kwargs) -> None:
    """A store changed (name, time zone, …): every kept user holds their home store."""
    versions.bump(STORES_VERSION)
    transaction.on_commit(lambda: versions.bump(STORES_VERSION))


class ProfileLoadingMixin:
    def get_user(self, user_id):
        user = _kept_user(user_id) if settings.AISLE_SHARED_CACHE else _load(user_id)
        if user is None:
            return None
        return user if self.user_can_authenticate(user) else None


class StaffModelBackend(ProfileLoadingMixin, ModelBackend):
    """Django's password backend (admin, tests' force_login)."""


class StaffAllauthBackend(ProfileLoadingMixin, AuthenticationBackend):
    """allauth's backend (the login form, by e-mail)."""
