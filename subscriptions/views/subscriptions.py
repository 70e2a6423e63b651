"""Placeholder: filled in by the UI work."""


def _todo(request, *args, **kwargs):
    raise NotImplementedError


subscription_list = subscription_create = subscription_detail = subscription_edit = _todo
subscription_delete = webhook_key_regenerate = api_url_preview = _todo
