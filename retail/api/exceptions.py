"""One exception handler: every API error is JSON `{"code", "detail", ...}`."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import connections
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from retail import errors

logger = logging.getLogger("django.request")


class ApiError(exceptions.APIException):
    """An endpoint's own error: a status, a code, a detail and any extra fields."""

    def __init__(self, *, status_code: int, code: str, detail: str, **extra):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.code = code
        self.extra = extra


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is larger than 4 MB.")
    default_code = "too_large"


CODES = [
    (exceptions.ParseError, "parse_error"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (TooLarge, "too_large"),
]


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation errors as {"field": [messages]} ("lines.0.sku" for nesting)."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_errors(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            if item:
                out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def error_body(code: str, detail: str, **extra) -> dict:
    return {"code": code, "detail": str(detail), **extra}


def _roll_back_request() -> None:
    """Mark a request-wide transaction (ATOMIC_REQUESTS) for rollback, as DRF does;
    written here because importing DRF's views from this module (which its settings
    load through the parsers) would be an import circle."""
    for connection in connections.all(initialized_only=True):
        if connection.settings_dict.get("ATOMIC_REQUESTS") and connection.in_atomic_block:
            connection.set_rollback(True)


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = TooLarge()
    if isinstance(exc, ApiError):
        return Response(error_body(exc.code, exc.detail, **exc.extra), status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            "validation_error", _("The request is not valid."), errors=flatten_errors(exc.detail)
        )
        return Response(body, status=400)
    if isinstance(exc, errors.DATABASE_ERRORS):
        _roll_back_request()
        logger.warning("Database unavailable (%s)", type(exc).__name__)
        return errors.unavailable(context["request"])
    if not isinstance(exc, exceptions.APIException):
        # A real bug: logged with its traceback (as Django would), answered in JSON.
        _roll_back_request()
        request = context.get("request")
        logger.error(
            "Internal Server Error: %s",
            getattr(request, "path", "?"),
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        response = Response(
            error_body("server_error", _("Something went wrong on our side. It was logged.")),
            status=500,
        )
        response._has_been_logged = True  # above, with the traceback: not twice
        return response
    code = next((c for cls, c in CODES if isinstance(exc, cls)), "error")
    headers = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        headers["Retry-After"] = str(int(exc.wait) + 1)
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        headers["WWW-Authenticate"] = "Token"
        status_code = 401
    else:
        status_code = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if isinstance(exc, exceptions.Throttled):
        detail = _("Too many requests: slow down and retry later.")
    return Response(error_body(code, detail), status=status_code, headers=headers)


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/v1/ answer JSON, never an HTML page, whatever the
    method (exempt from CSRF: the API has no cookies to protect)."""
    return JsonResponse(error_body("not_found", _("There is no such API endpoint.")), status=404)
