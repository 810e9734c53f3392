"""`POST /csp-report/`: where browsers report what the Content-Security-Policy blocked
(`retail.content_policy`), or would have blocked in the report-only phase.

Anyone may post (`access.PUBLIC_REPORTS`): the browser sends a report by itself,
signed in or not. Each report becomes one warning line on the `retail.csp_report`
logger and nothing else, with no personal data: the directive, the blocked
resource's scheme and host only (or the browser's keyword: `inline`, `eval`), and
the document's path without its query string. Nothing is stored.

- Bodies: `application/csp-report` (`report-uri`: `{"csp-report": {...}}`),
  `application/reports+json` (the Reporting API: a list of reports), or plain
  `application/json` of either shape; anything else 415.
- At most `MAX_BYTES` (16 KB) of body: more is 413, unread. Not JSON, or JSON that
  is no report: 400 with a message. Accepted: 204.
- A page with a violation reports it on every load, so each process logs at most
  `AISLE_CSP_REPORTS_PER_MINUTE` lines a minute; after a minute that dropped some,
  one line says how many.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from retail.errors import json_error

logger = logging.getLogger(__name__)

MAX_BYTES = 16 * 1024
CONTENT_TYPES = frozenset(
    {"application/csp-report", "application/reports+json", "application/json"}
)
WINDOW_SECONDS = 60.0
# What a browser writes instead of a URL for what it blocked.
KEYWORDS = frozenset(
    {"inline", "eval", "wasm-eval", "self", "trusted-types-policy", "trusted-types-sink"}
)
# Written as a bare scheme by some browsers (`data` for a data: URI).
SCHEMES = frozenset({"data", "blob", "filesystem", "about"})
_DIRECTIVE = re.compile(r"[a-z][a-z-]{0,39}")
_HOST = re.compile(r"[A-Za-z0-9.\-\[\]:]{1,255}")
_PATH_UNSAFE = re.compile(r"[^A-Za-z0-9/._~%!$&'()*+,;=:@-]")
MAX_PATH = 200


class NotAReport(ValueError):
    pass


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def directive_of(value) -> str:
    """`script-src-elem`, `style-src-attr`, …: the first word, if it looks like one."""
    word = _text(value).strip().split(" ", 1)[0].lower()
    return word if _DIRECTIVE.fullmatch(word) else "unknown"


def origin_of(value) -> str:
    """What was blocked, without path or query: `https://cdn.example.net`, `data:`,
    or the browser's keyword (`inline`, `eval`)."""
    text = _text(value).strip()
    if not text:
        return "none"
    if text.lower() in KEYWORDS:
        return text.lower()
    if text.lower() in SCHEMES:
        return f"{text.lower()}:"
    try:
        parts = urlsplit(text)
    except ValueError:
        return "unreadable"
    scheme = parts.scheme.lower()
    if not re.fullmatch(r"[a-z][a-z0-9+.-]{0,19}", scheme):
        return "unreadable"
    if not parts.netloc:
        return f"{scheme}:"  # data:, blob:, about: …
    host = parts.netloc.rsplit("@", 1)[-1]  # never a user name or password
    return f"{scheme}://{host.lower()}" if _HOST.fullmatch(host) else f"{scheme}:"


def path_of(value) -> str:
    """The document's path without scheme, host, query string or fragment. A path
    Aisle knows is written as its route, its values left out
    (`/store/customers/<int:pk>/`, `/unsubscribe/<str:token>/`): the page is what
    matters, and a signed token or a customer's id stays out of the logs. Any other
    path (a 404 page) is cut to `MAX_PATH` characters, with nothing that could break
    the log line."""
    text = _text(value).strip()
    try:
        path = urlsplit(text).path if text else ""
    except ValueError:
        return "unreadable"
    if not path:
        return "none"
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is not None and match.route:
        return "/" + match.route.lstrip("^")
    return _PATH_UNSAFE.sub("?", path)[:MAX_PATH]


def violations(body: bytes) -> list[dict[str, str]]:
    """The reports in a body: `{"directive", "blocked", "document", "disposition"}`."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAReport(_("The report is not valid JSON.")) from exc
    found = []
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        report = data["csp-report"]
        found.append(
            {
                "directive": directive_of(
                    report.get("effective-directive") or report.get("violated-directive")
                ),
                "blocked": origin_of(report.get("blocked-uri")),
                "document": path_of(report.get("document-uri")),
                "disposition": "report" if report.get("disposition") == "report" else "enforce",
            }
        )
    elif isinstance(data, list) and data:
        for item in data[:20]:
            body_ = item.get("body") if isinstance(item, dict) else None
            if not isinstance(body_, dict) or item.get("type") != "csp-violation":
                continue
            found.append(
                {
                    "directive": directive_of(body_.get("effectiveDirective")),
                    "blocked": origin_of(body_.get("blockedURL")),
                    "document": path_of(body_.get("documentURL") or item.get("url")),
                    "disposition": "report" if body_.get("disposition") == "report" else "enforce",
                }
            )
        if not found:
            raise NotAReport(_("The body holds no Content-Security-Policy report."))
    else:
        raise NotAReport(_("The body holds no Content-Security-Policy report."))
    return found


class _Budget:
    """At most `limit` log lines per minute in this process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._start = 0.0
        self._logged = 0
        self._dropped = 0

    def take(self, limit: int, now: float | None = None) -> tuple[bool, int]:
        """(may this report be logged, how many the minute that just ended dropped)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            dropped_before = 0
            if now - self._start >= WINDOW_SECONDS:
                dropped_before = self._dropped
                self._start, self._logged, self._dropped = now, 0, 0
            if self._logged < limit:
                self._logged += 1
                return True, dropped_before
            self._dropped += 1
            return False, dropped_before

    def reset(self) -> None:
        with self._lock:
            self._start, self._logged, self._dropped = 0.0, 0, 0


budget = _Budget()


def _log(found: list[dict[str, str]]) -> None:
    limit = settings.AISLE_CSP_REPORTS_PER_MINUTE
    for v in found:
        allowed, dropped = budget.take(limit)
        if dropped:
            logger.warning(
                "CSP reports not logged in the last minute: %d (over %d)", dropped, limit
            )
        if allowed:
            logger.warning(
                "CSP violation: directive=%s blocked=%s document=%s disposition=%s",
                v["directive"],
                v["blocked"],
                v["document"],
                v["disposition"],
            )


# CSRF-exempt: the browser posts a report by itself, with no CSRF token, often for a
# page that never had a form. The view changes nothing (it writes one log line), so
# a forged report can do no more than a real one.
@csrf_exempt
@never_cache
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    content_type = request.content_type.lower()
    if content_type not in CONTENT_TYPES:
        return json_error(
            415,
            "unsupported_media_type",
            _("Send a report as application/csp-report or application/reports+json."),
        )
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    body = b"" if declared > MAX_BYTES else request.read(MAX_BYTES + 1)
    if declared > MAX_BYTES or len(body) > MAX_BYTES:
        return json_error(
            413, "too_large", _("A report may be at most %(n)d KB.") % {"n": MAX_BYTES // 1024}
        )
    try:
        found = violations(body)
    except NotAReport as exc:
        return json_error(400, "parse_error", str(exc))
    _log(found)
    return HttpResponse(status=204)
