"""The central service's exceptions.

    ServiceError            anything the service refuses; the API maps each to an HTTP status
    ├── InvalidRequest      422: a body, query or cursor that cannot be used as sent
    ├── Forbidden           403: the user may not do this (role, store)
    ├── NotFound            404: no such store record (task, exception, approval, op)
    └── Conflict            409: the record's state does not allow it
        └── LeaseHeld       409: another device holds the task's lease (who, and until when)

    OpRejected              one op refused for good; ingest stores it with its reason and never
                            lets it escape a batch

Database errors (sqlalchemy.exc.DBAPIError) are not wrapped: ingest retries a batch on an
IntegrityError (a concurrent writer won a race) and the API answers 503 to the rest, which a device
retries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


class ServiceError(Exception):
    """Base of every refusal the API turns into an HTTP answer."""

    status_code = 400
    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        """The error as the API sends it."""
        return {"code": self.code, "message": self.message, **self.details}


class InvalidRequest(ServiceError):
    status_code = 422
    code = "invalid_request"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class LeaseHeld(Conflict):
    """Another device holds the task's lease."""

    code = "lease_held"

    def __init__(self, task_id: str, device_id: str | None, user_id: str | None, lease_until: dt.datetime) -> None:
        super().__init__(
            f"task {task_id} is held by {user_id or 'someone'} on device {device_id} until "
            f"{lease_until.isoformat(timespec='seconds')}",
            task_id=task_id,
            holder_device_id=device_id,
            holder_user_id=user_id,
            lease_until=lease_until.isoformat(),
        )
        self.lease_until = lease_until


class OpRejected(Exception):
    """An op refused for good, with a reason a person can act on."""

    def __init__(self, reason: str, **result: Any) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.result = result
