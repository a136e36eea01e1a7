"""The HTTP client of the sync: push a batch, fetch a page of changes. httpx does the I/O.

Tests pass `httpx.MockTransport` (unit) or talk to the real service on loopback (integration).
On 401 the client asks `refresh_session` for a new session once and repeats the request, on the
thread that made it: the sync engine sends pushes and page fetches from a worker thread, one
request at a time. Requests are signed by the client's `auth` (edge_sync.signing.RequestSigner); a
refusal of the device itself (not enrolled, not approved, revoked, signature refused) raises
NotEnrolled and refreshes nothing.
A body the service finds too large (413) raises TooLarge, a BadAnswer: the engine sends less.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from edge_sync import contract
from edge_sync.errors import BadAnswer, Offline, ServiceBusy, SessionExpired, SyncError
from edge_sync.signing import NotEnrolled

M = TypeVar("M", bound=BaseModel)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


SIGN_IN_TIMEOUT: Final = httpx.Timeout(connect=0.3, write=0.2, read=0.5, pool=0.1)
"""At most about a second on the network for a sign-in: connect, send, then wait for the answer."""


class SyncClient:
    """Talks to one store's endpoints of the central service."""

    def __init__(self, http: httpx.Client, *, store_id: str,
                 refresh_session: Callable[[], None] | None = None) -> None:
        self.http = http
        self.store_id = store_id
        self._refresh = refresh_session

    def push(self, request: contract.PushRequest) -> contract.PushResponse:
        """Send a batch of ops; the answer has one result per op."""
        body = request.model_dump_json().encode()
        return self._call("POST", f"/v1/stores/{self.store_id}/ops", contract.PushResponse, content=body,
                          headers={"content-type": "application/json"})

    def push_body(self, ops_json: list[str], device_status: contract.DeviceStatusReport | None) -> contract.PushResponse:
        """Send ops already serialised as JSON (outbox.pending_batch); same answer as `push`."""
        status = "null" if device_status is None else device_status.model_dump_json()
        body = f'{{"ops": [{", ".join(ops_json)}], "device_status": {status}}}'.encode()
        return self._call("POST", f"/v1/stores/{self.store_id}/ops", contract.PushResponse, content=body,
                          headers={"content-type": "application/json"})

    def start_session(self, start: contract.SessionStart, *, timeout: httpx.Timeout | None = None) -> contract.SessionRecord:
        """Record a sign-in with the service (an online session: the role now, 12 hours).

        Sign-in waits on this, so it has its own short timeout (`SIGN_IN_TIMEOUT`, about a second in
        all); Offline when the service does not answer in it, and the device starts the session
        offline instead.
        """
        return self._call("POST", f"/v1/stores/{self.store_id}/sessions", contract.SessionRecord,
                          content=start.model_dump_json().encode(), headers={"content-type": "application/json"},
                          timeout=timeout or SIGN_IN_TIMEOUT)

    def changes(self, cursor: str, limit: int) -> contract.ChangesPage:
        """One page of the store's changes after `cursor`."""
        return self._call("GET", f"/v1/stores/{self.store_id}/changes", contract.ChangesPage,
                          params={"cursor": cursor, "limit": limit})

    def _call(self, method: str, path: str, model: type[M], **kw: object) -> M:
        response = self._send(method, path, **kw)
        if response.status_code == 401 and self._refresh is not None and _device_refusal(response) is None:
            self._refresh()
            response = self._send(method, path, **kw)
        _raise_for(response)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise BadAnswer("the service sent an answer this app does not understand") from exc

    def _send(self, method: str, path: str, **kw: object) -> httpx.Response:
        try:
            return self.http.request(method, path, **kw)  # type: ignore[arg-type]
        except httpx.TimeoutException as exc:
            raise Offline("the service did not answer in time") from exc
        except httpx.TransportError as exc:
            raise Offline("the service could not be reached") from exc


class TooLarge(BadAnswer):
    """The service refused the request's body as too large (413): send less in one request."""


def _raise_for(response: httpx.Response) -> None:
    code = response.status_code
    if code < 400:
        return
    refusal = _device_refusal(response)
    if refusal is not None:
        raise NotEnrolled(f"the service refused this device ({refusal}): {_detail(response)}")
    if code == 401:
        raise SessionExpired("the service no longer accepts this session: sign in again")
    if code == 413:
        raise TooLarge(f"the service refused the request as too large ({code}): {_detail(response)}")
    if code == 429:
        raise ServiceBusy("the service asked to slow down", retry_after=_retry_after(response))
    if code >= 500:
        raise ServiceBusy(f"the service had a problem ({code})", retry_after=_retry_after(response))
    raise BadAnswer(f"the service refused the request ({code}): {_detail(response)}")


DEVICE_REFUSALS = frozenset({
    "signature_missing", "signature_invalid", "device_unknown", "digest_mismatch", "signature_expired",
    "nonce_replayed", "device_not_approved", "device_revoked", "device_other_store",
})


def _device_refusal(response: httpx.Response) -> str | None:
    """The refusal code when the service refused the device or its signature (401/403), else None."""
    if response.status_code not in (401, 403):
        return None
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    code = detail.get("code") if isinstance(detail, dict) else None
    return code if code in DEVICE_REFUSALS else None


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:200]
    if isinstance(detail, dict):
        return str(detail.get("message") or detail)[:200]
    return str(detail)[:200]


__all__ = ["NotEnrolled", "SyncClient", "SyncError", "TooLarge"]
