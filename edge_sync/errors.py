"""Why a sync did not get through, in words for the banner. Every one is retried with backoff.

    SyncError            base: `message` is what the associate and the manager read
    ├── Offline          no network, refused connection, timeout
    ├── ServiceBusy      the service answered 5xx or 429 (maybe with a Retry-After)
    ├── SessionExpired   401 even after refreshing the session: someone must sign in again
    └── BadAnswer        a 4xx we did not expect, or an answer this app cannot read

httpx and pydantic errors are converted at the boundary (edge_sync.client) with `raise … from`.
"""

from __future__ import annotations


class SyncError(Exception):
    """A sync attempt that did not get through."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class Offline(SyncError):
    """The service could not be reached."""


class ServiceBusy(SyncError):
    """The service answered, but could not take the request now."""


class SessionExpired(SyncError):
    """The service no longer accepts this device's session."""


class BadAnswer(SyncError):
    """The service refused the request, or answered something this app does not understand."""
