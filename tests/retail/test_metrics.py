"""`/metrics` (Prometheus): only with the operators' token; request latency by view,
the outbox's backlog and age, task failures."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.signals import task_failure
from django.utils import timezone
from prometheus_client import REGISTRY

from retail import outbox, tasks
from retail.models import OutboxEntry, OutboxState

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def token(settings):
    settings.AISLE_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, token=TOKEN):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def sample(text: str, name: str, **labels) -> float | None:
    """The value of one series in Prometheus's text format."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        base, _, label_text = series.partition("{")
        found = ",".join(sorted(label_text.rstrip("}").split(","))) if label_text else ""
        if base == name and found == wanted:
            return float(value)
    return None


def test_without_a_token_configured_there_is_no_metrics_endpoint(client, settings):
    settings.AISLE_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert scrape(client, "anything").status_code == 404


def test_a_missing_or_wrong_token_is_refused(client, token):
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == "Bearer"
    assert scrape(client, "not-the-token").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 401


def test_request_latency_is_labelled_by_the_view_not_the_path(client, token, associate):
    client.force_login(associate)
    client.get("/store/")
    client.get("/api/v1/customers/SOMEONE/")  # no key: 401
    text = scrape(client).content.decode()
    assert (
        sample(
            text,
            "aisle_request_duration_seconds_count",
            view="retail:store_home",
            method="GET",
            status="2xx",
        )
        >= 1
    )
    assert (
        sample(
            text,
            "aisle_request_duration_seconds_count",
            view="api:customer",
            method="GET",
            status="4xx",
        )
        >= 1
    )
    assert "SOMEONE" not in text


def test_the_outbox_backlog_and_its_age_are_read_at_scrape_time(client, token):
    waiting = outbox.enqueue_task("retail.tasks.outbox_prune")  # not published: no commit
    OutboxEntry.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=5), attempts=1
    )
    failed = outbox.enqueue_task("retail.tasks.outbox_prune", key="failed-one")
    OutboxEntry.objects.filter(pk=failed.pk).update(state=OutboxState.FAILED)

    running = outbox.enqueue_task("retail.tasks.outbox_prune", key="running-one")
    OutboxEntry.objects.filter(pk=running.pk).update(state=OutboxState.RUNNING)

    text = scrape(client).content.decode()
    assert sample(text, "aisle_outbox_entries", state="waiting") == 1
    assert sample(text, "aisle_outbox_entries", state="running") == 1
    assert sample(text, "aisle_outbox_entries", state="failed") == 1
    assert 290 <= sample(text, "aisle_outbox_oldest_waiting_seconds") <= 400
    assert sample(text, "aisle_outbox_retrying_entries") == 1
    assert sample(text, "aisle_database_up") == 1


def test_task_failures_are_counted_per_task(client, token):
    name = tasks.outbox_prune.name
    before = REGISTRY.get_sample_value("aisle_task_failures_total", {"task": name}) or 0
    task_failure.send(sender=tasks.outbox_prune, task_id="t-1", exception=RuntimeError("x"))
    text = scrape(client).content.decode()
    assert sample(text, "aisle_task_failures_total", task=name) == before + 1


def test_an_outbox_entry_that_fails_counts_as_a_task_failure(client, token):
    name = "retail.tasks.no_such_function_at_run_time"
    entry = outbox.enqueue_task("retail.tasks.outbox_prune", key="will-break")
    OutboxEntry.objects.filter(pk=entry.pk).update(name=name)  # the code moved away since
    before = REGISTRY.get_sample_value("aisle_task_failures_total", {"task": name}) or 0
    outbox.run(entry.pk)
    text = scrape(client).content.decode()
    assert sample(text, "aisle_task_failures_total", task=name) == before + 1


def test_webhook_backlog_oldest_wait_failures_and_breaker_per_client(client, token):
    from retail import webhooks
    from retail.api_clients import api_client_create
    from retail.models import WebhookCircuit, WebhookDelivery, WebhookState

    shop, _key = api_client_create(
        name="webshop", scopes=["orders:read"], webhook_url="http://127.0.0.1:9/hooks"
    )
    _app, _key = api_client_create(
        name="app", scopes=["orders:read"], webhook_url="http://127.0.0.1:9/app"
    )
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    for n in range(3):
        WebhookDelivery.objects.create(
            client=shop,
            subject_type="order",
            subject_id=n + 1,
            subject_ref=f"WEB-{n}",
            event="order_placed",
            body="{}",
            created_at=long_ago,
            attempts=1 if n == 0 else 0,
            last_error="HTTP 500" if n == 0 else "",
        )
    WebhookCircuit.objects.update_or_create(
        client=shop,
        defaults={"open_until": timezone.now() + dt.timedelta(minutes=1), "failures": 5},
    )
    assert {s["name"]: s["breaker"] for s in webhooks.client_stats()}["webshop"] == "open"

    text = scrape(client).content.decode()
    assert sample(text, "aisle_webhook_waiting", client="webshop") == 3
    assert sample(text, "aisle_webhook_waiting", client="app") == 0
    assert 590 <= sample(text, "aisle_webhook_oldest_wait_seconds", client="webshop") <= 700
    assert sample(text, "aisle_webhook_failing", client="webshop") == 1
    assert sample(text, "aisle_webhook_breaker", client="webshop", state="open") == 1
    assert sample(text, "aisle_webhook_breaker", client="webshop", state="closed") == 0
    assert sample(text, "aisle_webhook_breaker", client="app", state="closed") == 1
    assert WebhookDelivery.objects.filter(state=WebhookState.PENDING).count() == 3
