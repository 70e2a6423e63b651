"""Log lines a log collector reads: ``LOG_FORMAT=json`` makes every line one JSON object.

Text stays the default (people read ``make run``'s console); a deployment that ships its
logs to Loki, Elasticsearch or CloudWatch sets ``json`` and can then filter by request,
subscription or job without parsing prose. Each object has ``time`` (ISO 8601, UTC),
``level``, ``logger``, ``request_id``, ``subscription``, ``job`` (ids, or null), ``message``
and, for an error, ``exception`` (the traceback). The context comes from
``subscriptions.middleware`` (a request's id, the subscription or job its URL names, the job
a worker runs).

gunicorn logs on its own loggers, outside Django's logging set-up: ``GunicornLogger``
(``gunicorn --logger-class subscriptions.logs.GunicornLogger``) writes its error log and its
access log (``--access-logfile -``) in the same JSON when ``LOG_FORMAT=json``, and is
gunicorn's own logger otherwise. An access line carries the method, the path, the status,
the bytes, the duration, the client address and the request id the dashboard answered with;
never the query string, a header but the user agent, or the token of a set-password link,
which may be credentials (an SSO callback's code, a link's token).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import traceback

from gunicorn.glogging import Logger as _GunicornLogger

from .middleware import current

__all__ = ["GunicornLogger", "JsonFormatter", "json_logs", "redact_path"]

# The one path segment that is a credential: the set-password link's token (urls.py).
_PASSWORD_LINK = re.compile(r"(/set-password/[^/]+/)[^/]+")


def json_logs() -> bool:
    """Whether this process writes JSON lines. Read from the environment, not settings:
    gunicorn's logger is set up before Django is."""
    return os.environ.get("LOG_FORMAT", "text").strip().lower() == "json"


def redact_path(path: str) -> str:
    return _PASSWORD_LINK.sub(r"\1[redacted]", path or "")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a newline inside a message is escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        context = current.get()
        request_id = getattr(record, "request_id", None) or context.request_id
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": None if request_id in ("", "-") else request_id,
            "subscription": (
                getattr(record, "subscription_id", None) or context.subscription or None
            ),
            "job": getattr(record, "job_id", None) or context.job or None,
            "message": record.getMessage(),
        }
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            entry["http"] = http
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger, whose error and access lines are JSON when ``LOG_FORMAT=json``."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if json_logs():
            formatter = JsonFormatter()
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time) -> None:
        if not json_logs():
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            headers = resp.headers.items() if hasattr(resp.headers, "items") else resp.headers
            request_id = next(
                (value for name, value in headers if name.lower() == "x-request-id"), None
            )
            method = environ.get("REQUEST_METHOD", "")
            path = redact_path(environ.get("PATH_INFO", ""))
            http = {
                "method": method,
                "path": path,
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 3),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "request_id": request_id,
            }
            self.access_log.info(
                "%s %s %s", method, path, status, extra={"http": http, "request_id": request_id}
            )
        except Exception:
            self.error(traceback.format_exc())
