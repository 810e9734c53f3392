"""What a failed request answers: JSON `{"code", "detail"}` under `/api/`, a friendly
page in the user's language elsewhere.

The pages extend the base template but are rendered without context processors,
so they never query the database: a 500 or a 503 renders while the database is
down. The database unreachable (`OperationalError`, `InterfaceError`) answers 503
`unavailable` with `Retry-After`, from a view (`DatabaseUnavailableMiddleware`) or
from anywhere else in the request (`server_error`, Django's last resort).
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.functional import empty
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(status: int, code: str, detail: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"code": code, "detail": str(detail)}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _loaded_user(request):
    """The signed-in user if this request already loaded it (no query here)."""
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", None)
    if user is None or wrapped is empty:
        return None
    return wrapped if wrapped is not None else user


def page(request, template: str, status: int, **context) -> HttpResponse:
    context = {"request": request, **context}
    user = _loaded_user(request)
    if user is not None:
        context["user"] = user
        context["csrf_token"] = get_token(request)
    response = HttpResponse(render_to_string(template, context), status=status)
    return response


def unavailable(request) -> HttpResponse:
    """The database cannot be reached: 503, try again shortly."""
    retry = str(RETRY_AFTER_SECONDS)
    if is_api(request):
        return json_error(
            503,
            "unavailable",
            _("The service is briefly unavailable. Retry in a few seconds."),
            Retry_After=retry,
        )
    response = page(request, "503.html", 503)
    response["Retry-After"] = retry
    return response


class DatabaseUnavailableMiddleware:
    """A view that meets the database down answers 503, never a 500 (in DEBUG too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("Database unavailable (%s)", type(exception).__name__)
            return unavailable(request)
        return None


# --- Django's error handlers (`handler400` … in `retail/urls.py`) ----------------


def bad_request(request, exception=None):
    if is_api(request):
        return json_error(400, "bad_request", _("The request is not valid."))
    return page(request, "400.html", 400)


def permission_denied(request, exception=None):
    if is_api(request):
        return json_error(
            403, "permission_denied", _("You do not have permission to perform this action.")
        )
    return page(request, "403.html", 403)


def page_not_found(request, exception=None):
    if is_api(request):
        return json_error(404, "not_found", _("There is no such API endpoint."))
    return page(request, "404.html", 404)


def server_error(request):
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        return unavailable(request)
    if is_api(request):
        detail = _("Something went wrong on our side. It was logged.")
        return json_error(500, "server_error", detail)
    return page(request, "500.html", 500)


def csrf_failure(request, reason: str = ""):
    """A form without a valid CSRF token: the 403 page, saying to reload."""
    if is_api(request):
        return json_error(403, "csrf_failed", _("The CSRF check failed."))
    response = page(request, "403.html", 403, csrf_failed=True)
    # The tablet's script (static/js/aisle.js) stops sending its kept actions and asks
    # the associate to sign in again: a new page brings a new token.
    response["X-Aisle-Sign-In"] = "1"
    return response
