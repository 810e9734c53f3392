"""The process's own Prometheus series, counted where things happen (requests, tasks,
the cache). It imports nothing of Aisle's, so any module may count into it;
`retail.metrics` serves them with the figures read from the database."""

from prometheus_client import Counter, Histogram

request_duration = Histogram(
    "aisle_request_duration_seconds",
    "Time to answer a request, by the resolved view's name.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
task_failures = Counter(
    "aisle_task_failures_total",
    "Celery tasks and outbox entries that raised, by task name.",
    ["task"],
)
cache_errors = Counter(
    "aisle_cache_errors_total", "Calls the shared cache could not answer (Redis unreachable)."
)
poll_answers = Counter(
    "aisle_poll_answers_total",
    "Polled fragments by kind and answer: not_modified (304, no query), kept (a render "
    "another tablet made), rendered, unversioned (no version known: a plain 200).",
    ["kind", "answer"],
)
