"""Signed requests: only approved devices may call a store's endpoints (RFC 9421, RFC 9530).

Every store request carries `Signature-Input` and `Signature` made with the device's Ed25519 key
over the components of edge_sync.signature_profile. `SignatureGuard.verify` checks, in order, and
refuses with the service's error shape:

    401 signature_missing     no Signature-Input / Signature headers
    401 signature_invalid     malformed, wrong key id, wrong components, or the signature does not verify
    401 identity_unsigned     the request carries X-User-Id or X-Session-Id and the signature does not cover it
    401 device_unknown        no device enrolled under the key id
    401 digest_mismatch       the body is not the one the Content-Digest (signed) names: tampered
    401 signature_expired     created further than `signature_window_s` from the service's clock
    403 device_not_approved   enrolled, a manager has not approved it yet
    403 device_revoked        a manager revoked it
    403 device_other_store    the device is enrolled for another store than the one in the path
    401 nonce_replayed        this device already used this nonce: a replayed request

The nonce is recorded in `request_nonces` only once every other check passed, so a refused request
changes nothing. `check` verifies and hands back the nonce unrecorded (a `RequestNonce`): an
endpoint that writes inserts it in its own write transaction (the push of a batch of ops inserts it
in the batch's transaction), so a request costs one write transaction, not two; any other request
records it alone before the endpoint runs (`verify`). Either way the unique key (store, device,
nonce) decides: of two requests with one nonce, concurrent or not, one commits and the other is
refused `nonce_replayed` with nothing it did kept. Nonces are kept until their signature could no
longer pass the created-time check, then pruned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from edge_sync.signature_profile import (
    COVERED_COMPONENTS,
    IDENTITY_HEADERS,
    TAG,
    BadKeyId,
    EnrolmentRecord,
    decode_public_key,
    parse_key_id,
)
from server_stub import devices
from server_stub import tables as t
from server_stub.db import fast_insert, read_transaction, write_transaction
from server_stub.devices import EnrolmentStatus
from server_stub.errors import ServiceError
from server_stub.settings import Settings
from server_stub.txn import utcnow

PRUNE_EVERY_S = 60.0


class SignatureRefused(ServiceError):
    """401: the request is not signed by a device the service can identify, or not as sent."""

    status_code = 401
    code = "signature_invalid"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class DeviceRefused(ServiceError):
    """403: the device is known and signed this, but may not make it."""

    status_code = 403
    code = "device_not_allowed"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class VerifiedDevice:
    """The device that signed a request, as the service enrolled it."""

    store_id: str
    device_id: str


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """A request as the verifier reads it: method, an absolute URL, header field lines."""

    method: str
    url: str
    headers: _Fields


class _Fields:
    """Header field lines (name, value), in order, as `http_message_signatures` reads them."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = list(pairs)

    def items(self) -> list[tuple[str, str]]:
        return self._pairs

    def __iter__(self) -> Any:
        return iter(dict.fromkeys(name for name, _ in self._pairs))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n.lower() == name.lower() for n, _ in self._pairs)

    def get(self, name: str) -> str | None:
        values = [v for n, v in self._pairs if n.lower() == name.lower()]
        return ", ".join(values) if values else None


def message_from_scope(scope: Mapping[str, Any]) -> SignedMessage:
    """The request of an ASGI scope as the verifier reads it (the path exactly as it was sent)."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    path = raw_path.split(b"?")[0].decode("latin-1")
    query = scope.get("query_string") or b""
    url = "http://service" + path + ("?" + query.decode("latin-1") if query else "")
    headers = _Fields((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
    return SignedMessage(method=scope["method"], url=url, headers=headers)


class _EnrolledKeys(HTTPSignatureKeyResolver):
    """Resolves a key id to its device's enrolled public key, remembering the enrolment it read."""

    def __init__(self, engine: Engine, only_key: str | None = None) -> None:
        self.engine = engine
        self.only_key = only_key
        self.enrolment: EnrolmentRecord | None = None
        self.key_id: tuple[str, str] | None = None

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        try:
            store_id, device_id = parse_key_id(key_id)
        except BadKeyId as exc:
            raise SignatureRefused("signature_invalid", str(exc)) from exc
        self.key_id = (store_id, device_id)
        if self.only_key is not None:
            return Ed25519PublicKey.from_public_bytes(decode_public_key(self.only_key))
        with read_transaction(self.engine) as conn:
            self.enrolment = devices.find(conn, store_id, device_id)
        if self.enrolment is None:
            return None
        return Ed25519PublicKey.from_public_bytes(decode_public_key(self.enrolment.public_key))

    def resolve_private_key(self, key_id: str) -> None:
        raise NotImplementedError("the service holds no device's private key")


