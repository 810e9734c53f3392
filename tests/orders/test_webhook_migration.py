"""Order webhook deliveries move to the webhook core with their ids: a delivery that
was waiting keeps waiting (and keeps its X-Aisle-Delivery id)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from retail.models import WebhookDelivery

BEFORE = [("orders", "0003_webhook_delivery"), ("retail", "0007_webhooks")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_waiting_and_delivered_order_deliveries_carry_over_to_the_core():
    apps = _migrate(BEFORE)
    try:
        ApiClient = apps.get_model("retail", "ApiClient")
        Order = apps.get_model("orders", "Order")
        OrderEvent = apps.get_model("orders", "OrderEvent")
        Old = apps.get_model("orders", "WebhookDelivery")
        client = ApiClient.objects.create(
            name="shop", key_prefix="abcd1234", key_hash="x", webhook_url="http://h/"
        )
        order = Order.objects.create(
            order_ref="WEB-9",
            channel="web",
            currency="EUR",
            subtotal=Decimal("1"),
            total=Decimal("1"),
        )
        event = OrderEvent.objects.create(order=order, kind="order_placed")
        now = timezone.now()
        done = Old.objects.create(
            client=client,
            order=order,
            order_event=event,
            event="order_placed",
            body='{"a":1}',
            state="delivered",
            attempts=1,
            delivered_at=now,
        )
        waiting = Old.objects.create(
            client=client,
            order=order,
            event="fulfillment_created",
            body='{"b":2}',
            attempts=3,
            last_status=500,
            last_error="HTTP 500",
            next_attempt_at=now,
        )
    finally:
        apps = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    New = apps.get_model("retail", "WebhookDelivery")
    rows = {d.pk: d for d in New.objects.all()}
    assert set(rows) == {done.pk, waiting.pk}
    moved = rows[waiting.pk]
    assert (moved.subject_type, moved.subject_id, moved.subject_ref) == ("order", order.pk, "WEB-9")
    assert (moved.state, moved.attempts, moved.last_error, moved.body) == (
        "pending",
        3,
        "HTTP 500",
        '{"b":2}',
    )
    assert rows[done.pk].change_key == f"order_event:{event.pk}"
    assert rows[done.pk].state == "delivered"
    # New deliveries get ids after the moved ones.
    fresh = WebhookDelivery.objects.create(
        client_id=client.pk, subject_type="order", subject_id=order.pk, event="e", body="{}"
    )
    assert fresh.pk > waiting.pk
