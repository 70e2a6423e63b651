from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "NetSuite subscriptions"

    def ready(self):
        from . import signals  # noqa: F401  (connects login and role-change auditing)
