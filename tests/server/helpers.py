"""Test helpers: a small store, a device that numbers its ops, clients in-process and over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import threading
import time
import uuid
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from alembic import command
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI
from sqlalchemy.engine import Connection, Engine

from tests.support.devices import approved_device

from edge_sync.contract import (
    SCHEMA_VERSION,
    AsnRecord,
    CustomerOrderRecord,
    ExpectedLine,
    ItemRecord,
    LocationKind,
    LocationRecord,
    MasterData,
    Op,
    OpType,
    OrderKind,
    OrderLine,
    PurchaseOrderRecord,
    Role,
    StockStatus,
    BalanceRecord,
    UserRecord,
)
from edge_sync.signing import RequestSigner
from server_stub.db import alembic_config
from server_stub.txn import utcnow

STORE = "S-100"
T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def gtin(n: int) -> str:
    """A 14-digit GTIN for item n (check digits are the scanner layer's business)."""
    return f"{n:014d}"


def demo_master_data(items: int = 6) -> MasterData:
    """A small store: items, a dock, shelves (one tiny), staging, users, a PO with an ASN, an order."""
    return MasterData(
        store_id=STORE,
        items=[
            ItemRecord(item_id=f"I-{n}", sku=f"SKU-{n}", gtins=[gtin(n)], description=f"item {n}") for n in range(1, items + 1)
        ],
        locations=[
            LocationRecord(location_id="DOCK", code="DOCK", zone="D", kind=LocationKind.DOCK),
            LocationRecord(location_id="A-01", code="A-01", zone="A", kind=LocationKind.SHELF, capacity=100),
            LocationRecord(location_id="A-02", code="A-02", zone="A", kind=LocationKind.SHELF, capacity=100),
            LocationRecord(location_id="TINY", code="TINY", zone="A", kind=LocationKind.SHELF, capacity=5),
            LocationRecord(location_id="STAGE", code="STAGE", zone="S", kind=LocationKind.STAGING),
        ],
        users=[
            UserRecord(user_id="U-ASSOC", name="Ana", role=Role.ASSOCIATE),
            UserRecord(user_id="U-ASSOC2", name="Ben", role=Role.ASSOCIATE),
            UserRecord(user_id="U-MGR", name="Mia", role=Role.MANAGER),
        ],
        purchase_orders=[
            PurchaseOrderRecord(
                po_id="PO-1", number="4500001", supplier="Acme",
                lines=[ExpectedLine(line_id="1", item_id="I-1", gtin=gtin(1), qty=10),
                       ExpectedLine(line_id="2", item_id="I-2", gtin=gtin(2), qty=4)],
            )
        ],
        asns=[
            AsnRecord(
                asn_id="ASN-1", po_id="PO-1", number="ASN1",
                lines=[ExpectedLine(line_id="1", item_id="I-1", gtin=gtin(1), qty=10),
                       ExpectedLine(line_id="2", item_id="I-2", gtin=gtin(2), qty=4)],
            )
        ],
        orders=[
            CustomerOrderRecord(
                order_id="ORD-1", number="1001", kind=OrderKind.PICKUP,
                lines=[OrderLine(line_id="1", item_id="I-3", qty=2), OrderLine(line_id="2", item_id="I-4", qty=1)],
            )
        ],
        opening_balances=[
            BalanceRecord(item_id="I-3", location_id="A-01", status=StockStatus.AVAILABLE, qty=10),
            BalanceRecord(item_id="I-4", location_id="A-02", status=StockStatus.AVAILABLE, qty=5),
            BalanceRecord(item_id="I-5", location_id="A-01", status=StockStatus.AVAILABLE, qty=20),
        ],
    )


class AsgiClient:
    """A synchronous httpx client over the ASGI app, through a blocking portal (no lifespan).

    Requests are signed with `auth` (an enrolled device's RequestSigner) unless one passes its own.
    """

    def __init__(self, app: FastAPI, auth: httpx.Auth | None = None) -> None:
        self.app = app
        self.auth = auth
        self._stack = contextlib.ExitStack()
        self._portal: BlockingPortal | None = None
        self._client: httpx.AsyncClient | None = None

    def __enter__(self) -> AsgiClient:
        self._portal = self._stack.enter_context(start_blocking_portal())
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._portal is not None and self._client is not None
        self._portal.call(self._client.aclose)
        self._stack.close()

    sessions_for_writes: bool = True
    """A write naming its person in X-User-Id alone gets that person's session on the signing device
    (started online once, then reused), as the tablet presents its manager's; False sends it as is."""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request and wait for the answer."""
        assert self._portal is not None and self._client is not None
        client = self._client
        if self.auth is not None:
            kwargs.setdefault("auth", self.auth)
        if method != "GET" and self.sessions_for_writes and not url.endswith("/sessions"):
            headers = dict(kwargs.get("headers") or {})
            named = kwargs["json"].get("user_id") if isinstance(kwargs.get("json"), dict) else None
            if named and not (headers.get("X-User-Id") or headers.get("x-user-id")):
                headers["X-User-Id"] = named
            kwargs["headers"] = self._with_session(url, headers, kwargs.get("auth"))

        async def send() -> httpx.Response:
            return await client.request(method, url, **kwargs)

        return self._portal.call(send)

    def _with_session(self, url: str, headers: dict[str, str], auth: object) -> dict[str, str]:
        names = {name.lower() for name in headers}
        user_id = headers.get("X-User-Id") or headers.get("x-user-id")
        if not user_id or "x-session-id" in names:
            return headers
        # The device's own signer (a wrapping Auth, e.g. one that replays a signature, keeps it as `signer`).
        signer = auth if isinstance(auth, RequestSigner) else getattr(auth, "signer", None)
        auth = signer if isinstance(signer, RequestSigner) else None if auth is not None else auth
        device_id = getattr(auth, "device_id", None) or headers.get("X-Device-Id") or "TAB-1"
        store_id = url.split("/v1/stores/")[1].split("/")[0] if "/v1/stores/" in url else STORE
        cache: dict[tuple[str, str, str], str | None] = self.__dict__.setdefault("_write_sessions", {})
        key = (store_id, user_id, device_id)
        if key not in cache:
            cache[key] = _open_session(self, store_id, user_id, device_id, auth)
        session_id = cache[key]
        return headers if session_id is None else {**headers, "X-Session-Id": session_id}

    def sign_in(self, store_id: str, user_id: str, auth: RequestSigner) -> None:
        """Open `user_id`'s session on `auth`'s device now, for the writes that name them later."""
        self._with_session(f"/v1/stores/{store_id}/", {"X-User-Id": user_id}, auth)

    read_headers: dict[str, str] = {}
    """Sent with every GET unless the call names its own (a manager's session, see `present_session`)."""

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        if self.read_headers:
            kwargs["headers"] = {**self.read_headers, **(kwargs.get("headers") or {})}
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)


class LiveServer:
    """uvicorn serving the app on a free loopback port, in a thread."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


class Device:
    """A device that numbers its ops gap-free and pushes them, as edge_sync would."""

    def __init__(self, client: AsgiClient, store_id: str, device_id: str, user_id: str) -> None:
        self.client = client
        self.store_id = store_id
        self.device_id = device_id
        self.user_id = user_id
        self.seq = 0
        self._auth: httpx.Auth | None = None

    @property
    def auth(self) -> httpx.Auth:
        """This device's signer: enrolled and approved in its store on first use."""
        if self._auth is None:
            self._auth = approved_device(self.client.app.state.services.engine, self.store_id, self.device_id)
        return self._auth

    def op(self, op_type: str, payload: dict[str, Any], *, at: dt.datetime | None = None, offset_ms: int = 0,
           user_id: str | None = None) -> Op:
        """The next op of this device."""
        self.seq += 1
        return Op(
            op_id=uuid.uuid4(), store_id=self.store_id, device_id=self.device_id, seq=self.seq, type=OpType(op_type),
            schema_version=SCHEMA_VERSION, user_id=user_id or self.user_id, session_id="sess-1",
            occurred_at=at or dt.datetime.now(dt.UTC), clock_offset_ms=offset_ms, payload=payload,
        )

    def push(self, *ops: Op, status: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Push ops in one batch; the per-op answers."""
        body: dict[str, Any] = {"ops": [o.model_dump(mode="json") for o in ops]}
        if status is not None:
            body["device_status"] = status
        response = self.client.post(f"/v1/stores/{self.store_id}/ops", json=body, auth=self.auth)
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def send(self, op_type: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """Make one op, push it, and return its answer."""
        return self.push(self.op(op_type, payload, **kw))[0]


def balance(client: AsgiClient, item_id: str, location_id: str, status: str = "available", as_of: str | None = None) -> int:
    """One balance through the API."""
    params = {"item_id": item_id, "location_id": location_id, "status": status}
    if as_of is not None:
        params["as_of"] = as_of
    rows = client.get(f"/v1/stores/{STORE}/balances", params=params).json()
    return sum(r["qty"] for r in rows)


def exceptions_of(client: AsgiClient, kind: str | None = None) -> list[dict[str, Any]]:
    """The store's exceptions, optionally of one kind."""
    params = {"kind": kind} if kind else {}
    response = client.get(f"/v1/stores/{STORE}/exceptions", params=params)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def start_session(client: AsgiClient, user_id: str, device_id: str, *, auth: httpx.Auth | None = None) -> dict[str, str]:
    """Sign `user_id` in online on `device_id` (POST /sessions); the headers that present the session."""
    from edge_sync.contract import session_id_for

    now = dt.datetime.now(dt.UTC)
    session_id = session_id_for(now, online=True, token=uuid.uuid4().hex[:16])
    body = {"session_id": session_id, "user_id": user_id, "device_id": device_id, "started_at": now.isoformat()}
    kwargs: dict[str, Any] = {} if auth is None else {"auth": auth}
    response = client.post(f"/v1/stores/{STORE}/sessions", json=body, **kwargs)
    assert response.status_code == 201, response.text
    return {"X-User-Id": user_id, "X-Session-Id": session_id}


def present_session(client: AsgiClient, user_id: str = "U-MGR", device_id: str = "TAB-1") -> AsgiClient:
    """Have `client` read as `user_id`'s online session on its device (the manager on the tablet)."""
    client.read_headers = start_session(client, user_id, device_id)
    return client


def _open_session(client: AsgiClient, store_id: str, user_id: str, device_id: str, auth: object) -> str | None:
    """Sign `user_id` in online on `device_id` in `store_id`; the session id, or None when the service refuses."""
    from edge_sync.contract import session_id_for

    now = dt.datetime.now(dt.UTC)
    session_id = session_id_for(now, online=True, token=uuid.uuid4().hex[:16])
    body = {"session_id": session_id, "user_id": user_id, "device_id": device_id, "started_at": now.isoformat()}
    kwargs: dict[str, Any] = {} if auth is None else {"auth": auth}
    response = client.post(f"/v1/stores/{store_id}/sessions", json=body, headers={"X-Device-Id": device_id}, **kwargs)
    return session_id if response.status_code == 201 else None


def upgraded_to(engine: Engine, revision: str) -> None:
    """Migrate the (fresh) database only up to `revision`, as an older service left it."""
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def insert_store_row(conn: Connection, store_id: str, *, change_seq: int = 0, ledger_seq: int = 0) -> None:
    """A store's row as any revision has it (the counters only), for data written before a migration."""
    conn.exec_driver_sql(
        "INSERT INTO stores (store_id, created_at, change_seq, erp_seq, ledger_seq, exception_seq, approval_seq) "
        f"VALUES ('{store_id}', '{utcnow():%Y-%m-%d %H:%M:%S}', {change_seq}, 0, {ledger_seq}, 0, 0)"
    )
