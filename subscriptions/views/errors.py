"""The 400, 403 and 500 pages, without Django's CSRF re-check.

Django's default handlers are wrapped in ``requires_csrf_token``, which runs the CSRF check
again and so reads ``request.POST`` again. When reading the body is what failed (a form post
that is not UTF-8, too many fields), that read raises inside the 400 handler, the 500 handler
then fails the same way, and the person gets a bare server error instead of a 400. These
handlers never touch the body: 400 and 500 are standalone pages, and 403 only reaches here
after the CSRF check has passed.
"""

from django.http import HttpResponseBadRequest, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def bad_request(request, exception=None):
    return HttpResponseBadRequest(loader.render_to_string("400.html"))


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def server_error(request):
    return HttpResponseServerError(loader.render_to_string("500.html"))
