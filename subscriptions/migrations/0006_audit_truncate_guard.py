"""On PostgreSQL, the audit table also refuses TRUNCATE.

TRUNCATE fires no row-level trigger, so the append-only trigger of 0003 let it empty the
table at once; a statement-level trigger refuses it with the same message. Elsewhere nothing
to do: SQLite has no TRUNCATE.
"""

from django.db import migrations

CREATE = """
CREATE TRIGGER subscriptions_auditevent_no_truncate
    BEFORE TRUNCATE ON subscriptions_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION subscriptions_auditevent_append_only();
"""

DROP = "DROP TRIGGER IF EXISTS subscriptions_auditevent_no_truncate ON subscriptions_auditevent;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0005_audit_append_only_guards")]

    operations = [migrations.RunPython(forwards, backwards)]
