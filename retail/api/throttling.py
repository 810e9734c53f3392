"""Per-client rate limits (`ApiClient.rate_limit`, e.g. "100/s" or "60/m"), in the cache."""

from __future__ import annotations

import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600}


class ClientRateThrottle(BaseThrottle):
    """A fixed window per client: the N+1st request in a window is refused with 429."""

    def allow_request(self, request, view) -> bool:
        client = request.auth
        if client is None:
            return True
        number, period = client.rate_limit.split("/")
        seconds = PERIODS[period]
        window = int(time.time() // seconds)
        key = f"aisle:api-rate:{client.pk}:{seconds}:{window}"
        if hasattr(cache, "hit"):  # Redis: one round trip
            count = cache.hit(key, seconds + 1)
        elif cache.add(key, 1, timeout=seconds + 1):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=seconds + 1)
                count = 1
        self.wait_seconds = seconds - (time.time() % seconds)
        return count <= int(number)

    def wait(self):
        return getattr(self, "wait_seconds", 1)
