"""Benchmark settings: Aisle's own, plus a bare view served the same way (same
middleware, same gunicorn, same database connections) to measure against."""

from retail.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
