"""The manager tablet's reads and decisions against the central service: httpx does the I/O.

Store-wide state (the task board, count approvals, exceptions, the device board, the figures,
stock waiting on the dock) lives on the service, so these are plain requests, not outbox ops.
Errors are those of the sync (`edge_sync.errors`): `Offline` when the service cannot be reached,
`ServiceBusy` for 5xx/429, `BadAnswer` for a refusal (its message says why) or an answer this app
cannot read, `SessionExpired` when the service wants a manager's session and the one presented is
missing or no longer open (401 `session_required` / `session_expired`). Tests pass `httpx.MockTransport`.

The service lets only a manager's (or admin's) open session on a verified device read store-wide
data: requests are signed with the tablet's key (the `httpx.Auth` of `http`), and a client bound to
the signed-in manager (`for_session`) names them on every request:

    X-User-Id: U-MGR
    X-Session-Id: s-20250303T090000Z-n-0123456789abcdef
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, TypeVar

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


SESSION_REFUSALS: Final = frozenset({"session_required", "session_expired"})
"""The codes of a 401 that mean the person must sign in again (any other 401 is about the device)."""


class SupervisionClient:
    """One store's manager endpoints, read and decided as the manager this client is bound to."""

    def __init__(self, http: httpx.Client, *, store_id: str, user_id: str | None = None,
                 session_id: str | None = None) -> None:
        self.http = http
        self.store_id = store_id
        self.base = f"/v1/stores/{store_id}"
        self.user_id = user_id
        self.session_id = session_id

    def for_session(self, user_id: str, session_id: str) -> SupervisionClient:
        """This client, sharing its HTTP connection pool, acting as `user_id` in session `session_id`."""
        return SupervisionClient(self.http, store_id=self.store_id, user_id=user_id, session_id=session_id)

    def _session_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.user_id:
            headers["X-User-Id"] = self.user_id
        if self.session_id:
            headers["X-Session-Id"] = self.session_id
        return headers

    def tasks(self, *, limit: int = 1000) -> list[TaskRecord]:
        """Every task of the store, most urgent first."""
        return self._get(f"{self.base}/tasks", list[TaskRecord], params={"limit": limit})

    def approvals(self, *, status: str = "pending") -> list[ApprovalView]:
        """Counts waiting for a manager (or with another status)."""
        return self._get(f"{self.base}/approvals", list[ApprovalView], params={"status": status})

    def decide(self, approval_id: str, *, approve: bool, note: str) -> ApprovalView:
        """Approve (the count posts) or reject (nothing posts) a count, as the bound manager."""
        verb = "approve" if approve else "reject"
        return self._call("POST", f"{self.base}/approvals/{approval_id}/{verb}", ApprovalView, json={"note": note})

    def exceptions(self, *, status: str = "open", limit: int = 500) -> list[ExceptionRecord]:
        """The store's exceptions, newest first."""
        return self._get(f"{self.base}/exceptions", list[ExceptionRecord], params={"status": status, "limit": limit})

    def resolve(self, exception_id: str, *, note: str) -> ExceptionRecord:
        """Resolve an exception with a note, as the bound manager."""
        return self._call("POST", f"{self.base}/exceptions/{exception_id}/resolve", ExceptionRecord,
                          json={"note": note})

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
        # The session goes on every request, decisions included: the service reads the actor from it.
        headers = {**self._session_headers(), **kw.pop("headers", {})}
        try:
            response = self.http.request(method, path, headers=headers, **kw)
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
        if _code(response) in SESSION_REFUSALS:
            raise SessionExpired(_detail(response))
        raise BadAnswer(f"the store service did not accept this tablet's signature ({_detail(response)}): "
                        "check that the tablet is enrolled and approved, and that its clock is right")
    if code == 429 or code >= 500:
        raise ServiceBusy(f"the store service is busy or had a problem ({code}); try again in a moment")
    raise BadAnswer(_detail(response))


def _code(response: httpx.Response) -> str | None:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    code = detail.get("code") if isinstance(detail, dict) else None
    return code if isinstance(code, str) else None


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
