"""Sections of the customer page that other apps contribute, rendered once and kept.

The customer page (`retail.views.customer_detail`) belongs to the lowest layer, yet
the apps above it know most about a customer (clienteling: the online journey,
recommendations, notes). Each registers a section in its `AppConfig.ready`:

    customer_page.register(
        "clienteling",
        render=views.customer_section,
        versions=("SELECT MAX(updated_at) FROM orders_order WHERE customer_id = %(c)s",),
        seconds=60,
    )

`render(request, customer, store)` returns the section's HTML (safe, from the app's
own templates). The page renders every section in the same response, after its own
access check and audit row, so one page view is one request.

**Kept renders.** A section with `seconds` is rendered once for every reader and kept
in the shared cache under a key made of what it shows: the answers of its `versions`
(SQL scalar subqueries on `%(c)s`, the customer's id, each on an index by customer:
they change whenever what the section shows could), the values of its `stamps`
(shared-cache keys a rebuild renews, such as the recommendations'), the customer's
own `updated_at` (profile, consents, merges), the store, the language and the
store's day. A page view asks every section's versions in **one** query and every
kept render in **one** cache round trip, however long the customer's history; what
changed since is rendered again. `seconds` bounds what no version sees (stock moving
on the shelves). A kept render holds nothing of its reader: a section with forms
renders `retail.fragments.CSRF_SLOT` as its token and gives each reader theirs in
`finish(request, html)`. With the cache unreachable every section is rendered.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

KEY_PREFIX = "aisle:customer-section"
PREPARE_THRESHOLD = 5  # psycopg's own default


@dataclass(frozen=True)
class Section:
    label: str
    render: Callable[..., str]
    versions: tuple[str, ...] = ()
    stamps: tuple[str, ...] = ()
    seconds: int = 0
    finish: Callable[..., str] | None = None


_sections: dict[str, Section] = {}


def register(
    label: str,
    *,
    render: Callable[..., str],
    versions: tuple[str, ...] = (),
    stamps: tuple[str, ...] = (),
    seconds: int = 0,
    finish: Callable[..., str] | None = None,
) -> None:
    _sections[label] = Section(label, render, tuple(versions), tuple(stamps), seconds, finish)


def render_sections(request, customer, store) -> list[SafeString]:
    sections = list(_sections.values())
    kept = [s for s in sections if s.seconds]
    keys = _keys(kept, customer, store)
    stamps = sorted({stamp for s in kept for stamp in s.stamps})
    found = cache.get_many([*keys.values(), *stamps]) if kept else {}
    fresh = {}
    out = []
    for section in sections:
        html = None
        if section.seconds:
            stamp_values = tuple(found.get(stamp) for stamp in section.stamps)
            entry = found.get(keys[section.label])
            if entry is not None and entry[0] == stamp_values:
                html = entry[1]
            else:
                html = str(section.render(request, customer, store))
                fresh[section] = (stamp_values, html)
        else:
            html = section.render(request, customer, store)
        if section.finish is not None:
            html = section.finish(request, html)
        out.append(mark_safe(html))  # noqa: S308 - the apps' own templates' output
    for section, entry in fresh.items():
        cache.set(keys[section.label], entry, section.seconds)
    return out


def _keys(kept: list[Section], customer, store) -> dict[str, str]:
    """Each kept section's key, from one query asking every section's versions."""
    subqueries = [(s.label, sql) for s in kept for sql in s.versions]
    answers: list = []
    if subqueries:
        select = ", ".join(f"({sql})" for _label, sql in subqueries)
        answers = list(_fetch_one(f"SELECT {select}", {"c": customer.pk}))
    parts: dict[str, list[str]] = {s.label: [] for s in kept}
    for (label, _sql), answer in zip(subqueries, answers, strict=True):
        parts[label].append(str(answer))
    common = [
        customer.updated_at.isoformat() if customer.updated_at else "",
        translation.get_language() or "",
        store.local_now().date().isoformat(),
    ]
    keys = {}
    for section in kept:
        digest = hashlib.sha256("|".join([*parts[section.label], *common]).encode()).hexdigest()
        keys[section.label] = f"{KEY_PREFIX}:{section.label}:{customer.pk}:{store.pk}:{digest[:32]}"
    return keys


def _fetch_one(sql: str, params: dict) -> tuple:
    """One row of `sql`. On PostgreSQL the statement is prepared on the connection:
    planning the versions (a dozen subqueries, two over every monthly partition of the
    browsing events) took most of its time, and a prepared statement is planned once
    per connection (PostgreSQL then keeps a generic plan for `customer_id = $1`).
    Not behind PgBouncer in transaction mode, where a prepared statement would not
    outlive the transaction's server connection (`DATABASE_POOLER`). The query is
    logged where Django logs queries (debug, tests' query counts)."""
    if connection.vendor != "postgresql" or settings.DATABASE_POOLER == "pgbouncer":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    import psycopg

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django leaves it off; only server-binding cursors (this one) ever prepare.
        raw.prepare_threshold = PREPARE_THRESHOLD
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        row = cursor.fetchone()
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": sql % params, "time": f"{time.monotonic() - started:.3f}"}
        )
    return row
