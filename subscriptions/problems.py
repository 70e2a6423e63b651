"""One value for a problem shown to people, built from any error in one place.

A NetSuite refusal, an unreachable host, an unreadable stored key or a refused service call
all become a :class:`Problem`: a one-line message, NetSuite's own code and detail (verbatim,
already redacted by the client), the HTTP status and a hint a person can act on. Pages render
it with one template (``includes/notice.html``), the messages framework gets it as one line
(:meth:`Problem.text`), connection tests store it as JSON (:meth:`Problem.as_dict`) and the
audit trail records its status and code (:func:`audit_answer`), never a secret.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import ClassVar

import requests

from netsuite.errors import NetSuiteError

from .fields import DecryptionError

# What a call to NetSuite may raise besides a programming error: each becomes a Problem. A
# ValueError or TypeError is not here on purpose: it is a bug, and must not be reported as
# something NetSuite did.
REMOTE_ERRORS = (NetSuiteError, requests.RequestException, DecryptionError)


@dataclass(frozen=True)
class Problem:
    message: str
    code: str = ""
    detail: str = ""
    status: int | None = None
    hint: str = ""

    level: ClassVar[str] = "error"

    @classmethod
    def of(cls, exc: BaseException) -> Problem:
        """The problem to show for one of :data:`REMOTE_ERRORS` or a service refusal."""
        if isinstance(exc, NetSuiteError):
            return cls(
                message=exc.message,
                code=exc.code or "",
                detail=exc.detail or "",
                status=exc.status,
                hint=exc.hint or "",
            )
        if isinstance(exc, DecryptionError):
            return cls(
                message="The stored private key cannot be decrypted.",
                code="DECRYPTION_FAILED",
                hint=str(exc),
            )
        if isinstance(exc, requests.RequestException):
            return cls(
                message=f"The request to NetSuite failed ({type(exc).__name__}).",
                hint="Check that this server can reach NetSuite (or the simulator) and try "
                "again.",
            )
        problem = getattr(exc, "problem", None)
        if isinstance(problem, Problem):
            return problem
        message = getattr(exc, "message", None)
        if isinstance(message, str):
            return cls(message=message)
        raise TypeError(f"{type(exc).__name__} is not an error a person can act on")

    @classmethod
    def from_dict(cls, data: dict | None) -> Problem | None:
        """A problem stored as JSON (a connection test's step) back as a value."""
        if not data:
            return None
        return cls(
            message=str(data.get("message") or "failed"),
            code=str(data.get("code") or ""),
            detail=str(data.get("detail") or ""),
            status=data.get("status"),
            hint=str(data.get("hint") or ""),
        )

    def as_dict(self) -> dict:
        return asdict(self)

    def with_message(self, message: str) -> Problem:
        return replace(self, message=message)

    def text(self) -> str:
        """One line for Django's messages framework (pages without JavaScript)."""
        meta = ", ".join(p for p in (f"HTTP {self.status}" if self.status else "", self.code) if p)
        text = self.message
        if meta:
            text += f" [{meta}]"
        if self.detail:
            text += f" NetSuite said: {self.detail}"
        if self.hint:
            text += f" What to do: {self.hint}"
        return text


# A sentence ends at . ! or ? followed by a space and a capital, except after "e.g." / "i.e.".
_SENTENCE_END = re.compile(r"(?<!e\.g\.)(?<!i\.e\.)(?<=[.!?])\s+(?=[A-Z'\"(])")
# Numbered causes as netsuite.errors writes them: "(1) a; (2) b".
_NUMBERED = re.compile(r"\(\d+\)\s*")


@dataclass(frozen=True)
class HintParts:
    """A hint cut into what a list shows: sentences before the numbered causes, the causes
    (in their order), and the sentences after."""

    before: list[str]
    causes: list[str]
    after: list[str]


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]


def hint_parts(hint: str) -> HintParts:
    """ "What to do" as list items rather than one paragraph: "(1) a; (2) b." become the
    causes, every other sentence an item of its own."""
    hint = (hint or "").strip()
    first = _NUMBERED.search(hint)
    if first is None:
        return HintParts(_sentences(hint), [], [])
    intro, numbered = hint[: first.start()], hint[first.start() :]
    pieces = [p for p in _NUMBERED.split(numbered) if p.strip()]
    causes = [p.strip().rstrip(";").strip() for p in pieces]
    after: list[str] = []
    if causes:
        # The last cause ends at its first full stop; what follows is advice again.
        last, _, rest = causes[-1].partition(". ")
        causes[-1] = last.rstrip(".")
        after = _sentences(rest)
    return HintParts(_sentences(intro), causes, after)


@dataclass(frozen=True)
class Success:
    """The outcome of an action that worked, shown by the same template as a problem."""

    message: str

    level: ClassVar[str] = "success"


Notice = Problem | Success


def audit_answer(problem: Problem | None) -> dict:
    """NetSuite's answer as the audit trail records it: status and code, never a secret."""
    if problem is None:
        return {"NetSuite answer": [None, "OK"]}
    answer = {"NetSuite answer": [None, problem.message]}
    if problem.status:
        answer["HTTP status"] = [None, problem.status]
    if problem.code:
        answer["NetSuite code"] = [None, problem.code]
    return answer
