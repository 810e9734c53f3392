"""Retention: personal data kept no longer than its window (settings, README).

Run daily by beat (`retail.retention.retention_daily`) and shown in HQ
(`/hq/customers/retention/`):

- outbound messages' bodies, subjects, recipients and contexts after
  `AISLE_RETENTION_MESSAGE_DAYS` (the log line stays: template, state, times);
- anonymous visitors' data after `AISLE_RETENTION_ANONYMOUS_DAYS` (apps register a
  purger: clienteling's anonymous browsing);
- customers inactive for `AISLE_RETENTION_INACTIVE_YEARS` are listed for HQ to review
  and erase (never erased automatically). Apps register what counts as activity.

Browsing of known customers past HQ's retention period has its own nightly task
(`clienteling.tasks.browsing_purge`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from retail.models import AppliedAction, Customer, MessageState, OutboundMessage

logger = logging.getLogger(__name__)
LAST_RUN_KEY = "aisle:retention:last"

# label -> purge(cutoff) -> rows deleted; label -> pending(cutoff) -> rows due
_anonymous_purgers: dict[str, tuple[Callable, Callable]] = {}
# label -> fn(since) -> queryset of customer ids active since then
_activity: dict[str, Callable[[dt.datetime], QuerySet]] = {}


def register_anonymous_purger(label: str, *, purge: Callable, pending: Callable) -> None:
    _anonymous_purgers[label] = (purge, pending)


def register_activity(label: str, active_since: Callable[[dt.datetime], QuerySet]) -> None:
    _activity[label] = active_since


def message_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=settings.AISLE_RETENTION_MESSAGE_DAYS)


def anonymous_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=settings.AISLE_RETENTION_ANONYMOUS_DAYS)


def inactive_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(
        days=365 * settings.AISLE_RETENTION_INACTIVE_YEARS
    )


def _old_messages(now=None) -> QuerySet[OutboundMessage]:
    return OutboundMessage.objects.filter(
        state__in=(MessageState.SENT, MessageState.FAILED), created_at__lt=message_cutoff(now)
    ).exclude(Q(body="") & Q(to_address="") & Q(subject="") & Q(context={}))


def message_bodies_purge(now: dt.datetime | None = None) -> int:
    """Sent (or given-up) messages older than the window lose body, subject, recipient
    and context."""
    return _old_messages(now).update(body="", subject="", to_address="", context={})


def anonymous_purge(now: dt.datetime | None = None) -> dict[str, int]:
    cutoff = anonymous_cutoff(now)
    return {label: purge(cutoff) for label, (purge, _pending) in _anonymous_purgers.items()}


def inactive_customers(now: dt.datetime | None = None) -> QuerySet[Customer]:
    """Customers with no activity (profile change, orders, browsing, …) since the cutoff."""
    cutoff = inactive_cutoff(now)
    customers = Customer.objects.filter(
        erased_at__isnull=True,
        merged_into__isnull=True,
        created_at__lt=cutoff,
        updated_at__lt=cutoff,
    )
    for active_since in _activity.values():
        customers = customers.exclude(pk__in=active_since(cutoff))
    return customers.order_by("updated_at", "pk")


def status(now: dt.datetime | None = None) -> dict:
    """What HQ's retention page shows: the windows, what is due now, the last run."""
    anonymous_due = {
        label: pending(anonymous_cutoff(now)) for label, (_p, pending) in _anonymous_purgers.items()
    }
    return {
        "message_days": settings.AISLE_RETENTION_MESSAGE_DAYS,
        "anonymous_days": settings.AISLE_RETENTION_ANONYMOUS_DAYS,
        "inactive_years": settings.AISLE_RETENTION_INACTIVE_YEARS,
        "messages_due": _old_messages(now).count(),
        "anonymous_due": sum(anonymous_due.values()),
        "last_run": cache.get(LAST_RUN_KEY),
    }


def applied_actions_purge(now: dt.datetime | None = None) -> int:
    """Forget tablet actions older than `AISLE_ACTION_KEEP_HOURS` (`retail.once`)."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.AISLE_ACTION_KEEP_HOURS)
    return AppliedAction.objects.filter(applied_at__lt=cutoff).delete()[0]


def retention_run(now: dt.datetime | None = None) -> dict:
    result = {
        "messages": message_bodies_purge(now),
        "applied_actions": applied_actions_purge(now),
        "anonymous": anonymous_purge(now),
        "inactive_customers": inactive_customers(now).count(),
        "at": (now or timezone.now()).isoformat(),
    }
    try:
        cache.set(LAST_RUN_KEY, result, timeout=None)
    except Exception:  # the cache is a convenience here; the purge is done
        logger.warning("retention: could not remember the last run")
    logger.info(
        "retention: %s message bodies, %s anonymous rows purged; %s inactive customers",
        result["messages"],
        sum(result["anonymous"].values()),
        result["inactive_customers"],
    )
    return result


@shared_task(name="retail.retention.retention_daily", ignore_result=True)
def retention_daily() -> dict:
    """Beat, daily: the purges above (each safe to run again)."""
    return retention_run()
