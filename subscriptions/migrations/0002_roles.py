"""Creates the three roles as groups with their permissions.

The role table is frozen here (not imported from permissions.py) so this migration keeps
meaning what it meant; a later change to the roles gets a migration of its own.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Administrator": [
        "subscriptions.view_subscription",
        "subscriptions.add_subscription",
        "subscriptions.change_subscription",
        "subscriptions.delete_subscription",
        "subscriptions.view_secrets_metadata",
        "subscriptions.manage_certificates",
        "subscriptions.toggle_webhooks",
        "subscriptions.run_connection_test",
        "subscriptions.edit_auth_details",
        "subscriptions.start_jobs",
        "subscriptions.view_jobs",
        "subscriptions.view_inbound_events",
        "subscriptions.view_auditevent",
        "subscriptions.export_auditevent",
        "auth.view_user",
        "auth.change_user",
    ],
    "Support": [
        "subscriptions.view_subscription",
        "subscriptions.toggle_webhooks",
        "subscriptions.run_connection_test",
        "subscriptions.view_jobs",
        "subscriptions.view_inbound_events",
    ],
    "Auditor": [
        "subscriptions.view_subscription",
        "subscriptions.view_auditevent",
        "subscriptions.export_auditevent",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_label in ("auth", "subscriptions"):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
