"""Request id and client address, available to the audit writer and to every log line; and
the refusal of form posts that are not UTF-8.

The same context carries the subscription and the job a line is about, so an operator can
follow one subscription or one job through the logs of every process: set from the URL for a
request (``/subscriptions/<pk>/...``, ``/hooks/netsuite/<pk>/``, the API's
``subscription_id``, a job's ``job_pk``), and by ``services.jobs.job_execute`` for a job.
"""

import contextlib
import contextvars
import functools
import logging
import uuid
from dataclasses import dataclass, replace
from urllib.parse import unquote_to_bytes

from django.core.exceptions import BadRequest


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    remote_addr: str = ""
    # How a person acted when not through a page ("api token abcd1234"): set by the API's
    # token check for the rest of the request, written by audit.record into every event.
    via: str = ""
    # Ids (as text) of the subscription and the job this work is about, for the log lines.
    subscription: str = ""
    job: str = ""


current = contextvars.ContextVar("ipaas_request_context", default=RequestContext())  # noqa: B039 (frozen)

# URL parameters naming a subscription or a job, by the first segment of the route: ``pk`` is a
# subscription's only under these (elsewhere a person's or an audit event's).
_SUBSCRIPTION_ROUTES = ("subscriptions/<int:pk>/", "hooks/netsuite/<int:pk>/")


def context_note(*, subscription: object = None, job: object = None) -> contextvars.Token:
    """From here on, log lines name this subscription and job (ids; None leaves one as it
    is); inside :func:`context_about` or a request, which put the previous value back."""
    changes = {
        name: str(value)
        for name, value in (("subscription", subscription), ("job", job))
        if value is not None
    }
    return current.set(replace(current.get(), **changes))


@contextlib.contextmanager
def context_about(*, subscription: object = None, job: object = None):
    """Log lines written inside name this subscription and job."""
    token = context_note(subscription=subscription, job=job)
    try:
        yield
    finally:
        current.reset(token)


def carrying_context(function):
    """``function`` made to run in a copy of the caller's context, wherever it is called: a
    thread a job or a request starts (a pool's) gets no context of its own, so its log lines
    would name no request, subscription or job. A copy per call, as one context cannot be
    entered by two threads at once."""
    context = contextvars.copy_context()

    @functools.wraps(function)
    def run(*args, **kwargs):
        return context.copy().run(function, *args, **kwargs)

    return run


def client_address(request) -> str:
    # The very address axes locks out by (its AXES_IPWARE_* settings): REMOTE_ADDR, or behind
    # the TLS proxy (DJANGO_BEHIND_PROXY) the address that proxy appended to X-Forwarded-For.
    # Imported here: this module is loaded by the LOGGING setup, before the apps whose models
    # axes.helpers imports are ready.
    from axes.helpers import get_client_ip_address

    return (get_client_ip_address(request) or "")[:64]


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Always our own id: a client-chosen one would let anyone forge audit correlations.
        request_id = uuid.uuid4().hex
        request.request_id = request_id
        token = current.set(RequestContext(request_id, client_address(request)))
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response["X-Request-ID"] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Set for the rest of the request; __call__'s reset drops it with the request id.
        route = getattr(request.resolver_match, "route", "") or ""
        subscription = view_kwargs.get("subscription_id")
        if subscription is None and route.startswith(_SUBSCRIPTION_ROUTES):
            subscription = view_kwargs.get("pk")
        job = view_kwargs.get("job_pk", view_kwargs.get("job_id"))
        context_note(subscription=subscription, job=job)
        return None


def reads_own_body(view):
    """Mark a view that reads and checks its own body, and only once it may: the inbound
    webhook answers a caller without its key 401 before reading a byte, so nothing before
    it (:class:`Utf8FormMiddleware`) may read the body either."""
    view.reads_own_body = True
    return view


class Utf8FormMiddleware:
    """A form post whose fields are not UTF-8 is a 400 before anything reads it.

    Django decodes such fields with replacement characters (so a reason or a name would be
    saved as mojibake), and refuses a form labelled with another charset only when something
    reads ``request.POST``, which was the CSRF check, whose error then became a 500. Checked
    once the URL is resolved (before the CSRF check, which comes later in MIDDLEWARE), so a
    view marked :func:`reads_own_body` is left alone. A multipart post (a form with a file
    field) is checked too: its fields' names and values, and its files' names; a file's
    content is the file's own business (a key file is checked where it is read).
    """

    FORM = "application/x-www-form-urlencoded"
    MULTIPART = "multipart/form-data"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "reads_own_body", False):
            return None
        if request.method == "POST" and request.content_type == self.FORM:
            charset = (request.content_params.get("charset") or "utf-8").lower()
            if charset != "utf-8":
                raise BadRequest("A form post must be UTF-8.")
            try:
                unquote_to_bytes(request.body.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("A form post must be UTF-8.") from None
        elif request.method == "POST" and request.content_type == self.MULTIPART:
            boundary = request.content_params.get("boundary", "")
            if boundary and not _multipart_is_utf8(request.body, boundary.encode("latin-1")):
                raise BadRequest("A form post must be UTF-8.")
        return None


def _multipart_is_utf8(body: bytes, boundary: bytes) -> bool:
    """Whether every part's headers, and every field's value (a part without a filename),
    decode as UTF-8. Django's parser would decode them with replacement characters."""
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, _, value = part.partition(b"\r\n\r\n")
        checked = head if b"filename=" in head else head + value
        try:
            checked.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        context = current.get()
        record.request_id = context.request_id or "-"
        record.subscription_id = context.subscription or None
        record.job_id = context.job or None
        return True
