"""Signed requests (RFC 9421, `http-message-signatures`) as an httpx Auth, and enrolment calls.

    auth = RequestSigner(store_id, device_id, key)
    http = httpx.Client(base_url=url, auth=auth)          # every request now signed
    enrol(http, auth, name="Handheld by the dock")        # ask a manager to approve this device

Each request gets a Content-Digest of its body, an Idempotency-Key (kept when the caller set
one), a fresh nonce and its created time, and one signature over them and over the X-User-Id /
X-Session-Id headers it carries (see signature_profile): set those before the request is signed.
`clock` gives the created time; pass the server-corrected clock when the device's own one drifts.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable, Generator

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from edge_sync.errors import BadAnswer, Offline, SyncError
from edge_sync.keys import public_key_text
from edge_sync.signature_profile import (
    IDEMPOTENCY_HEADER,
    LABEL,
    TAG,
    EnrolmentRecord,
    EnrolmentRequest,
    covered_components,
    key_id,
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, kid: str, key: Ed25519PrivateKey) -> None:
        self._kid = kid
        self._key = key

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        if key_id != self._kid:
            raise KeyError(key_id)
        return self._key

    def resolve_public_key(self, key_id: str) -> None:
        return None


class RequestSigner(httpx.Auth):
    """Signs every request of an httpx client with the device's key."""

    requires_request_body = True

    def __init__(self, store_id: str, device_id: str, key: Ed25519PrivateKey, *,
                 clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.store_id = store_id
        self.device_id = device_id
        self.key_id = key_id(store_id, device_id)
        self.public_key = public_key_text(key)
        self._clock = clock
        self._signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_OneKey(self.key_id, key))

    def sign(self, request: httpx.Request) -> None:
        """Sign `request` in place (its body must be read already)."""
        if IDEMPOTENCY_HEADER not in request.headers:
            request.headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
        for name in ("content-digest", "signature", "signature-input"):
            request.headers.pop(name, None)
        self._signer.sign(
            request, key_id=self.key_id, created=self._clock(), nonce=secrets.token_urlsafe(16), label=LABEL,
            tag=TAG, covered_component_ids=covered_components(request.headers.keys()), body=request.content,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """httpx's hook: sign, then send."""
        self.sign(request)
        yield request


class NotEnrolled(SyncError):
    """The service does not (or no longer) accept this device: enrol it, or ask a manager to approve it."""


def enrolment_request(signer: RequestSigner, name: str = "") -> EnrolmentRequest:
    """The body asking the service to enrol this device's public key."""
    return EnrolmentRequest(store_id=signer.store_id, device_id=signer.device_id, public_key=signer.public_key, name=name)


def enrol(http: httpx.Client, signer: RequestSigner, *, name: str = "") -> EnrolmentRecord:
    """Ask the service to enrol this device (signed with the key it presents); the enrolment as it stands."""
    body = enrolment_request(signer, name).model_dump_json().encode()
    return _enrolment_call(http, signer, "POST", "/v1/enrolments", body)


def enrolment_status(http: httpx.Client, signer: RequestSigner) -> EnrolmentRecord:
    """This device's enrolment as the service holds it (pending, approved, revoked)."""
    return _enrolment_call(http, signer, "GET", f"/v1/enrolments/{signer.store_id}/{signer.device_id}", None)


def _enrolment_call(http: httpx.Client, signer: RequestSigner, method: str, path: str, body: bytes | None) -> EnrolmentRecord:
    try:
        response = http.request(method, path, content=body, auth=signer,
                                headers={"content-type": "application/json"} if body else None)
    except httpx.TransportError as exc:
        raise Offline("the service could not be reached to enrol this device") from exc
    if response.status_code in (401, 403, 404, 409):
        raise NotEnrolled(f"the service refused the enrolment ({response.status_code}): {response.text[:300]}")
    if response.status_code >= 400:
        raise BadAnswer(f"the service refused the enrolment ({response.status_code}): {response.text[:300]}")
    return EnrolmentRecord.model_validate_json(response.content)
