"""The one family of refusals services raise, so every caller handles them the same way.

A :class:`ServiceError` says what a person can do about it (``message``); it may name the
form fields it concerns (``errors``: field -> message), and when NetSuite was involved it
carries the :class:`~subscriptions.problems.Problem` with NetSuite's code, detail and hint.
Nothing changed when a service raises one, unless its docstring says otherwise (a failed
NetSuite call is put on record in the audit trail).
"""

from __future__ import annotations

from ..problems import Problem


class ServiceError(Exception):
    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: dict[str, str | list[str]] | None = None,
        problem: Problem | None = None,
    ) -> None:
        self.message = message
        self.errors: dict[str, str | list[str]] = dict(errors or {})
        if field is not None:
            self.errors.setdefault(field, message)
        self.problem = problem or Problem(message)
        super().__init__(message)

    @property
    def field(self) -> str | None:
        """The one field the refusal concerns, when there is exactly one."""
        return next(iter(self.errors)) if len(self.errors) == 1 else None


class InvalidInput(ServiceError):
    """Values a service refuses whoever sent them (the form's checks, enforced again)."""

    def __init__(self, errors: dict[str, str | list[str]]) -> None:
        super().__init__("Correct the marked fields; nothing was saved.", errors=errors)


class ConflictError(ServiceError):
    """Someone saved the subscription after the person opened it."""

    def __init__(self, current, changed: dict) -> None:
        self.current = current
        # field label -> [value when the form was opened, value saved now]; secrets only as
        # "changed", never their values.
        self.changed = changed
        super().__init__("The subscription was changed by someone else meanwhile.")


SETUP_NOT_FINISHED = "SETUP_NOT_FINISHED"


def setup_not_finished(message: str) -> Problem:
    """The refusal of a NetSuite action for a subscription that is not ready yet; ``message``
    is ``selectors.setup_progress.setup_refusal``'s (the missing step, where to do it)."""
    return Problem(
        message=message,
        code=SETUP_NOT_FINISHED,
        hint="Nothing was sent to NetSuite. The subscription's Overview lists the set-up steps.",
    )


class NotAllowed(ServiceError):
    """A rule of the dashboard forbids this change (e.g. leaving it without administrators)."""
