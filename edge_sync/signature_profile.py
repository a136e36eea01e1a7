"""What a device and the central service agree on for signed requests (RFC 9421) and enrolment.

Both ends import this one module (the service imports nothing else of edge_sync but the
contract), so the covered components, the key id format and the enrolment bodies are never two
hand-kept copies. Pure: pydantic and the standard library only.

A request is signed with the device's Ed25519 key over:

    "@method" "@path" "@query" "content-digest" "idempotency-key"
    ;created=<unix seconds>;nonce=<random>;keyid="<store_id>/<device_id>";alg="ed25519";tag="backroom-device"

`@path` and `@query` rather than `@target-uri`: the host and port a request was sent to differ
behind a proxy, the path and query do not. `content-digest` (RFC 9530, sha-256) binds the body.

A request that names the person it acts for (`X-User-Id`, and the session they signed in with,
`X-Session-Id`) covers those headers too, after the five above (`covered_components`): the list
varies per request, as RFC 9421 allows, and the service refuses a request carrying either header
uncovered, so nobody on the path can swap the person a signed request acts for.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

ALGORITHM = "ed25519"
TAG = "backroom-device"
LABEL = "device"
IDEMPOTENCY_HEADER = "Idempotency-Key"
COVERED_COMPONENTS: tuple[str, ...] = ("@method", "@path", "@query", "content-digest", "idempotency-key")
IDENTITY_HEADERS: tuple[str, ...] = ("x-user-id", "x-session-id")
"""Headers naming the person a request acts for: covered whenever the request carries them."""

_ID = r"[A-Za-z0-9._:\-]{1,64}"
_KEY_ID = re.compile(rf"^({_ID})/({_ID})$")

DeviceIdText = Annotated[str, Field(min_length=1, max_length=64, pattern=rf"^{_ID}$")]


def covered_components(header_names: Iterable[str]) -> tuple[str, ...]:
    """The components a request with these header names is signed over: COVERED_COMPONENTS, then
    each of IDENTITY_HEADERS it carries (in that order)."""
    present = {name.lower() for name in header_names}
    return COVERED_COMPONENTS + tuple(name for name in IDENTITY_HEADERS if name in present)


class BadKeyId(ValueError):
    """A signature's keyid is not `<store_id>/<device_id>`."""


def key_id(store_id: str, device_id: str) -> str:
    """The keyid a device signs with: its store and its id."""
    return f"{store_id}/{device_id}"


def parse_key_id(value: str) -> tuple[str, str]:
    """(store_id, device_id) of a keyid; BadKeyId when it is not one."""
    match = _KEY_ID.match(value)
    if match is None:
        raise BadKeyId(f"keyid {value[:80]!r} is not <store_id>/<device_id>")
    return match.group(1), match.group(2)


def encode_public_key(raw: bytes) -> str:
    """A raw 32-byte Ed25519 public key as unpadded base64url text."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_public_key(text: str) -> bytes:
    """The raw 32 bytes of an encoded Ed25519 public key; ValueError when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("public_key is not base64url text") from exc
    if len(raw) != 32:
        raise ValueError(f"public_key must be 32 bytes of Ed25519 key, not {len(raw)}")
    return raw


class EnrolmentRequest(BaseModel):
    """A device asking to be enrolled in a store, signed by the key it presents."""

    model_config = ConfigDict(extra="forbid")
    store_id: DeviceIdText
    device_id: DeviceIdText
    public_key: str = Field(min_length=40, max_length=64, description="raw Ed25519 public key, base64url")
    name: str = Field(default="", max_length=120, description="what the manager sees, e.g. 'Handheld by the dock'")

    @field_validator("public_key")
    @classmethod
    def _is_ed25519(cls, value: str) -> str:
        decode_public_key(value)
        return value


class EnrolmentRecord(BaseModel):
    """A device's enrolment as the service holds it."""

    store_id: str
    device_id: str
    status: str = Field(description="pending, approved or revoked")
    name: str
    public_key: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None = None
    decided_by: str | None = None
