"""When this installation's audit chain was keyed (issue 18, the review's finding F1).

Without that record a trail rewritten as plain SHA-256 from its first event verified as one
that was never keyed. The row is written here when a chain key is configured: the plain events
accepted from now on are those before the first keyed one (all of them when none is keyed
yet). Without a key it is written by the first keyed event (``audit.record``). On PostgreSQL
the table refuses UPDATE and DELETE like the audit table (migrations 0003 and 0005).
"""

from django.db import migrations, models
from django.utils import timezone

FUNCTION = "subscriptions_auditkeying_refuse"
TRIGGER = "subscriptions_auditkeying_append_only"


def legacy_prefix_end(AuditEvent) -> int:
    """The id of the newest event before the first keyed one (0 for none)."""
    first_keyed = (
        AuditEvent.objects.exclude(hash_scheme="sha256").order_by("id")
        .values_list("id", flat=True).first()
    )
    events = AuditEvent.objects.all()
    if first_keyed is not None:
        events = events.filter(id__lt=first_keyed)
    return events.order_by("-id").values_list("id", flat=True).first() or 0


def record_keying(apps, schema_editor):
    from subscriptions.models.audit import UnknownChainKeyError, chain_keys, keying_seal

    AuditKeying = apps.get_model("subscriptions", "AuditKeying")
    AuditEvent = apps.get_model("subscriptions", "AuditEvent")
    if AuditKeying.objects.exists():
        return
    try:
        scheme = chain_keys()[0]
    except UnknownChainKeyError:
        return  # no key yet: the first keyed event records it
    legacy_until_id = legacy_prefix_end(AuditEvent)
    keyed_at = timezone.now()
    AuditKeying.objects.create(
        keyed_at=keyed_at,
        legacy_until_id=legacy_until_id,
        scheme=scheme,
        seal=keying_seal(legacy_until_id=legacy_until_id, keyed_at=keyed_at, scheme=scheme),
    )


def append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'subscriptions_auditkeying is append-only: % refused', TG_OP;
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER {TRIGGER}
            BEFORE UPDATE OR DELETE ON subscriptions_auditkeying
            FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
        """,
        # As migration 0003: no parameters, so the ``%`` of RAISE is not taken for one.
        params=None,
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"DROP TRIGGER IF EXISTS {TRIGGER} ON subscriptions_auditkeying; "
        f"DROP FUNCTION IF EXISTS {FUNCTION}();"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("subscriptions", "0017_sso_identities"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditKeying",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("keyed_at", models.DateTimeField()),
                ("legacy_until_id", models.BigIntegerField(default=0)),
                ("scheme", models.CharField(max_length=32)),
                ("seal", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(record_keying, migrations.RunPython.noop),
        migrations.RunPython(append_only_trigger, drop_trigger),
    ]
