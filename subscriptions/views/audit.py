"""Placeholder: filled in by the UI work."""


def _todo(request, *args, **kwargs):
    raise NotImplementedError


audit_list = audit_export = audit_detail = _todo
