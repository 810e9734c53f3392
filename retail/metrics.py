"""Prometheus metrics at `/metrics`, for whoever runs Aisle.

The endpoint answers only `Authorization: Bearer <AISLE_METRICS_TOKEN>`; without
that setting it does not exist (404). Series:

- `aisle_request_duration_seconds{view,method,status}`: a histogram of each
  request's time, labelled by the resolved view's name (never the raw path).
- `aisle_task_failures_total{task}`: Celery tasks that raised, per task.
- `aisle_cache_errors_total`: calls the shared cache could not answer.
- Computed from the database at scrape time (`SOURCES`): the outbox's backlog
  (`aisle_outbox_entries{state}` for pending, published and failed entries),
  the age of its oldest waiting entry and the entries being retried, and
  `aisle_database_up`. Another source of gauges is one more function in `SOURCES`.

Gunicorn runs several processes: with `PROMETHEUS_MULTIPROC_DIR` set (an empty
directory, shared by every process of one host and emptied at each start),
prometheus_client writes each process's counters there and the scrape adds them
up; without it each process reports its own (fine for one process).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from retail import access

request_duration = Histogram(
    "aisle_request_duration_seconds",
    "Time to answer a request, by the resolved view's name.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
task_failures = Counter(
    "aisle_task_failures_total", "Celery tasks that raised, by task name.", ["task"]
)
cache_errors = Counter(
    "aisle_cache_errors_total", "Calls the shared cache could not answer (Redis unreachable)."
)


# --- Figures computed from the database at scrape time ---------------------------


def outbox_figures() -> Iterable[GaugeMetricFamily]:
    from django.db.models import Count, Min

    from retail.models import OutboxEntry, OutboxState

    waiting = (OutboxState.PENDING, OutboxState.PUBLISHED)
    counted = dict(
        OutboxEntry.objects.filter(state__in=(*waiting, OutboxState.FAILED))
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    entries = GaugeMetricFamily(
        "aisle_outbox_entries",
        "Outbox entries not done: waiting to be published, published and not done yet, "
        "and failed for good.",
        labels=["state"],
    )
    for state in (*waiting, OutboxState.FAILED):
        entries.add_metric([state], counted.get(state, 0))
    yield entries
    oldest = OutboxEntry.objects.filter(state__in=waiting).aggregate(at=Min("created_at"))["at"]
    yield GaugeMetricFamily(
        "aisle_outbox_oldest_waiting_seconds",
        "Age of the oldest outbox entry not done yet (0 when none waits).",
        value=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
    )
    yield GaugeMetricFamily(
        "aisle_outbox_retrying_entries",
        "Outbox entries waiting after at least one failed attempt.",
        value=OutboxEntry.objects.filter(state__in=waiting, attempts__gt=0).count(),
    )


# Each returns gauges computed from the database. Webhook backlogs per client
# (`retail.webhooks.client_stats()`) are added here as one more function.
SOURCES: list[Callable[[], Iterable[GaugeMetricFamily]]] = [outbox_figures]


class DatabaseCollector:
    """The figures of `SOURCES`, read when Prometheus scrapes."""

    def collect(self):
        families = []
        try:
            for source in SOURCES:
                families.extend(source())
            up = 1
        except DatabaseError:
            up = 0
        yield from families
        yield GaugeMetricFamily(
            "aisle_database_up", "1 when the scrape could read the database.", value=up
        )

    def describe(self):
        return []


def exposition() -> bytes:
    """Every series, in Prometheus's text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        process_series = generate_latest(registry)
    else:
        process_series = generate_latest(REGISTRY)
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector())
    return process_series + generate_latest(database)


@never_cache
def metrics_view(request):
    if not settings.AISLE_METRICS_TOKEN:
        raise Http404
    if not access.metrics_reader(request):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


# --- Request latency ------------------------------------------------------------


class RequestMetricsMiddleware:
    """Times every request; labelled by the view's name, `unresolved` for a 404 path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match is not None else "unresolved"
        request_duration.labels(
            view=view, method=_method(request.method), status=f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(method: str | None) -> str:
    return method if method in KNOWN_METHODS else "other"  # bounded label values


# --- Task failures ----------------------------------------------------------------


def count_task_failure(sender=None, **kwargs) -> None:
    task_failures.labels(task=getattr(sender, "name", None) or "unknown").inc()
