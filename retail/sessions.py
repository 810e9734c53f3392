"""Sessions that cannot be turned against their owners (`retail.access` decides).

`SessionGuardMiddleware`, on every signed-in request:

- refuses (403) what a kiosk account may not open: allauth's account pages, the
  sign-out, staff areas (`access.may_open_path`);
- ends a staff session idle for longer than `AISLE_STAFF_IDLE_SECONDS` (default 30
  minutes), and makes an HQ session pass TOTP again after
  `AISLE_HQ_TOTP_IDLE_SECONDS` (default 10 minutes) without activity;
- resets a kiosk idle for `AISLE_KIOSK_IDLE_SECONDS` (default 2 minutes): its
  start page, the default language, and nothing of the last customer in the session
  (only the sign-in and the kiosk's store are kept).

A poll from an open page (`access.is_poll`) is not activity and writes no session;
nor is a report the browser sends by itself (`access.is_browser_report`).
Activity is written at most every `ACTIVITY_STEP` seconds, so a busy tablet does
not save its session on every request.

Deactivating a staff account ends all its sessions at once (`end_sessions_of`, on
the user's save); a session whose user is gone or inactive is flushed on its next
request whatever changed the account.
"""

from __future__ import annotations

import time
from importlib import import_module

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils import timezone, translation

from retail import access

LAST_SEEN_KEY = "aisle_last_seen"
ACTIVITY_STEP = 60
# allauth's record of how this session authenticated (password, mfa …).
AUTH_RECORDS_KEY = "account_authentication_methods"
# What a kiosk's session keeps when it is reset: its sign-in and its store.
KIOSK_KEEPS = frozenset(
    {
        auth.SESSION_KEY,
        auth.BACKEND_SESSION_KEY,
        auth.HASH_SESSION_KEY,
        access.STORE_SESSION_KEY,
        AUTH_RECORDS_KEY,
        "account_authentication_methods_user",
    }
)


class SessionGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated:
            if auth.SESSION_KEY in request.session:
                # Signed in, but the account is gone or switched off: end it here too.
                request.session.flush()
            return self.get_response(request)
        if not access.may_open_path(user, request.path):
            raise PermissionDenied
        now = time.time()
        last = request.session.get(LAST_SEEN_KEY)
        idle = now - last if isinstance(last, int | float) else 0.0
        poll = access.is_poll(request) or access.is_browser_report(request)

        kiosk_idle = access.kiosk_idle_seconds(user)
        if kiosk_idle is not None:
            if idle >= kiosk_idle:
                reset_kiosk(request)
                request.session[LAST_SEEN_KEY] = now
                if request.path != reverse("kiosk:home") or request.method != "GET":
                    return _forget_language(redirect("kiosk:home"))
                return _forget_language(self.get_response(request))
        else:
            limit = access.idle_limit(user)
            if limit is not None and idle > limit:
                auth.logout(request)
                return _to_login(request)
            totp_limit = access.second_factor_idle_limit(user)
            if totp_limit is not None and idle > totp_limit:
                forget_second_factor(request)
        if not poll and (last is None or idle >= ACTIVITY_STEP):
            request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


def _to_login(request) -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
        return response
    return redirect_to_login(request.get_full_path())


def _forget_language(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
    )
    return response


def reset_kiosk(request) -> None:
    """Back to a fresh kiosk: default language, no messages, nothing kept in the
    session but the sign-in and the store."""
    for key in list(request.session.keys()):
        if key not in KIOSK_KEEPS:
            del request.session[key]
    for _message in messages.get_messages(request):
        pass  # read, so dropped
    translation.activate(settings.LANGUAGE_CODE)
    request.LANGUAGE_CODE = settings.LANGUAGE_CODE


def forget_second_factor(request) -> None:
    """The session must pass TOTP again (allauth's records without the mfa step)."""
    records = request.session.get(AUTH_RECORDS_KEY) or []
    kept = [r for r in records if r.get("method") != "mfa"]
    if kept != records:
        request.session[AUTH_RECORDS_KEY] = kept
    if hasattr(request, "_aisle_second_factor"):
        del request._aisle_second_factor


def signed_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: signing in is activity (a new sign-in starts a fresh idle clock)."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN_KEY] = time.time()


def end_sessions_of(user_id) -> int:
    """End every session of this user (in the database and the shared cache)."""
    from django.contrib.sessions.models import Session

    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(auth.SESSION_KEY)) == str(user_id):
            store(session.session_key).delete()
            ended += 1
    return ended


def end_sessions_on_deactivation(sender, instance, **kwargs) -> None:
    """post_save of a user: a switched-off account keeps no session."""
    if not instance.is_active and instance.pk is not None:
        user_id = instance.pk
        transaction.on_commit(lambda: end_sessions_of(user_id))
