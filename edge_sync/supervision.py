"""The manager tablet's reads and decisions against the central service: httpx does the I/O.

Store-wide state (the task board, count approvals, exceptions, the device board, the figures,
stock waiting on the dock) lives on the service, so these are plain requests, not outbox ops.
Errors are those of the sync (`edge_sync.errors`): `Offline` when the service cannot be reached,
`ServiceBusy` for 5xx/429, `BadAnswer` for a refusal (its message says why) or an answer this app
cannot read. Tests pass `httpx.MockTransport`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from edge_sync.contract import ExceptionRecord, StoreFiguresRecord, TaskRecord, WaitingPutawayRecord
from edge_sync.errors import BadAnswer, Offline, ServiceBusy, SessionExpired

T = TypeVar("T")


class _Reader(BaseModel):
    # The service's own response models (approvals, devices) are not in the contract: read the
    # fields the tablet shows and ignore the rest, so a new field on the service breaks nothing.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ApprovalView(_Reader):
    """A count waiting for a manager, as the approvals list shows it."""

    approval_id: str
    count_id: str
    status: str
    reason: str
    item_id: str
    location_id: str
    counted_qty: int
    balance_qty: int
    counted_at: dt.datetime
    device_id: str | None = None
    user_id: str | None = None
    created_at: dt.datetime


class DeviceView(_Reader):
    """A device on the store's board: when it last synced and what it still holds."""

    device_id: str
    last_seen_at: dt.datetime
    last_op_at: dt.datetime | None = None
    last_user_id: str | None = None
    lag_seconds: float | None = None
    pending: int = 0
    parked: int = 0
    oldest_pending_at: dt.datetime | None = None
    app_version: str = ""


class SupervisionClient:
    """One store's manager endpoints; every call names the acting manager in X-User-Id."""

    def __init__(self, http: httpx.Client, *, store_id: str) -> None:
        self.http = http
        self.base = f"/v1/stores/{store_id}"

    def tasks(self, *, limit: int = 1000) -> list[TaskRecord]:
        """Every task of the store, most urgent first."""
        return self._get(f"{self.base}/tasks", list[TaskRecord], params={"limit": limit})

    def approvals(self, *, status: str = "pending") -> list[ApprovalView]:
        """Counts waiting for a manager (or with another status)."""
        return self._get(f"{self.base}/approvals", list[ApprovalView], params={"status": status})

    def decide(self, approval_id: str, *, approve: bool, note: str, user_id: str) -> ApprovalView:
        """Approve (the count posts) or reject (nothing posts) a count."""
        verb = "approve" if approve else "reject"
        return self._call("POST", f"{self.base}/approvals/{approval_id}/{verb}", ApprovalView,
                          json={"note": note}, headers={"X-User-Id": user_id})

    def exceptions(self, *, status: str = "open", limit: int = 500) -> list[ExceptionRecord]:
        """The store's exceptions, newest first."""
        return self._get(f"{self.base}/exceptions", list[ExceptionRecord], params={"status": status, "limit": limit})

    def resolve(self, exception_id: str, *, note: str, user_id: str) -> ExceptionRecord:
        """Resolve an exception with a note."""
        return self._call("POST", f"{self.base}/exceptions/{exception_id}/resolve", ExceptionRecord,
                          json={"note": note}, headers={"X-User-Id": user_id})

    def devices(self) -> list[DeviceView]:
        """Every device that pushed to the store."""
        return self._get(f"{self.base}/devices", list[DeviceView])

    def figures(self, *, hours: float = 24) -> StoreFiguresRecord:
        """The store's figures over the last `hours`."""
        return self._get(f"{self.base}/figures", StoreFiguresRecord, params={"hours": hours})

    def waiting_putaway(self, *, older_than_minutes: float) -> list[WaitingPutawayRecord]:
        """Received stock still not put away after `older_than_minutes`."""
        return self._get(f"{self.base}/putaway-waiting", list[WaitingPutawayRecord],
                         params={"older_than_minutes": older_than_minutes})

    def _get(self, path: str, shape: type[T], **kw: Any) -> T:
        return self._call("GET", path, shape, **kw)

    def _call(self, method: str, path: str, shape: type[T], **kw: Any) -> T:
        try:
            response = self.http.request(method, path, **kw)
        except httpx.TimeoutException as exc:
            raise Offline("the store service did not answer in time") from exc
        except httpx.TransportError as exc:
            raise Offline("the store service could not be reached") from exc
        _raise_for(response)
        try:
            return TypeAdapter(shape).validate_json(response.content)
        except ValidationError as exc:
            raise BadAnswer("the store service sent an answer this app does not understand") from exc


def _raise_for(response: httpx.Response) -> None:
    code = response.status_code
    if code < 400:
        return
    if code == 401:
        raise SessionExpired("the store service no longer accepts this session: sign in again")
    if code == 429 or code >= 500:
        raise ServiceBusy(f"the store service is busy or had a problem ({code}); try again in a moment")
    raise BadAnswer(_detail(response))


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return f"the store service refused the request ({response.status_code})"
    if isinstance(detail, dict):
        detail = detail.get("message") or detail
    if isinstance(detail, list) and detail:
        detail = detail[0].get("msg", detail) if isinstance(detail[0], dict) else detail
    return str(detail)[:300]
