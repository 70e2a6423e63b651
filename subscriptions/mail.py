"""Mail bodies with whole lines: a set-password link is one line of plain 8-bit UTF-8.

Django 6 builds messages with Python's email API, which encodes a text body as
quoted-printable as soon as one line is longer than the policy's ``max_line_length`` (78).
A set-password link is longer, so it was cut with ``=`` soft breaks: copied from
``make run``'s console it ended in ``=`` and was refused. Here the body is measured against
RFC 5322's hard limit of 998 instead (Django 5's rule): shorter lines go as they are (7-bit,
or 8-bit UTF-8 for a non-ASCII name); only a longer one is still encoded.

``MAILERS`` names these backends in place of Django's console and SMTP ones (settings.py).
They render each message through :class:`WholeLines`, so every sender (``send_mail``, an
``EmailMessage``) gets whole lines without knowing.
"""

import email.policy

from django.core.mail.backends import console, smtp

# RFC 5322 2.1.1: a line is at most 998 characters besides CRLF.
LINE_LIMIT = 998


def whole_lines(policy: email.policy.EmailPolicy) -> email.policy.EmailPolicy:
    """``policy`` keeping lines up to :data:`LINE_LIMIT` as they are."""
    return policy.clone(max_line_length=LINE_LIMIT)


class WholeLines:
    """A Django ``EmailMessage`` as a backend sees it, rendered with :func:`whole_lines`."""

    def __init__(self, message):
        self._message = message

    def __getattr__(self, name):
        return getattr(self._message, name)

    def message(self, *, policy=email.policy.default):
        return self._message.message(policy=whole_lines(policy))


class ConsoleBackend(console.EmailBackend):
    """``make run``'s console: links printed whole, ready to copy."""

    def send_messages(self, email_messages):
        return super().send_messages([WholeLines(m) for m in email_messages or []])


class SmtpBackend(smtp.EmailBackend):
    def send_messages(self, email_messages):
        return super().send_messages([WholeLines(m) for m in email_messages or []])
