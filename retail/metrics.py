"""Prometheus metrics at `/metrics`, for whoever runs Aisle.

The endpoint answers only `Authorization: Bearer <AISLE_METRICS_TOKEN>`; without
that setting it does not exist (404). Series:

- `aisle_request_duration_seconds{view,method,status}`: a histogram of each
  request's time, labelled by the resolved view's name (never the raw path).
- `aisle_task_failures_total{task}`: Celery tasks that raised, per task.
- `aisle_cache_errors_total`: calls the shared cache could not answer.
- `aisle_poll_answers_total{kind,answer}`: the tablets' polls (`retail.polls`) answered
  304, from a kept render, rendered, or without a version.
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
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from retail import access, outbox, webhooks
from retail.counters import request_duration, task_failures

# --- Figures computed from the database at scrape time ---------------------------


def outbox_figures() -> Iterable[GaugeMetricFamily]:
    figures = outbox.backlog()
    entries = GaugeMetricFamily(
        "aisle_outbox_entries",
        "Outbox entries not done: waiting (to be published, or published and not taken "
        "yet), running under a worker's lease, and failed for good.",
        labels=["state"],
    )
    for state in ("waiting", "running", "failed"):
        entries.add_metric([state], figures[state])
    yield entries
    yield GaugeMetricFamily(
        "aisle_outbox_oldest_waiting_seconds",
        "Age of the oldest outbox entry waiting (0 when none waits).",
        value=figures["oldest_seconds"],
    )
    yield GaugeMetricFamily(
        "aisle_outbox_retrying_entries",
        "Outbox entries waiting after at least one failed attempt.",
        value=figures["retrying"],
    )


BREAKER_STATES = ("closed", "half_open", "open")


def webhook_figures() -> Iterable[GaugeMetricFamily]:
    waiting = GaugeMetricFamily(
        "aisle_webhook_waiting",
        "Webhook deliveries not sent yet, per API client.",
        labels=["client"],
    )
    oldest = GaugeMetricFamily(
        "aisle_webhook_oldest_wait_seconds",
        "How long the client's oldest waiting delivery has waited.",
        labels=["client"],
    )
    failing = GaugeMetricFamily(
        "aisle_webhook_failing",
        "The client's deliveries retrying after an error, or failed for good.",
        labels=["client"],
    )
    breaker = GaugeMetricFamily(
        "aisle_webhook_breaker",
        "1 for the state the client's circuit breaker is in (closed, half_open, open).",
        labels=["client", "state"],
    )
    for stats in webhooks.client_stats():
        client = stats["name"]
        waiting.add_metric([client], stats["waiting"])
        oldest.add_metric([client], stats["oldest_wait_seconds"])
        failing.add_metric([client], stats["failing"])
        for state in BREAKER_STATES:
            breaker.add_metric([client, state], 1 if stats["breaker"] == state else 0)
    yield from (waiting, oldest, failing, breaker)


# Each returns gauges computed from the database at scrape time.
SOURCES: list[Callable[[], Iterable[GaugeMetricFamily]]] = [outbox_figures, webhook_figures]


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
