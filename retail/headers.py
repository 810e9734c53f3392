"""Security headers on every answer (issue 16, "Hardening").

- `Permissions-Policy` (setting `PERMISSIONS_POLICY`) and `Referrer-Policy`
  (`SECURE_REFERRER_POLICY`, also set by Django's SecurityMiddleware) on every answer.
- `Cache-Control: no-store` on every answer to a signed-in person or an API client
  (a token in `Authorization`): pages and API answers carry personal data that no
  browser, shared computer or proxy may keep. A response marked `aisle_cacheable`
  (a catalogue picture, `retail.media`) keeps its own, private, caching.
- Fragments fetched in place (htmx GETs that are not boosted: the polled queues, a
  return's status, the home panels) send `private, no-cache` instead: the browser
  may keep one only to revalidate it, so the next poll carries `If-None-Match`. The
  polled fragments' validators come from `retail.polls` (a version per store, and a
  304 without a query when nothing changed); with no version known they carry none
  (`aisle_unversioned`). Other fragments get an ETag of their content. Their 304s keep
  the same `Cache-Control`: a `no-store` on a 304 would make the browser drop the
  copy it revalidated, and the next poll would come without a validator.
"""

from __future__ import annotations

import hashlib

from csp.middleware import CSPMiddleware
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
            and response.status_code in (200, 304)
            and not response.streaming
            and "no-store" not in response.get("Cache-Control", "")
        ):
            response["Cache-Control"] = REVALIDATE
            if (
                response.status_code == 200
                and not response.has_header("ETag")
                and not getattr(response, "aisle_unversioned", False)
            ):
                response["ETag"] = etag_for(response.content)
            return
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = NO_STORE
        # An Expires in the past for old HTTP/1.0 caches is not needed: no-store wins.


#: The policy of JSON answers: nothing may load, nothing may frame them.
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (`retail.content_policy` says the policy), except on a
    304: it carries no body for a policy to govern — the browser keeps the headers
    of the copy it revalidated — and building the two policies there cost the polls'
    cheapest answer a tenth of its time (`bench/pages.py`); and on JSON, which gets
    `JSON_POLICY`."""

    def process_response(self, request, response):
        if response.status_code == 304:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            # A JSON answer (the API, a refusal to the tablet's script) is data no
            # browser renders as a page: a fixed policy that allows nothing, instead of
            # the pages' policy built per answer (a tenth of an availability call).
            response.headers.setdefault("Content-Security-Policy", JSON_POLICY)
            return response
        return super().process_response(request, response)
