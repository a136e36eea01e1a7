"""Why a command was refused, in words an associate can act on.

    DomainError            base: `message` is what the screen says, `code` is for tests and logs
    ├── NotFound           the thing scanned or named is not known here
    ├── WrongScan          a scan of the wrong kind or place for this step
    ├── NeedsApproval      allowed only with a manager's approval
    ├── NotAllowed         this user's role may not do it
    └── InvalidState       the document or task is not in a state that allows it

Every rule in app/domain raises one of these; nothing else escapes to the UI.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused command: `message` says why and what to do."""

    code = "refused"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class WrongScan(DomainError):
    code = "wrong_scan"


class NeedsApproval(DomainError):
    code = "needs_approval"


class NotAllowed(DomainError):
    code = "not_allowed"


class InvalidState(DomainError):
    code = "invalid_state"
