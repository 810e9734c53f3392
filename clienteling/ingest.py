"""Browsing events in: typed decoding with msgspec, all-or-nothing validation, and
one bulk write per batch.

On PostgreSQL a batch is copied (`COPY`) into a per-connection temporary staging
table, then moved with one statement: its event ids go into `clienteling_eventkey`
(`INSERT … ON CONFLICT (event_id) DO NOTHING RETURNING`) and the events whose id was
new go into the partitioned events table, all in one transaction (the events table
cannot hold a unique `event_id` itself: `clienteling.partitions`). On SQLite the
same rows go in with one `executemany … ON CONFLICT (event_id) DO NOTHING`.
The answer counts what was stored, what was already known (a resent `event_id`,
also twice in one batch) and what was dropped (an unknown customer, or one
without tracking consent).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clienteling.models import SKU_KINDS

MAX_BATCH = 1000
FUTURE_SLACK = dt.timedelta(days=1)

Kind = Literal["product_view", "add_to_cart", "remove_from_cart", "wishlist_add", "search"]
Channel = Literal["web", "app", "store", "kiosk", "social"]


class EventIn(msgspec.Struct):
    event_id: uuid.UUID
    occurred_at: Annotated[dt.datetime, msgspec.Meta(tz=True)]
    kind: Kind
    channel: Channel
    anonymous_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    customer_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None
    url: Annotated[str, msgspec.Meta(max_length=2048)] | None = None


class BatchIn(msgspec.Struct):
    events: Annotated[list[EventIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class _LooseBatch(msgspec.Struct):
    events: list[msgspec.Raw]


class IdentifyIn(msgspec.Struct):
    anonymous_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    customer_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class BatchInvalid(Exception):
    """The batch is refused as a whole; `errors` is {"<index>" or field: {...} or [...]}."""

    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__("invalid batch")


_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def _split_msgspec_error(exc: msgspec.ValidationError) -> tuple[list[str | int], str]:
    """msgspec's "Expected `str`, got `int` - at `$.events[3].kind`" as (path, message)."""
    text = str(exc)
    path: list[str | int] = []
    match = _PATH.search(text)
    if match:
        text = text[: match.start()]
        for part in re.findall(r"\.(\w+)|\[(\d+)\]", match.group("path")):
            path.append(part[0] if part[0] else int(part[1]))
    text = _humanise(text)
    return path, text


def _humanise(text: str) -> str:
    missing = re.match(r"Object missing required field `(\w+)`", text)
    if missing:
        return "missing:" + missing.group(1)
    if text.startswith("Expected `datetime`") or "timezone" in text.lower():
        return _("Give an ISO 8601 time with its offset, e.g. 2026-03-01T10:15:00+00:00.")
    if text.startswith("Invalid enum value"):
        return _("This value is not one of the allowed choices.")
    if text.startswith("Expected `str` of length <="):
        limit = re.search(r"<= (\d+)", text).group(1)
        return _("Ensure this field has no more than %(n)s characters.") % {"n": limit}
    if text.startswith("Expected `str` of length >="):
        return _("This field may not be blank.")
    if text.startswith("Invalid UUID"):
        return _("Give a UUID.")
    if text.startswith("Expected `array` of length"):
        return _("Send 1 to %(n)s events in one batch.") % {"n": f"{MAX_BATCH:,}"}
    return _("This value is not valid: %(reason)s") % {"reason": text}


REQUIRED = ("event_id", "occurred_at", "kind", "channel")


def _item_errors(index: int, raw: bytes) -> dict | None:
    loose = msgspec.json.decode(raw)
    if not isinstance(loose, dict):
        return {"non_field_errors": [_("Each event is an object.")]}
    missing = [name for name in REQUIRED if loose.get(name) is None]
    if missing:
        return {name: [_("This field is required.")] for name in missing}
    try:
        event = msgspec.json.decode(raw, type=EventIn)
    except msgspec.ValidationError as exc:
        path, message = _split_msgspec_error(exc)
        if message.startswith("missing:"):
            field = message.removeprefix("missing:")
            return {field: [_("This field is required.")]}
        field = str(path[0]) if path else "non_field_errors"
        if not path:
            message = _("Each event is an object.") if "object" in str(exc) else message
        return {field: [message]}
    return _semantic_errors(event, timezone.now())


