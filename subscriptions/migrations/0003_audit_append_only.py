"""On PostgreSQL, the audit table refuses UPDATE and DELETE at the database itself."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION subscriptions_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused on subscriptions_auditevent',
        TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER subscriptions_auditevent_append_only
    BEFORE UPDATE OR DELETE ON subscriptions_auditevent
    FOR EACH ROW EXECUTE FUNCTION subscriptions_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS subscriptions_auditevent_append_only ON subscriptions_auditevent;
DROP FUNCTION IF EXISTS subscriptions_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
