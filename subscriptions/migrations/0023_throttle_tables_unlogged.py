"""The throttle's leases and rate windows need no durability, so on PostgreSQL their tables
are UNLOGGED: a change to them writes no WAL and its commit never waits for the disk. After a
crash of the database they come back empty, which frees every slot; every call that held one
failed with the database anyway. Other databases are left as they are."""

from django.db import migrations

MODELS = ("ThrottleLease", "ThrottleWindow")


def _set(mode: str):
    def change(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.connection.ops.quote_name
        for name in MODELS:
            table = apps.get_model("subscriptions", name)._meta.db_table
            schema_editor.execute(f"ALTER TABLE {quote(table)} SET {mode}")

    return change


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0022_inbound_events_no_lone_subscription_index"),
    ]

    operations = [migrations.RunPython(_set("UNLOGGED"), _set("LOGGED"))]
