"""Inbound webhook events, one row per notification and deduplication key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('subscriptions', '0008_jobs_and_records'),
    ]

    operations = [
        migrations.CreateModel(
            name='InboundEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('module', models.CharField(choices=[('customer', 'Customer'), ('inventory_part', 'Inventory Part'), ('kit_item', 'Kit Item'), ('location', 'Location'), ('payment_method', 'Payment Method'), ('sales_order', 'Sales Order'), ('shipping_item', 'Shipping Item')], max_length=40)),
                ('event', models.CharField(choices=[('created', 'Created'), ('updated', 'Updated'), ('deleted', 'Deleted')], max_length=10)),
                ('scope', models.CharField(max_length=60)),
                ('external_id', models.CharField(max_length=255)),
                ('event_id', models.CharField(blank=True, default='', max_length=255)),
                ('dedup_key', models.CharField(max_length=64)),
                ('received_at', models.DateTimeField()),
                ('source', models.CharField(choices=[('webhook', 'NetSuite webhook')], default='webhook', max_length=20)),
                ('remote_addr', models.CharField(blank=True, default='', max_length=64)),
                ('request_id', models.CharField(blank=True, default='', max_length=32)),
                ('user_agent', models.CharField(blank=True, default='', max_length=200)),
                ('payload', models.JSONField(default=dict)),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inbound_events', to='subscriptions.subscription')),
            ],
            options={
                'ordering': ['-received_at', '-id'],
                'indexes': [models.Index(fields=['subscription', '-received_at'], name='inboundevent_sub_received'), models.Index(fields=['subscription', 'module', 'event', '-received_at'], name='inboundevent_sub_module_event')],
                'constraints': [models.UniqueConstraint(fields=('subscription', 'dedup_key'), name='inboundevent_once_per_key')],
            },
        ),
    ]
