"""Polls that cost nothing when nothing changed (issue 23).

The tablet's polled fragments (the pickup queue and its home panel, the returns
approval queue and panel, a return's status) answer conditional requests:

- Each kind of fragment has a version per scope (a store, or one return) in the
  shared cache (`retail.versions`). The services that change what a fragment shows
  call `changed(kind, scope, ...)`, which bumps the version at once and again when
  their transaction commits: the bump after the commit is the one that counts (a
  reader that took the first one may have drawn the data from before the commit).
- The ETag holds everything that changes the bytes: the kind's version, the stores'
  version (a store's name or time zone), the current store, the reader's role and
  language, the query (filter, page), the time step (see below) and, for a fragment
  drawn for one person, the user and their CSRF cookie.
- A poll whose `If-None-Match` holds the ETag is answered 304 before the view runs,
  without a database query: the session, the signed-in user and the versions all
  come from the shared cache (one round trip for the versions).
- A poll that finds news is rendered once per ETag and the bytes kept in the cache
  for the step: every other tablet of the store gets them without a query.
- No version known (no shared cache, or one emptied or unreachable): a normal 200
  without an ETag, never a 304 that could freeze a screen.

**The time step.** Fragments show relative times ("waiting 5 minutes") and sort by
time ("overdue"), so their bytes change with the clock. They are drawn for the
start of the current step (`AISLE_POLL_TIME_STEP_SECONDS`, a minute: the finest
unit those texts show) and the step is part of the ETag. Each store's steps start
at its own second of the minute, so the network's tablets do not all render at
once. The step also bounds how long a change that bumps nothing can go unseen: a
customer renamed, a bump lost to a Redis outage at the moment of a commit.

Access decides first: the decorator sits under `area_required` (anonymous: 302,
wrong role: 403, as without it), and only what `access.poll_audience` names (store
staff, in a store they may act in) is answered from versions; a user of another
store has another ETag and another kept copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

from retail import access, counters, versions
from retail.backends import STORES_VERSION

# Kinds of polled fragments, each with its own versions.
PICKUPS = "pickups"  # a store's pickup queue and home panel
RETURNS = "returns"  # a store's returns approval queue and home panel
RETURN = "return"  # one return's status part

REVALIDATE = "private, no-cache"
KEPT_MARGIN = 10  # seconds a kept render outlives its step (clocks differ a little)


def version_key(kind: str, scope) -> str:
    return f"aisle:poll:{kind}:{scope}"


def changed(kind: str, *scopes) -> None:
    """What the `kind` fragments of these scopes show changed: their versions are
    bumped now and when the current transaction commits (`versions.bump_on_commit`)."""
    versions.bump_on_commit(version_key(kind, scope) for scope in scopes if scope is not None)


def now(request) -> dt.datetime:
    """The time a polled fragment is drawn for: the start of its step when the poll is
    answered from versions (so every tablet gets the same bytes), else now."""
    return getattr(request, "aisle_poll_now", None) or timezone.now()


def _step(store_id: int) -> tuple[int, dt.datetime]:
    """(the current step's number, its start) for a store."""
    seconds = max(1, int(settings.AISLE_POLL_TIME_STEP_SECONDS))
    offset = (store_id * 7919) % seconds
    number = int((time.time() + offset) // seconds)
    start = number * seconds - offset
    return number, dt.datetime.fromtimestamp(start, tz=dt.UTC)


def kept_value(kind: str, scope, name: str, compute: Callable[[dt.datetime], object], *, store_id):
    """`compute(at)` for the start of the store's current time step, kept in the shared
    cache under the kind's version for `scope`: what every tablet of the store draws
    alike (the queue's counts, say) is drawn once per change and step, however many
    open the page. No version known (no shared cache, one emptied or unreachable):
    computed for now, not kept."""
    if not settings.AISLE_SHARED_CACHE:
        return compute(timezone.now())
    key = version_key(kind, scope)
    found = versions.known([key, STORES_VERSION])
    if found is None:
        return compute(timezone.now())
    step, start = _step(store_id)
    parts = [kind, str(scope), name, found[key], found[STORES_VERSION], str(step)]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    kept_key = f"aisle:poll:value:{digest}"
    value = cache.get(kept_key)
    if value is None:
        value = compute(start)
        cache.set(kept_key, value, int(settings.AISLE_POLL_TIME_STEP_SECONDS) + KEPT_MARGIN)
    return value


def _is_fragment_get(request) -> bool:
    """An htmx GET in place (a poll, a panel's load), not a boosted page."""
    return (
        request.method == "GET"
        and request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
    )


def _matches(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == bare for tag in parse_etags(header))


def _headers(response: HttpResponse, etag: str | None) -> HttpResponse:
    response["Cache-Control"] = REVALIDATE
    if etag:
        response["ETag"] = etag
    else:
        response.aisle_unversioned = True  # `retail.headers` adds no validator then
    patch_vary_headers(response, ("HX-Request",))
    return response


def conditional(
    kind: str,
    *,
    scope: Callable[[dict], object] | None = None,
    query: tuple[str, ...] = (),
    personal: bool = False,
    only_if: Callable | None = None,
) -> Callable:
    """Answer a polled fragment view from versions (see the module's text).

    `scope(kwargs)` names the version's scope from the URL's arguments (default: the
    current store); `query` the GET parameters that change the bytes; `personal`
    fragments (forms, a decision only this user may take) are kept per user and CSRF
    cookie; `only_if(request)` limits it to some fragments of the view."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not _is_fragment_get(request) or (only_if is not None and not only_if(request)):
                return view(request, *args, **kwargs)
            audience = access.poll_audience(request) if settings.AISLE_SHARED_CACHE else None
            if audience is None:
                # No shared cache (the embedded default), or nobody it may answer
                # from versions: the view answers (a redirect, a 403 …) as ever.
                response = view(request, *args, **kwargs)
                return _unversioned(kind, request, response)
            store, role = audience
            scope_id = scope(kwargs) if scope is not None else store.pk
            found = versions.known([version_key(kind, scope_id), STORES_VERSION])
            if found is None:
                return _unversioned(kind, request, view(request, *args, **kwargs))
            step, request.aisle_poll_now = _step(store.pk)
            parts = [
                kind,
                str(scope_id),
                found[version_key(kind, scope_id)],
                found[STORES_VERSION],
                str(step),
                str(store.pk),
                str(role),
                translation.get_language() or "",
                *(f"{name}={request.GET.get(name, '')}" for name in query),
            ]
            if personal:
                parts += [str(request.user.pk), request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")]
            digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
            etag = f'W/"{digest}"'
            if _matches(request, etag):
                counters.poll_answers.labels(kind, "not_modified").inc()
                return _headers(HttpResponseNotModified(), etag)
            kept_key = f"aisle:poll:kept:{digest}"
            kept = cache.get(kept_key)
            if kept is not None:
                counters.poll_answers.labels(kind, "kept").inc()
                content, content_type = kept
                return _headers(HttpResponse(content, content_type=content_type), etag)
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or response.streaming:
                return response  # a redirect, a refusal: no validator, nothing kept
            seconds = int(settings.AISLE_POLL_TIME_STEP_SECONDS) + KEPT_MARGIN
            cache.set(kept_key, (response.content, response["Content-Type"]), seconds)
            counters.poll_answers.labels(kind, "rendered").inc()
            return _headers(response, etag)

        return wrapped

    return decorator


def _unversioned(kind: str, request, response: HttpResponse) -> HttpResponse:
    if response.status_code == 200 and not response.streaming:
        counters.poll_answers.labels(kind, "unversioned").inc()
        return _headers(response, None)
    return response