class SignatureGuard:
    """Verifies signed requests against enrolled keys and remembers their nonces."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.window = dt.timedelta(seconds=settings.signature_window_s)
        self._last_prune: dict[str, float] = {}

    @property
    def required(self) -> bool:
        """Whether store requests must be signed (the default; off only by an explicit setting)."""
        return self.settings.require_signatures

    def verify(self, message: SignedMessage, body: bytes, path_store_id: str | None) -> VerifiedDevice:
        """The approved device that signed this request for this store, its nonce recorded; a refusal otherwise."""
        device, nonce = self.check(message, body, path_store_id)
        nonce.keep_alone()
        return device

    def check(self, message: SignedMessage, body: bytes, path_store_id: str | None) -> tuple[VerifiedDevice, RequestNonce]:
        """The approved device that signed this request for this store, and its nonce still to record."""
        keys = _EnrolledKeys(self.engine)
        store_id, device_id, nonce = self._check_signature(message, body, keys)
        enrolment = keys.enrolment
        assert enrolment is not None
        if enrolment.status == EnrolmentStatus.PENDING:
            raise DeviceRefused("device_not_approved",
                                f"device {device_id} is waiting for a manager to approve it in store {store_id}; "
                                "ask a manager to approve it (tablet or `backroom devices approve`)")
        if enrolment.status != EnrolmentStatus.APPROVED:
            raise DeviceRefused("device_revoked",
                                f"device {device_id} was revoked in store {store_id}; it can no longer sync. "
                                "Enrol it again under a new device id and have a manager approve it")
        if path_store_id is not None and path_store_id != store_id:
            raise DeviceRefused("device_other_store",
                                f"device {device_id} is enrolled for store {store_id}, not {path_store_id}; "
                                "it may only act for its own store")
        return VerifiedDevice(store_id=store_id, device_id=device_id), RequestNonce(self, store_id, device_id, nonce)

    def verify_self_signed(self, message: SignedMessage, body: bytes, store_id: str, device_id: str,
                           public_key: str) -> None:
        """Check an enrolment request is signed by the very key it presents (proof the device holds it)."""
        keys = _EnrolledKeys(self.engine, only_key=public_key)
        *signed_by, nonce = self._check_signature(message, body, keys)
        if tuple(signed_by) != (store_id, device_id):
            raise SignatureRefused("signature_invalid",
                                   f"the request is signed as {signed_by[0]}/{signed_by[1]} but asks for "
                                   f"{store_id}/{device_id}; sign it with the key id of the device it enrols")
        self.remember_nonce(store_id, device_id, nonce)

    def verify_own(self, message: SignedMessage, body: bytes) -> EnrolmentRecord:
        """The enrolment of the device that signed this request, whatever its status (it asks how it stands)."""
        keys = _EnrolledKeys(self.engine)
        store_id, device_id, nonce = self._check_signature(message, body, keys)
        assert keys.enrolment is not None
        self.remember_nonce(store_id, device_id, nonce)
        return keys.enrolment

    def _check_signature(self, message: SignedMessage, body: bytes, keys: _EnrolledKeys) -> tuple[str, str, str]:
        if "signature-input" not in message.headers or "signature" not in message.headers:
            raise SignatureRefused("signature_missing",
                                   "this request is not signed: the service takes requests only from enrolled "
                                   "devices, signed with their key (Signature-Input and Signature headers)")
        verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=keys)
        # created is checked below, once the signature verified, against the service's window in
        # both directions, so that a stale request is told apart from a forged one
        verifier.max_clock_skew = dt.timedelta(days=3650)
        try:
            [result] = verifier.verify(message, max_age=None, expect_tag=TAG, require_components=COVERED_COMPONENTS)
        except SignatureRefused:
            raise
        except (HTTPMessageSignaturesException, ValueError) as exc:
            if keys.key_id is not None and keys.enrolment is None and keys.only_key is None:
                store_id, device_id = keys.key_id
                raise SignatureRefused("device_unknown",
                                       f"no device {device_id} is enrolled in store {store_id}; enrol it and have "
                                       "a manager approve it") from exc
            raise SignatureRefused("signature_invalid",
                                   f"the request's signature does not verify ({_reason(exc)}); sign it again "
                                   "with this device's enrolled key") from exc
        assert keys.key_id is not None
        uncovered = [name for name in IDENTITY_HEADERS
                     if name in message.headers and f'"{name}"' not in result.covered_components]
        if uncovered:
            raise SignatureRefused("identity_unsigned",
                                   f"the request names its person in {', '.join(uncovered)} but its signature does not "
                                   "cover that header: it may have been set or changed on the way. Sign the request "
                                   "with every X-User-Id / X-Session-Id header it carries in its covered components")
        digest = message.headers.get("content-digest") or ""
        try:
            ContentDigest.verify(digest, body)
        except (HTTPMessageSignaturesException, ValueError) as exc:
            raise SignatureRefused("digest_mismatch",
                                   "the body is not the one that was signed (Content-Digest does not match): "
                                   "it was changed on the way; send the request again") from exc
        created = result.parameters.get("created")
        now = utcnow()
        if not isinstance(created, int) or abs(now - dt.datetime.fromtimestamp(created, dt.UTC)) > self.window:
            raise SignatureRefused("signature_expired",
                                   f"the signature's created time is more than {self.window.seconds} s from the "
                                   "service's clock: a stale or replayed request, or a device clock that is off; "
                                   "set the device's clock and send again")
        nonce = result.nonce
        if not isinstance(nonce, str) or not 8 <= len(nonce) <= 64:
            raise SignatureRefused("signature_invalid", "the signature needs a nonce of 8 to 64 characters")
        return keys.key_id[0], keys.key_id[1], nonce

    def remember_nonce(self, store_id: str, device_id: str, nonce: str) -> None:
        """Record the signature's nonce in its own transaction; nonce_replayed when this device used it before."""
        RequestNonce(self, store_id, device_id, nonce).keep_alone()

    def insert_nonce(self, conn: Connection, store_id: str, device_id: str, nonce: str) -> None:
        """Insert the nonce in the caller's write transaction; nonce_replayed when this device used it before.

        On a refusal the caller's transaction must not commit (the error propagates out of it).
        """
        now = utcnow()
        if time.monotonic() - self._last_prune.get(store_id, -PRUNE_EVERY_S) >= PRUNE_EVERY_S:
            self._last_prune[store_id] = time.monotonic()
            conn.execute(sa.delete(t.request_nonces).where(
                t.request_nonces.c.store_id == store_id, t.request_nonces.c.expires_at < now))
        try:
            # At driver level (fast_insert): every signed write inserts one.
            fast_insert(conn, t.request_nonces,
                        [{"store_id": store_id, "device_id": device_id, "nonce": nonce, "expires_at": now + 2 * self.window}])
        except IntegrityError as exc:
            raise SignatureRefused("nonce_replayed",
                                   f"device {device_id} already sent a request with this nonce: a replay is refused; "
                                   "a new request needs a new signature") from exc


