"""What the tablet needs when the store's Wi-Fi drops.

- `/sw.js`: the service worker (`templates/offline/sw.js`), at the site's root so its
  scope covers every page. It keeps one page, `/offline/`, and answers with it when a
  page cannot be loaded for the network — a banner of Aisle's instead of the browser's
  error page. It handles page loads only: the actions of a page (scans, notes) are
  queued by `static/js/aisle.js`, never by the worker.
- `/offline/`: that page, in both languages (it is kept before anyone knows which
  language the next failure will need), naming nobody and holding no token.
- `client_strings()`: the words `aisle.js` shows, translated, for `{% client_strings %}`.

Both URLs are public (`access.PUBLIC_ASSETS`): they reveal nothing and are fetched by
the browser itself.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    offline = render_to_string("offline/offline.html", {"css": static("css/aisle.css")})
    version = hashlib.sha256(offline.encode()).hexdigest()[:12]
    body = render_to_string(
        "offline/sw.js",
        {"version": version, "offline_url": reverse("offline"), "css": static("css/aisle.css")},
    )
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")


@require_safe
def offline_page(request: HttpRequest) -> HttpResponse:
    html = render_to_string("offline/offline.html", {"css": static("css/aisle.css")})
    response = HttpResponse(html)
    response["Cache-Control"] = "no-cache"
    return response


def client_strings() -> dict[str, str]:
    """The sentences of `static/js/aisle.js`, in the reader's language; `{n}` and
    `{what}` are filled in by the script."""
    return {
        "offline": _(
            "No network. Scans and other actions are kept on this tablet and sent when "
            "the network returns."
        ),
        "online": _("The network is back."),
        "waiting_one": _("1 action waiting to send"),
        "waiting_many": _("{n} actions waiting to send"),
        "sending": _("Sending the actions kept on this tablet…"),
        "sent": _("Every action kept on this tablet has been sent."),
        "refused": _("Not applied: {what}"),
        "acknowledge": _("OK"),
        "retry": _("Retry"),
        "needs_network": _(
            "This needs the network: nothing was sent. Try again when the network is back."
        ),
        "server_error": _("Something went wrong on the server; nothing was lost. Try again."),
        "sign_in": _(
            "Your session has ended. Sign in again: the actions kept on this tablet are sent "
            "then, as you."
        ),
        "discard": _(
            "{n} action(s) have not been sent yet. Signing out deletes them from this tablet. "
            "Sign out anyway?"
        ),
        "unknown_refusal": _("The server refused it."),
        "queued_label": _("kept at {time}"),
    }
