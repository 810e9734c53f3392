"""The database cache table that keeps the limits against guessing counting while
the shared Redis cache is unreachable (`retail/cache.py`)."""

from django.core.management import call_command
from django.db import migrations

TABLE = "aisle_cache_fallback"


def create_table(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("retail", "0005_outbox_lease_queue")]

    operations = [migrations.RunPython(create_table, drop_table)]
