"""Placeholder: filled in by the UI work."""


def _todo(request, *args, **kwargs):
    raise NotImplementedError


people_list = people_set_role = _todo
