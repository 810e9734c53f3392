"""System checks for Aisle's deployment (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, register

LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
)


@register("security", "caches")
def rate_limits_shared(app_configs=None, **kwargs):
    """Rate limits (sign-in, password reset, pickup codes) count in the cache: with
    DEBUG off and several processes, a per-process cache would let each count alone."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or settings.AISLE_WEB_CONCURRENCY <= 1 or backend not in LOCAL_CACHES:
        return []
    return [
        Error(
            "Rate limits need a shared cache: WEB_CONCURRENCY is "
            f"{settings.AISLE_WEB_CONCURRENCY} but the cache is per process ({backend}).",
            hint="Set CACHE_URL to Redis (redis://…), or run one process.",
            id="aisle.E016",
        )
    ]
