"""Store credit: one account per customer and its append-only ledger.

On PostgreSQL a trigger refuses UPDATE and DELETE on the ledger (as on the audit
log); TRUNCATE stays possible for the table's owner (the test runner's flush).
"""

import django.db.models.deletion
import django.utils.timezone
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


APPEND_ONLY = """
CREATE OR REPLACE FUNCTION orders_storecreditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'orders_storecreditentry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER orders_storecreditentry_append_only
    BEFORE UPDATE OR DELETE ON orders_storecreditentry
    FOR EACH ROW EXECUTE FUNCTION orders_storecreditentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS orders_storecreditentry_append_only ON orders_storecreditentry;
DROP FUNCTION IF EXISTS orders_storecreditentry_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_return_constraints"),
        ("retail", "0007_webhooks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StoreCredit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "balance",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        max_digits=12,
                        verbose_name="balance",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "customer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="store_credit",
                        to="retail.customer",
                        verbose_name="customer",
                    ),
                ),
            ],
            options={
                "verbose_name": "store credit",
                "verbose_name_plural": "store credit",
                "ordering": ["pk"],
            },
        ),
        migrations.CreateModel(
            name="StoreCreditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(decimal_places=2, max_digits=12, verbose_name="amount"),
                ),
                (
                    "balance_after",
                    models.DecimalField(
                        decimal_places=2, max_digits=12, verbose_name="balance after"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("issued", "Credit issued"),
                            ("spent", "Spent"),
                            ("restored", "Restored"),
                            ("adjusted", "Adjusted"),
                        ],
                        max_length=10,
                        verbose_name="kind",
                    ),
                ),
                (
                    "return_ref",
                    models.CharField(blank=True, max_length=64, verbose_name="return reference"),
                ),
                ("reason", models.CharField(blank=True, max_length=300, verbose_name="why")),
                (
                    "at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="at"
                    ),
                ),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="orders.storecredit",
                        verbose_name="account",
                    ),
                ),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="who",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="credit_entries",
                        to="orders.order",
                        verbose_name="order",
                    ),
                ),
                (
                    "store",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="retail.store",
                        verbose_name="where",
                    ),
                ),
            ],
            options={
                "verbose_name": "store credit entry",
                "verbose_name_plural": "store credit ledger",
                "ordering": ["-at", "-pk"],
            },
        ),
        migrations.AddConstraint(
            model_name="storecredit",
            constraint=models.CheckConstraint(
                condition=models.Q(("balance__gte", 0)), name="storecredit_balance_gte_0"
            ),
        ),
        migrations.AddConstraint(
            model_name="storecreditentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount", 0), _negated=True),
                name="storecreditentry_amount_not_0",
            ),
        ),
        migrations.AddConstraint(
            model_name="storecreditentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("balance_after__gte", 0)),
                name="storecreditentry_balance_after_gte_0",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
