"""Rendered fragments kept in the cache for every reader.

A fragment that holds forms is rendered with `CSRF_SLOT` as its CSRF token (pass
`"csrf_token": CSRF_SLOT` in its context and render it without the request), kept
once for everyone, and given each reader's own token on the way out:

    return fragments.for_reader(request, html)
"""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

CSRF_SLOT = "aisle-csrf-slot-0d5e1c"


def for_reader(request, html: str, **slots: str) -> SafeString:
    """`html` with the reader's CSRF token in place of `CSRF_SLOT`, and each other
    slot (placeholder=value) filled in."""
    html = html.replace(CSRF_SLOT, get_token(request))
    for placeholder, value in slots.items():
        html = html.replace(placeholder, value)
    return mark_safe(html)  # noqa: S308 - our own templates' output
