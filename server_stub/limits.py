"""Limits on what one client may send: body size per request, requests per device per second.

Both are plain ASGI middleware, registered in `create_app`, answering in the service's error shape
(`{"detail": {"code", "message"}}`) before any route runs:

    BodySizeLimit       413 `payload_too_large` when a body passes its route's limit, whether the
                        client declared it (Content-Length) or streamed it (chunked); 400
                        `bad_content_length` for a Content-Length that is not a number
    DeviceRateLimit     429 `rate_limited` with Retry-After when a device has spent its token
                        bucket (burst, then a steady rate)

The rate limiter keys a request by the device that made it: the device id a signature check put in
the request state (`scope["state"]["device_id"]`) when there is one, else the device the request
claims (`X-Device-Id`, or the `keyid` of its `Signature-Input`) *together with* the client address,
so a client cannot spend another device's budget by naming it; a request naming no device is keyed
by its address alone. Buckets live in the process: with several workers each has its own.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from starlette.datastructures import Headers
from fastapi.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from fastapi import FastAPI

    from server_stub.settings import Settings

__all__ = ["BodySizeLimit", "DeviceRateLimit", "RouteLimit", "TokenBucket", "device_key", "install_limits"]

_KEYID = re.compile(r'keyid="([^"]{1,128})"')
# A device id (the contract's Id); anything else names no device.
_DEVICE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


def _error(code: str, message: str) -> bytes:
    return json.dumps({"detail": {"code": code, "message": message}}).encode()


async def _answer(send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------------------------------
# Body size
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteLimit:
    """A body limit for the requests whose method is `method` and whose path matches `path`."""

    method: str
    path: re.Pattern[str]
    max_bytes: int


class PayloadTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its limit.

    An HTTPException, so FastAPI's body reader lets it through unchanged (it turns other errors
    into a 400) and the exception middleware answers it in the service's error shape.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail={"code": "payload_too_large", "message": _too_large_message(limit)})


def _too_large_message(limit: int) -> str:
    return f"the request body is larger than this endpoint takes ({limit:,} bytes): send less per request"


class BodySizeLimit:
    """Refuse request bodies past a limit: at once when declared, as they stream otherwise."""

    def __init__(self, app: ASGIApp, *, default_max_bytes: int, routes: Iterable[RouteLimit] = ()) -> None:
        self.app = app
        self.default_max_bytes = default_max_bytes
        self.routes = tuple(routes)

    def limit_for(self, method: str, path: str) -> int:
        """The body limit of a request."""
        for route in self.routes:
            if route.method == method and route.path.fullmatch(path):
                return route.max_bytes
        return self.default_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isascii() or not declared.isdigit():
                await _answer(send, 400, _error("bad_content_length", f"Content-Length must be a number of bytes, not {declared[:20]!r}"))
                return
            if int(declared) > limit:
                await _answer(send, 413, _error("payload_too_large", _too_large_message(limit)))
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except PayloadTooLarge:
            if started:
                raise
            await _answer(send, 413, _error("payload_too_large", _too_large_message(limit)))


# ---------------------------------------------------------------------------------------------
# Rate
# ---------------------------------------------------------------------------------------------


class TokenBucket:
    """`burst` tokens, refilled at `rate` per second; a request takes one."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def take(self, now: float) -> float:
        """0 when a token was taken; otherwise the seconds until one will be there."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


def device_key(scope: Scope) -> tuple[str, str]:
    """(bucket key, how to name the client in a message) for a request."""
    state: Any = scope.get("state") or {}
    verified = state.get("device_id") if isinstance(state, dict) else None
    if isinstance(verified, str) and verified:
        return f"device:{verified}", f"device {verified}"
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    headers = Headers(scope=scope)
    claimed = headers.get("x-device-id")
    if not claimed and (match := _KEYID.search(headers.get("signature-input", ""))):
        # The keyid is `<store_id>/<device_id>`: the bucket is the device's, as X-Device-Id names it.
        claimed = match.group(1).rpartition("/")[2]
    if claimed and _DEVICE_ID.fullmatch(claimed):
        return f"device:{claimed}@{host}", f"device {claimed}"
    return f"client:{host}", f"client {host}"


MAX_BUCKETS: Final = 10_000
"""Buckets kept at most; the least recently used go first (a full bucket holds no state worth keeping)."""


class DeviceRateLimit:
    """A token bucket per device; 429 with Retry-After when it is empty."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate_per_s: float,
        burst: int,
        exempt_paths: Iterable[str] = (),
        key: Callable[[Scope], tuple[str, str]] = device_key,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.app = app
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.exempt_paths = frozenset(exempt_paths)
        self.key = key
        self.clock = clock
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def wait_for(self, key: str) -> float:
        """Take a token for `key`: 0 when allowed, else the seconds to wait."""
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(self.rate_per_s, self.burst, now)
            if len(self.buckets) > MAX_BUCKETS:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(key)
        return bucket.take(now)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        key, who = self.key(scope)
        wait = self.wait_for(key)
        if wait == 0.0:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        body = _error(
            "rate_limited",
            f"too many requests from {who} (at most {self.burst} at once, then {self.rate_per_s:g} a second): "
            f"wait {seconds} s and retry",
        )
        await _answer(send, 429, body, [(b"retry-after", str(seconds).encode())])


PUSH_ROUTE: Final = RouteLimit("POST", re.compile(r"/v1/stores/[^/]+/ops"), 0)
EXEMPT_FROM_RATE: Final = ("/healthz",)
"""Liveness probes come from the platform, not from devices."""


def install_limits(app: FastAPI, settings: Settings) -> None:
    """Register both limits on a FastAPI app: the rate limit outermost, so a flood costs no body read."""
    push = RouteLimit(PUSH_ROUTE.method, PUSH_ROUTE.path, settings.max_push_body_bytes)
    app.add_middleware(BodySizeLimit, default_max_bytes=settings.max_body_bytes, routes=(push,))
    app.add_middleware(
        DeviceRateLimit, rate_per_s=settings.device_rate_per_s, burst=settings.device_rate_burst,
        exempt_paths=EXEMPT_FROM_RATE,
    )


SERVICE_ERROR_SCHEMA: Final[dict[str, Any]] = {
    "title": "ServiceError",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "additionalProperties": True,
        }
    },
}
"""The service's own refusals (`ServiceError`, the limits above): a code and a message a person can act on."""


def document_errors(openapi: dict[str, Any]) -> None:
    """Document the service's error shape beside FastAPI's validation errors on every 422.

    A 422 is either FastAPI's list of field errors or a refusal of the service (an op id reused, a
    cursor that cannot be used); the document must say both, or clients validating answers against
    it (and the schema tests) take a correct refusal for a broken answer.
    """
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ServiceError", SERVICE_ERROR_SCHEMA)
    service_error = {"$ref": "#/components/schemas/ServiceError"}
    for path_item in openapi.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            answer = operation.get("responses", {}).get("422", {})
            content = answer.get("content", {}).get("application/json")
            if content is None:
                either = [{"$ref": "#/components/schemas/HTTPValidationError"}, service_error]
                schema = {"anyOf": either} if "HTTPValidationError" in components else service_error
                answer.setdefault("content", {})["application/json"] = {"schema": schema}
                answer.setdefault("description", "Refused: see the code and message")
            elif "schema" in content and service_error not in content["schema"].get("anyOf", []):
                content["schema"] = {"anyOf": [content["schema"], service_error]}
