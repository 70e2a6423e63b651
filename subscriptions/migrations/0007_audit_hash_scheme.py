"""Each audit event names the scheme of its hash: the chain is keyed (HMAC-SHA256) from now on.

Existing events were hashed with plain SHA-256 and stay so: the column is added with that
as its default, which PostgreSQL stores in the catalogue without touching (or updating) a
single row, so the append-only trigger is never asked to allow anything.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0006_audit_truncate_guard")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="hash_scheme",
            field=models.CharField(default="sha256", max_length=32),
        ),
    ]
