"""Security limits kept in the database: a cache outage cannot lift them.

    if limits.reached("pickup-device", f"user:{user.pk}", limit=10, window=600):
        raise TooMany(...)
    limits.hit("pickup-device", f"user:{user.pk}")

Unlike the API throttle (`retail.api.throttling`, in the cache, failing open), these
count rows of `LimitHit`: wrong pickup codes per device, one-time codes sent and
reservations per kiosk. A hit is written in its own transaction where the caller
is about to roll back (call it after leaving the caller's atomic block).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from retail.limit_models import LimitHit

# Rows older than this are deleted now and then: no limit looks back further.
KEEP = dt.timedelta(days=1)


def count(scope: str, key: str, *, window: int) -> int:
    """Hits of `scope` by `key` in the last `window` seconds."""
    since = timezone.now() - dt.timedelta(seconds=window)
    return LimitHit.objects.filter(scope=scope, key=key[:80], at__gte=since).count()


def reached(scope: str, key: str, *, limit: int, window: int) -> bool:
    return count(scope, key, window=window) >= limit


def hit(scope: str, key: str) -> None:
    """Count one attempt (and forget this key's attempts older than a day)."""
    now = timezone.now()
    LimitHit.objects.create(scope=scope, key=key[:80], at=now)
    LimitHit.objects.filter(scope=scope, key=key[:80], at__lt=now - KEEP).delete()


def clear(scope: str, key: str) -> None:
    """Forget every attempt of `scope` by `key` (a manager's unlock)."""
    LimitHit.objects.filter(scope=scope, key=key[:80]).delete()
