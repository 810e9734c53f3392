# Order webhook deliveries move to the webhook core (retail.WebhookDelivery): every row
# is copied with its id (so X-Aisle-Delivery stays the same for a delivery still
# waiting), its subject being its order; pending ones keep waiting there.

from django.core.management.color import no_style
from django.db import migrations

BATCH = 2000


def move_deliveries(apps, schema_editor):
    Old = apps.get_model("orders", "WebhookDelivery")
    New = apps.get_model("retail", "WebhookDelivery")
    rows = Old.objects.select_related("order").order_by("pk")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:BATCH])
        if not batch:
            break
        New.objects.bulk_create(
            [
                New(
                    pk=d.pk,
                    client_id=d.client_id,
                    subject_type="order",
                    subject_id=d.order_id,
                    subject_ref=d.order.order_ref,
                    change_key=f"order_event:{d.order_event_id}" if d.order_event_id else "",
                    event=d.event,
                    body=d.body,
                    state=d.state,
                    attempts=d.attempts,
                    last_status=d.last_status,
                    last_error=d.last_error,
                    last_attempt_at=d.last_attempt_at,
                    next_attempt_at=d.next_attempt_at,
                    delivered_at=d.delivered_at,
                    created_at=d.created_at,
                )
                for d in batch
            ]
        )
        last = batch[-1].pk
    # New ids continue after the copied ones.
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [New]):
            cursor.execute(sql)


def move_back(apps, schema_editor):
    Old = apps.get_model("orders", "WebhookDelivery")
    New = apps.get_model("retail", "WebhookDelivery")
    Order = apps.get_model("orders", "Order")
    orders = set(Order.objects.values_list("pk", flat=True))
    Old.objects.bulk_create(
        [
            Old(
                pk=d.pk,
                client_id=d.client_id,
                order_id=d.subject_id,
                event=d.event,
                body=d.body,
                state=d.state if d.state != "dropped" else "failed",
                attempts=d.attempts,
                last_status=d.last_status,
                last_error=d.last_error,
                last_attempt_at=d.last_attempt_at,
                next_attempt_at=d.next_attempt_at,
                delivered_at=d.delivered_at,
                created_at=d.created_at,
            )
            for d in New.objects.filter(subject_type="order").order_by("pk")
            if d.subject_id in orders
        ],
        batch_size=BATCH,
    )
    New.objects.filter(subject_type="order").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_webhook_delivery"),
        ("retail", "0007_webhooks"),
    ]

    operations = [
        migrations.RunPython(move_deliveries, move_back),
        migrations.DeleteModel(name="WebhookDelivery"),
    ]
