"""On PostgreSQL, a trigger refuses UPDATE and DELETE on the audit log.

TRUNCATE stays possible for the table's owner (the test runner's flush uses it).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION retail_auditlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'retail_auditlog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER retail_auditlog_append_only
    BEFORE UPDATE OR DELETE ON retail_auditlog
    FOR EACH ROW EXECUTE FUNCTION retail_auditlog_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS retail_auditlog_append_only ON retail_auditlog;
DROP FUNCTION IF EXISTS retail_auditlog_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("retail", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