def _semantic_errors(event: EventIn, now: dt.datetime) -> dict | None:
    errors: dict[str, list[str]] = {}
    if not event.anonymous_id and not event.customer_ref:
        errors["non_field_errors"] = [_("Give an anonymous_id, a customer_ref or both.")]
    if event.kind in SKU_KINDS and not event.sku:
        errors["sku"] = [_("A %(kind)s event needs a sku.") % {"kind": event.kind}]
    if event.kind == "search" and not event.query:
        errors["query"] = [_("A search event needs a query.")]
    try:
        # Stored in UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows.
        event.occurred_at = event.occurred_at.astimezone(dt.UTC)
    except OverflowError:  # e.g. 0001-01-01T00:30:00+14:00 is before year 1 in UTC
        errors["occurred_at"] = [_("This time is out of range.")]
    else:
        if event.occurred_at > now + FUTURE_SLACK:
            errors["occurred_at"] = [_("This time is more than a day in the future.")]
    for name in ("anonymous_id", "customer_ref", "sku", "query", "url"):
        value = getattr(event, name)
        if value and "\x00" in value:
            errors[name] = [_("Null characters are not allowed.")]
    return errors or None


def decode_batch(body: bytes) -> list[EventIn]:
    """The batch's events, or BatchInvalid naming each bad item by its index.
    Raises msgspec.DecodeError for a body that is not JSON."""
    try:
        batch = msgspec.json.decode(body, type=BatchIn)
    except msgspec.ValidationError as exc:
        _explain(body, exc)
        raise  # pragma: no cover - _explain always raises
    now = timezone.now()
    errors = {}
    for index, event in enumerate(batch.events):
        problems = _semantic_errors(event, now)
        if problems:
            errors[str(index)] = problems
    if errors:
        raise BatchInvalid(errors)
    return batch.events


def _explain(body: bytes, exc: msgspec.ValidationError) -> None:
    """The slow path, for a refused batch only: every bad item by index."""
    path, message = _split_msgspec_error(exc)
    try:
        loose = msgspec.json.decode(body, type=_LooseBatch)
    except msgspec.ValidationError:
        if message.startswith("missing:"):
            raise BatchInvalid({"events": [_("This field is required.")]}) from None
        if path[:1] == ["events"] or not path:
            if not path and "object" in str(exc):
                raise BatchInvalid(
                    {"non_field_errors": [_('Send an object: {"events": [...]}.')]}
                ) from None
            raise BatchInvalid({"events": [_("Send the events as a list.")]}) from None
        raise BatchInvalid({str(path[0]): [message]}) from None
    count = len(loose.events)
    if count == 0 or count > MAX_BATCH:
        raise BatchInvalid(
            {"events": [_("Send 1 to %(n)s events in one batch.") % {"n": f"{MAX_BATCH:,}"}]}
        )
    errors = {}
    for index, raw in enumerate(loose.events):
        problems = _item_errors(index, bytes(raw))
        if problems:
            errors[str(index)] = problems
    raise BatchInvalid(errors or {"events": [message]})


# --- Writing ------------------------------------------------------------------------


@dataclass
class IngestResult:
    accepted: int
    duplicates: int
    dropped: int


COLUMNS = (
    "event_id",
    "occurred_at",
    "kind",
    "channel",
    "anonymous_id",
    "customer_id",
    "sku",
    "variant_id",
    "query",
    "url",
)
STAGING = "clienteling_event_staging"


def _customers(refs: set[str]) -> dict[str, tuple[int, bool]]:
    """customer_ref -> (surviving customer id, tracking consent), in one or two queries."""
    if not refs:
        return {}
    from retail.models import Customer

    rows = list(
        Customer.objects.filter(customer_ref__in=refs).values_list(
            "customer_ref", "pk", "merged_into_id", "tracking_consent"
        )
    )
    found = {ref: (pk, consent) for ref, pk, merged, consent in rows if merged is None}
    merged = [(ref, pk) for ref, pk, into, _consent in rows if into is not None]
    if merged:
        from retail.services import customer_follow_merges

        for ref, pk in merged:
            survivor = customer_follow_merges(Customer.objects.get(pk=pk))
            found[ref] = (survivor.pk, survivor.tracking_consent)
    return found


def _visitors(anonymous_ids: set[str]) -> dict[str, tuple[int, bool]]:
    """anonymous_id -> (customer id, tracking consent) for identified visitors."""
    if not anonymous_ids:
        return {}
    from clienteling.models import VisitorLink

    return {
        anon: (customer_id, consent)
        for anon, customer_id, consent in VisitorLink.objects.filter(
            anonymous_id__in=anonymous_ids
        ).values_list("anonymous_id", "customer_id", "customer__tracking_consent")
    }