class RequestNonce:
    """A verified request's nonce, still to be recorded: with the request's own writes, or alone.

    `write(conn)` inserts it in the caller's write transaction and `committed()` says that
    transaction committed; `keep_alone()` records it in a transaction of its own unless that
    already happened. `settled` is True once it is recorded, or refused as a replay.
    """

    __slots__ = ("device_id", "guard", "nonce", "settled", "store_id")

    def __init__(self, guard: SignatureGuard, store_id: str, device_id: str, nonce: str) -> None:
        self.guard = guard
        self.store_id = store_id
        self.device_id = device_id
        self.nonce = nonce
        self.settled = False

    def write(self, conn: Connection) -> None:
        """Insert the nonce in `conn`'s write transaction (nonce_replayed, and settled, if it was used)."""
        try:
            self.guard.insert_nonce(conn, self.store_id, self.device_id, self.nonce)
        except SignatureRefused:
            self.settled = True
            raise

    def committed(self) -> None:
        """The transaction `write` ran in has committed: the nonce is recorded."""
        self.settled = True

    def keep_alone(self) -> None:
        """Record the nonce in its own write transaction, unless it is settled already."""
        if self.settled:
            return
        with write_transaction(self.guard.engine) as conn:
            self.write(conn)
        self.settled = True


@contextlib.contextmanager
def nonce_kept(nonce: RequestNonce | None) -> Iterator[None]:
    """Around an endpoint that writes the nonce with its work: whatever path it took (an error before
    any write, a read-only answer), the nonce is recorded by the end, alone if need be."""
    try:
        yield
    finally:
        if nonce is not None:
            nonce.keep_alone()


def _reason(exc: Exception) -> str:
    cause = exc.__cause__
    text = str(exc) or (str(cause) if cause else exc.__class__.__name__)
    return text[:200] if text and text != "None" else "bad signature"


__all__ = ["DeviceRefused", "RequestNonce", "SignatureGuard", "SignatureRefused", "SignedMessage", "VerifiedDevice",
           "message_from_scope", "nonce_kept"]
