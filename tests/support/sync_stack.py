"""A real service on loopback with the small test store, and devices wired as bootstrap wires them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from app.bootstrap import Device, build_device
from app.domain.context import Actor, FakeClock
from edge_sync.client import SyncClient
from edge_sync.engine import SyncEngine
from edge_sync.pull import pull
from server_stub.app import create_app
from server_stub.masterdata import load_master_data
from tests.fixtures.store import STORE_ID, small_store
from tests.support.devices import approved_device
from tests.support.live_server import live_server, signed_for


@dataclass
class Service:
    """The central service under test."""

    app: FastAPI
    url: str

    def get(self, path: str, **params: Any) -> Any:
        """GET a store endpoint and return its JSON."""
        r = httpx.get(f"{self.url}/v1/stores/{STORE_ID}{path}", params=params, headers={"X-User-Id": "u-mgr"}, timeout=10,
                      auth=approved_device(self.app.state.services.engine, STORE_ID, "mgr-tablet"))
        r.raise_for_status()
        return r.json()

    def balance(self, item_id: str, location_id: str, status: str = "available") -> int:
        """The service's balance of one stock key."""
        rows = self.get("/balances", item_id=item_id, location_id=location_id, status=status)
        items = rows if isinstance(rows, list) else rows.get("balances", [])
        return sum(int(r["qty"]) for r in items)


@contextlib.contextmanager
def running_service(tmp_path: Path) -> Iterator[Service]:
    """The service on a fresh SQLite file with the small test store, on a free loopback port."""
    app = create_app(f"sqlite:///{tmp_path / 'server.db'}")
    load_master_data(app.state.services.engine, small_store())
    with live_server(app) as url:
        yield Service(app, url)
    app.state.services.engine.dispose()


@dataclass
class Handheld:
    """One device: its database, bus, sync engine, and the person signed in on it."""

    device: Device
    sync: SyncEngine
    http: httpx.Client
    actor: Actor

    def handle(self, command: object) -> Any:
        """Run a command as the signed-in person."""
        return self.device.bus.handle(command, self.actor)  # type: ignore[arg-type]


def handheld(tmp_path: Path, service_url: str, *, name: str, clock: FakeClock, user_id: str = "u-assoc",
             role: str = "associate", transport: httpx.BaseTransport | None = None) -> Handheld:
    """A device set up for the test store, synced once, with `user_id` signed in."""
    device = build_device(tmp_path / f"{name}.db", store_id=STORE_ID, device_id=name, clock=clock)
    http = httpx.Client(base_url=service_url, timeout=10, transport=transport, auth=signed_for(STORE_ID, name, tmp_path / "keys"))
    client = SyncClient(http, store_id=STORE_ID)
    pull(client, device.engine)
    sync = SyncEngine(device.engine, client, clock=clock.now)
    return Handheld(device, sync, http, Actor(user_id=user_id, session_id=f"s-{name}", role=role, device_id=name))


@contextlib.contextmanager
def handhelds(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., Handheld]]:
    """A maker of handhelds (`handheld`'s arguments after the path and clock) for one test; their
    HTTP clients are closed and their databases let go at the end."""
    made: list[Handheld] = []

    def make(service_url: str, **kw: Any) -> Handheld:
        h = handheld(tmp_path, service_url, clock=clock, **kw)
        made.append(h)
        return h

    try:
        yield make
    finally:
        for h in made:
            h.http.close()
            h.device.engine.dispose()
