"""Aisle's Content-Security-Policy, set by django-csp on every answer.

`policies()` builds the two settings django-csp reads (`CONTENT_SECURITY_POLICY`
and `CONTENT_SECURITY_POLICY_REPORT_ONLY`) for `retail/settings.py`, so it imports
nothing of Django's models. Only files Aisle serves itself may run or style a page:
no inline script, no inline event handler (`onclick=`, `hx-on`), no `style`
attribute or `<style>` element, no `eval` (htmx is configured in base.html to need
none). Pictures may also be `data:` URIs (allauth's TOTP QR code, the favicon,
Swagger UI's icons). The browser reports what it blocks to `/csp-report/`
(`retail.csp_report`).

A third-party page that truly needs more gets it from :func:`allow` on its view,
never from the whole policy.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import NONE, SELF
from django.urls import reverse_lazy

DIRECTIVES: dict[str, object] = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": [SELF, "data:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    "worker-src": [SELF],  # the tablets' service worker
    "manifest-src": [SELF],
    "frame-ancestors": [NONE],
    "form-action": [SELF],
    "base-uri": [SELF],
    "object-src": [NONE],
    "report-uri": reverse_lazy("csp_report"),
}
# Browsers ignore (and warn about) frame-ancestors in a report-only policy; framing
# stays refused meanwhile by X-Frame-Options: DENY.
NOT_IN_REPORT_ONLY = frozenset({"frame-ancestors"})


# allauth's e-mail page (`/accounts/email/`), while a new address waits for its
# verification, holds an empty form (hidden inputs only) with `style="display: none"`.
# That one attribute value is allowed there by its hash: no other style attribute on
# that page, and nothing on any other page. (A test computes the hash of every style
# attribute the page has, so an allauth upgrade that changes it is noticed.)
ALLAUTH_EMAIL_PAGE = {
    "style-src-attr": ["'unsafe-hashes'", "'sha256-ZdHxw9eWtnxUb3mk6tBS+gIiVUPE3pGM470keHPDFlE='"]
}


def policies(*, report_only: bool) -> tuple[dict | None, dict | None]:
    """(`CONTENT_SECURITY_POLICY`, `CONTENT_SECURITY_POLICY_REPORT_ONLY`): the policy
    enforced (the default), or only reported (`CSP_REPORT_ONLY=1`, the report-only
    phase: the browser blocks nothing and reports everything it would have blocked)."""
    if report_only:
        directives = {k: v for k, v in DIRECTIVES.items() if k not in NOT_IN_REPORT_ONLY}
        return None, {"DIRECTIVES": directives}
    return {"DIRECTIVES": dict(DIRECTIVES)}, None


def allow(directives: dict[str, list[str]]) -> Callable:
    """A view decorator: its answers add `directives` to the policy, enforcing or
    report-only, whichever is in force (django-csp's `csp_update` for both).
    For one third-party page that truly needs it; say why where it is used."""
    from csp.decorators import csp_update

    def decorator(view: Callable) -> Callable:
        return csp_update(directives)(csp_update(directives, REPORT_ONLY=True)(view))

    return decorator
