from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "NetSuite subscriptions"

    def ready(self):
        # Login and role-change auditing; login_method on every password login.
        from . import second_factor, signals  # noqa: F401
