"""Every tablet action applied once.

A device gives each state-changing action its own id (a UUID, in the `X-Aisle-Action`
header or the `action_id` form field) and keeps it when it retries or replays the action
from its offline queue. `@applied_once` on the view applies the action and records its
answer in the same transaction as its changes; the same id again — a retry, a replay, a
double tap — gets that recorded answer (with `X-Aisle-Replayed: 1`) and changes nothing.
Two copies arriving at once: the second waits on the first's row and then gets its answer.

An id already used by someone else, from another store or for another page is refused
(409, `action_foreign`) — a queue replayed by the next person on a shared tablet applies
nothing as the wrong user. A malformed id is refused (400, `action_id_invalid`). A request
without an id is applied as before (scripts and old pages), once per request.

An action that fails with an exception is rolled back with its record, so a retry applies
it then; a refusal (a 4xx answer: a wrong code, an order cancelled meanwhile) is recorded
and answered the same on every replay.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from retail import access
from retail.action_models import AppliedAction

HEADER = "X-Aisle-Action"
FIELD = "action_id"
REPLAYED = "X-Aisle-Replayed"
#: The answer's headers a replay gives back (content type, redirects, htmx's own).
KEPT_HEADERS = (
    "Content-Type",
    "Location",
    "HX-Redirect",
    "HX-Refresh",
    "HX-Trigger",
    "HX-Retarget",
    "HX-Reswap",
    "HX-Location",
)


def action_id_of(request: HttpRequest) -> str:
    return (request.headers.get(HEADER) or request.POST.get(FIELD) or "").strip()


def _refusal(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    if request.htmx or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": code, "detail": detail}, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


def _replay(request: HttpRequest, prior: AppliedAction, store_id: int | None) -> HttpResponse:
    if prior.user_id != request.user.pk or prior.store_id != store_id or prior.path != request.path:
        return _refusal(
            request,
            409,
            "action_foreign",
            _(
                "This action was already sent by someone else, from another store or "
                "for another page; it was not applied again."
            ),
        )
    response = HttpResponse(bytes(prior.body), status=prior.status)
    for name, value in prior.headers.items():
        response[name] = value
    response[REPLAYED] = "1"
    return response


def _record(action_id: uuid.UUID, request, store_id, response: HttpResponse) -> None:
    body = b"" if response.streaming else response.content
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    AppliedAction.objects.filter(pk=action_id).update(
        status=response.status_code, headers=headers, body=body
    )


def applied_once(view: Callable) -> Callable:
    """Apply a POST with an action id once (see the module); other requests pass."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        raw = action_id_of(request) if request.method == "POST" else ""
        if not raw:
            return view(request, *args, **kwargs)
        try:
            action_id = uuid.UUID(raw)
        except ValueError:
            return _refusal(request, 400, "action_id_invalid", _("This action's id is not valid."))
        store = access.current_store(request)
        store_id = store.pk if store is not None else None
        prior = AppliedAction.objects.filter(pk=action_id).first()
        if prior is not None:
            return _replay(request, prior, store_id)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    # A second copy arriving now waits here until the first commits.
                    AppliedAction.objects.create(
                        pk=action_id,
                        user=request.user,
                        store_id=store_id,
                        path=request.path[:255],
                        status=0,
                    )
            except IntegrityError:
                prior = None
            else:
                response = view(request, *args, **kwargs)
                if response.status_code >= 500:
                    transaction.set_rollback(True)  # not applied: a retry applies it
                else:
                    _record(action_id, request, store_id, response)
                return response
        prior = AppliedAction.objects.get(pk=action_id)
        return _replay(request, prior, store_id)

    return wrapper
