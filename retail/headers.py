"""Security headers on every answer (issue 16, "Hardening").

- `Permissions-Policy` (setting `PERMISSIONS_POLICY`) and `Referrer-Policy`
  (`SECURE_REFERRER_POLICY`, also set by Django's SecurityMiddleware) on every answer.
- `Cache-Control: no-store` on every answer to a signed-in person or an API client
  (a token in `Authorization`): pages and API answers carry personal data that no
  browser, shared computer or proxy may keep. A response marked `aisle_cacheable`
  (a catalogue picture, `retail.media`) keeps its own, private, caching.
- Polling fragments (htmx GETs that are not boosted: the queue, a return's status)
  send `private, no-cache` with an `ETag` instead, so a later change can answer an
  unchanged poll with 304 (`If-None-Match`) without sending the data again.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

NO_STORE = "no-store"
REVALIDATE = "private, no-cache"


def is_poll(request) -> bool:
    """A fragment fetched by htmx in place (a poll), not a boosted page load."""
    return (
        request.method in ("GET", "HEAD")
        and request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
    )


def _personal(request) -> bool:
    user = getattr(request, "user", None)
    return bool(request.META.get("HTTP_AUTHORIZATION")) or bool(
        user is not None and user.is_authenticated
    )


def etag_for(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and not response.has_header("Permissions-Policy"):
            response["Permissions-Policy"] = policy
        referrer = getattr(settings, "SECURE_REFERRER_POLICY", None) or "same-origin"
        if not response.has_header("Referrer-Policy"):
            response["Referrer-Policy"] = referrer
        if _personal(request):
            self._private(request, response)
        return response

    def _private(self, request, response) -> None:
        if getattr(response, "aisle_cacheable", False):
            return  # no personal data (a catalogue picture): its own Cache-Control stands
        if (
            is_poll(request)
            and response.status_code == 200
            and not response.streaming
            and "no-store" not in response.get("Cache-Control", "")
        ):
            response["Cache-Control"] = REVALIDATE
            if not response.has_header("ETag"):
                response["ETag"] = etag_for(response.content)
            return
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = NO_STORE
        # An Expires in the past for old HTTP/1.0 caches is not needed: no-store wins.