def _variants(skus: set[str]) -> dict[str, int]:
    if not skus:
        return {}
    from retail.models import Variant

    return dict(Variant.objects.filter(sku__in=skus).values_list("sku", "pk"))


def ingest(events: list[EventIn]) -> IngestResult:
    """Store a validated batch: one transaction, bulk, idempotent by event_id."""
    seen: set[uuid.UUID] = set()
    unique: list[EventIn] = []
    for event in events:
        if event.event_id not in seen:
            seen.add(event.event_id)
            unique.append(event)
    duplicates = len(events) - len(unique)
    customers = _customers({e.customer_ref for e in unique if e.customer_ref})
    visitors = _visitors({e.anonymous_id for e in unique if e.anonymous_id and not e.customer_ref})
    variants = _variants({e.sku for e in unique if e.sku})
    rows = []
    dropped = 0
    for e in unique:
        if e.customer_ref:
            who = customers.get(e.customer_ref)
        elif e.anonymous_id in visitors:
            who = visitors[e.anonymous_id]
        else:
            who = (None, True)
        if who is None or not who[1]:
            dropped += 1
            continue
        rows.append(
            (
                e.event_id,
                e.occurred_at,
                e.kind,
                e.channel,
                e.anonymous_id or "",
                who[0],
                e.sku or "",
                variants.get(e.sku) if e.sku else None,
                e.query or "",
                e.url or "",
            )
        )
    accepted = _write(rows) if rows else 0
    if accepted:
        _count_for_rebuild(accepted)
    return IngestResult(accepted, duplicates + len(rows) - accepted, dropped)


REBUILD_AFTER = 200_000
INGESTED_KEY = "aisle:events-since-rebuild"


def _count_for_rebuild(accepted: int) -> None:
    """After a large ingest (every REBUILD_AFTER events), the recommendations are rebuilt
    by a worker, through the outbox. Never in eager mode: there the rebuild would run
    inside this request, so only the schedule and the command rebuild."""
    from django.core.cache import cache

    from retail.celery import app

    if app.conf.task_always_eager:
        return
    cache.add(INGESTED_KEY, 0, None)
    try:
        total = cache.incr(INGESTED_KEY, accepted)
    except ValueError:
        return
    if total >= REBUILD_AFTER and total - accepted < REBUILD_AFTER:
        from retail import outbox

        cache.set(INGESTED_KEY, 0, None)
        with transaction.atomic():
            outbox.enqueue_task(
                "clienteling.tasks.recommendations_rebuild",
                key=f"recommendations-rebuild:{timezone.now():%Y%m%d%H}",
            )


def _write(rows: list[tuple]) -> int:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _write_postgres(rows)
        return _write_portable(rows)


def _write_portable(rows: list[tuple]) -> int:
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f"INSERT INTO clienteling_browsingevent ({', '.join(COLUMNS)}, received_at) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * (len(COLUMNS) + 1))}) ON CONFLICT (event_id) DO NOTHING"
    )
    params = [
        (r[0].hex, ops.adapt_datetimefield_value(r[1]), *r[2:], now)
        if connection.vendor == "sqlite"
        else (*r, now)
        for r in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return cursor.rowcount


def _ensure_staging(cursor) -> None:
    """A temporary staging table for this connection, kept across requests on a
    persistent connection (created again after a rollback took it away)."""
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} ("
        "event_id uuid, occurred_at timestamptz, kind varchar(20), channel varchar(10), "
        "anonymous_id varchar(128), customer_id bigint, sku varchar(40), variant_id bigint, "
        "query varchar(256), url varchar(2048))"
    )


def _write_postgres(rows: list[tuple]) -> int:
    with connection.cursor() as cursor:
        _ensure_staging(cursor)
        with cursor.cursor.copy(f"COPY {STAGING} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # The key goes in first, in event_id order (two batches racing with the same
        # ids wait for each other in one order, never deadlock); an event is stored
        # only if its key was new. One statement, so exact under any concurrency.
        cursor.execute(
            "WITH fresh AS ("  # noqa: S608
            f"INSERT INTO clienteling_eventkey (event_id, received_at) "
            f"SELECT event_id, now() FROM {STAGING} ORDER BY event_id "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id) "
            f"INSERT INTO clienteling_browsingevent ({', '.join(COLUMNS)}, received_at) "
            f"SELECT {', '.join(COLUMNS)}, now() FROM {STAGING} "
            "WHERE event_id IN (SELECT event_id FROM fresh)"
        )
        accepted = cursor.rowcount
        cursor.execute(f"TRUNCATE {STAGING}")
        return accepted
