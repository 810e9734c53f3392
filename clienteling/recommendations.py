"""Item-to-item recommendations from co-occurrence, with reasons in words.

`rebuild()` (a Celery task on a schedule, and `manage.py rebuild_recommendations`;
never inside a request) cuts each visitor's browsing into sessions (a gap of 30
minutes or more starts a new one), counts how often two products were looked at
in one session and how often they were bought by one customer, and keeps the
best `KEEP` neighbours of every product in `ProductAffinity`. It is plain SQL,
so the database does the grouping and Python holds nothing large.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection, transaction
from django.utils import timezone

SESSION_GAP = dt.timedelta(minutes=30)
KEEP = 20
BASKET_WEIGHT = 3
LOOKBACK_DAYS = 180
BROWSE_KINDS = ("product_view", "add_to_cart", "wishlist_add")
WORK_MEM = "8MB"


def _gap_condition() -> str:
    if connection.vendor == "postgresql":
        return "occurred_at - prev >= interval '30 minutes'"
    return "(julianday(occurred_at) - julianday(prev)) * 86400.0 >= 1800"


def _visitor_expr() -> str:
    if connection.vendor == "postgresql":
        return "COALESCE('c' || e.customer_id::text, 'a' || e.anonymous_id)"
    return "COALESCE('c' || e.customer_id, 'a' || e.anonymous_id)"


def session_items_sql() -> str:
    """(visitor, session number, product) for every product looked at in a session."""
    kinds = ", ".join(f"'{k}'" for k in BROWSE_KINDS)
    return f"""
        SELECT DISTINCT visitor, session_no, product_id FROM (
            SELECT visitor, product_id,
                   SUM(new_session) OVER (
                       PARTITION BY visitor ORDER BY occurred_at, id ROWS UNBOUNDED PRECEDING
                   ) AS session_no
            FROM (
                SELECT visitor, occurred_at, id, product_id,
                       CASE WHEN prev IS NULL OR {_gap_condition()} THEN 1 ELSE 0 END
                           AS new_session
                FROM (
                    SELECT {_visitor_expr()} AS visitor, e.occurred_at, e.id, v.product_id,
                           LAG(e.occurred_at) OVER (
                               PARTITION BY {_visitor_expr()} ORDER BY e.occurred_at, e.id
                           ) AS prev
                    FROM clienteling_browsingevent e
                    JOIN retail_variant v ON v.id = e.variant_id
                    WHERE e.kind IN ({kinds}) AND e.occurred_at >= %(since)s
                ) lagged
            ) marked
        ) sessions
    """  # noqa: S608


def basket_items_sql() -> str:
    """(customer, product) for every product a customer bought (any channel)."""
    return """
        SELECT DISTINCT o.customer_id AS visitor, l.variant_id, v.product_id
        FROM orders_orderline l
        JOIN orders_order o ON o.id = l.order_id
        JOIN retail_variant v ON v.id = l.variant_id
        WHERE o.customer_id IS NOT NULL AND o.status <> 'cancelled'
          AND o.created_at >= %(since)s
    """


def rebuild(now: dt.datetime | None = None) -> int:
    """Recompute every product's neighbours; returns how many pairs were kept."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=LOOKBACK_DAYS)
    params = {"since": since, "keep": KEEP, "weight": BASKET_WEIGHT}
    if connection.vendor == "sqlite":
        params["since"] = connection.ops.adapt_datetimefield_value(since)
    sql = f"""
        INSERT INTO clienteling_productaffinity (product_id, other_id, sessions, baskets, score)
        WITH sess AS ({session_items_sql()}),
             bought AS (SELECT DISTINCT visitor, product_id FROM ({basket_items_sql()}) x)
        SELECT product_id, other_id, sessions, baskets, score FROM (
            SELECT product_id, other_id, sessions, baskets, score,
                   ROW_NUMBER() OVER (
                       PARTITION BY product_id ORDER BY score DESC, other_id
                   ) AS rank
            FROM (
                SELECT product_id, other_id, SUM(s) AS sessions, SUM(b) AS baskets,
                       SUM(s) + %(weight)s * SUM(b) AS score
                FROM (
                    SELECT a.product_id, b.product_id AS other_id, 1 AS s, 0 AS b
                    FROM sess a JOIN sess b
                      ON a.visitor = b.visitor AND a.session_no = b.session_no
                     AND a.product_id <> b.product_id
                    UNION ALL
                    SELECT a.product_id, b.product_id AS other_id, 0 AS s, 1 AS b
                    FROM bought a JOIN bought b
                      ON a.visitor = b.visitor AND a.product_id <> b.product_id
                ) pairs
                GROUP BY product_id, other_id
            ) totals
        ) ranked
        WHERE rank <= %(keep)s
    """  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The backend's memory is bounded per sort or hash step (a handful in this
            # plan); what does not fit spills to temporary files. Bench:
            # bench/recommendations.py (whole job < 256 MB over a million events).
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            cursor.execute("SET LOCAL hash_mem_multiplier = 1")
        cursor.execute("DELETE FROM clienteling_productaffinity")
        cursor.execute(sql, params)
        kept = cursor.rowcount
    from django.core.cache import cache

    from clienteling.profile import AFFINITY_VERSION

    cache.set(AFFINITY_VERSION, time.time(), None)  # the tablet's panels show the new ones
    return kept


def rebuild_timed() -> tuple[int, float]:
    started = time.monotonic()
    kept = rebuild()
    return kept, time.monotonic() - started
