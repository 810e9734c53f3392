import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    """The return constraints, after the backfill (PostgreSQL alters no table with
    row changes pending in the same transaction)."""

    dependencies = [("orders", "0005_return_quantities")]

    operations = [
        migrations.AddConstraint(
            model_name='orderline',
            constraint=models.CheckConstraint(condition=models.Q(('received_quantity__lte', django.db.models.expressions.CombinedExpression(models.F('quantity'), '-', models.F('cancelled_quantity')))), name='orderline_received_lte_kept'),
        ),
        migrations.AddConstraint(
            model_name='orderline',
            constraint=models.CheckConstraint(condition=models.Q(('claimed_quantity__lte', models.F('received_quantity'))), name='orderline_claimed_lte_received'),
        ),
        migrations.AddConstraint(
            model_name='orderline',
            constraint=models.CheckConstraint(condition=models.Q(('returned_quantity__lte', models.F('claimed_quantity'))), name='orderline_returned_lte_claimed'),
        ),
    ]
