"""The service against its own OpenAPI, with generated hostile input: never a 5xx, never an answer
that breaks the schema it documents.

Schemathesis reads `/openapi.json` from the app in-process (no server, no network), generates
valid and invalid requests for every operation (bounded: see MAX_EXAMPLES, the whole run stays
under a minute on a 2-core machine), and checks each answer.

Requests reach the app through `identified`, an ASGI wrapper that sees each request as it will
arrive (method, raw path, query, headers, body) and adds the headers a `Signer` gives: here
`signed_as`, the manager's tablet signing as a device does, with the manager named in X-User-Id.
Generated requests therefore get past the signature check and exercise the routes themselves;
the signature refusals have their own rows in tests/security/test_attacks.py.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from http_message_signatures import HTTPMessageSignaturesException
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.python import asgi
from schemathesis.python.asgi import ASGIClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge_sync.signing import RequestSigner
from server_stub.app import create_app
from server_stub.masterdata import load_master_data
from server_stub.settings import Settings
from tests.server.helpers import STORE, demo_master_data
from tests.support.devices import approved_device

BASE_URL = f"http://{asgi.HOST}"
MAX_EXAMPLES = 8
"""Examples per operation: ~30 operations, the run stays under a minute on a loaded 2-core machine."""

Signer = Callable[[str, str, bytes, bytes, Mapping[str, str]], dict[str, str]]
"""(method, raw path, query string, body, headers) -> headers to add to the request."""


def signed_as(device: RequestSigner, user_id: str) -> Signer:
    """Sign each request as `device` would (RFC 9421 over method, path, query, body digest,
    idempotency key) and name `user_id` as the person acting."""

    def sign(method: str, path: str, query: bytes, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        url = "http://service" + path + ("?" + query.decode("latin-1") if query else "")
        # Generated header values may be any bytes: pass them through as sent.
        named = {"x-user-id": headers.get("x-user-id", user_id)}
        sent = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in {**headers, **named}.items() if k != "content-length"]
        request = httpx.Request(method, url, content=body, headers=sent)
        try:
            device.sign(request)  # covers X-User-Id (and any X-Session-Id) as the device's own signer does
        except HTTPMessageSignaturesException:
            # A generated value no signer can cover (control characters): sent uncovered, to be refused.
            for name in ("x-user-id", "x-session-id"):
                request.headers.pop(name, None)
            device.sign(request)
        names = ("signature", "signature-input", "content-digest", "idempotency-key")
        return {**named, **{n: request.headers[n] for n in names if n in request.headers}}

    return sign


def identified(app: ASGIApp, sign: Signer) -> ASGIApp:
    """`app` behind a layer that reads each request's body and adds the headers `sign` gives."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False) and message["type"] == "http.request"
        body = b"".join(chunks)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw_path = (scope.get("raw_path") or scope["path"].encode()).split(b"?")[0].decode("latin-1")
        added = sign(scope["method"], raw_path, scope.get("query_string", b""), body, headers)
        names = {name.lower() for name in added}
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() not in names]
                 + [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in added.items()]}
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return wrapper


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The service on SQLite with the demo store; limits raised so generated traffic is not throttled."""
    db: Path = tmp_path_factory.mktemp("schemathesis") / "server.db"
    app = create_app(f"sqlite:///{db}", settings=Settings(device_rate_per_s=10_000, device_rate_burst=10_000))
    load_master_data(app.state.services.engine, demo_master_data())
    yield app
    app.state.services.engine.dispose()


def _openapi() -> dict[str, Any]:
    # The document does not depend on the database: an app that never connects gives it. (The
    # schema is needed at collection, to make one test per operation; schemathesis's fixture-based
    # loader does not work with this pytest.)
    app = create_app(f"sqlite:///{tempfile.gettempdir()}/openapi-only.db", run_migrations=False)
    document = app.openapi()
    app.state.services.engine.dispose()
    return document


schema = schemathesis.openapi.from_dict(_openapi())


@pytest.fixture(scope="module")
def http(service: FastAPI) -> Iterator[ASGIClient]:
    """An in-process client of the service; every request it sends is signed by the manager's tablet."""
    signer = signed_as(approved_device(service.state.services.engine, STORE, "TAB-1"), "U-MGR")
    with asgi.get_client(identified(service, signer)) as client:  # type: ignore[arg-type]  # schemathesis types ASGI scopes as dict
        yield client


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_gets_a_5xx_or_an_answer_outside_the_schema(
    case: schemathesis.Case, http: ASGIClient
) -> None:
    case.call_and_validate(base_url=BASE_URL, session=http, checks=[
        checks.not_a_server_error,
        checks.response_schema_conformance,
        checks.content_type_conformance,
    ])
