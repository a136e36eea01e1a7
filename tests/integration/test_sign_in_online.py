"""Sign-in against the real service: registered online when it answers, offline within ~1 s when it does not."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import sqlalchemy as sa

from app.bootstrap import Device, build_device, shell_view_model, start_sync
from app.services import people
from edge_sync import contract
from edge_sync.client import SyncClient
from edge_sync.repositories.master import apply_master_data
from edge_sync.uow import UnitOfWork
from server_stub import tables as t
from tests.fixtures.store import STORE_ID, small_store
from tests.support.live_server import signed_for
from tests.support.sync_stack import running_service


def handheld(tmp_path: Path) -> Device:
    device = build_device(tmp_path / "hh-1.db", store_id=STORE_ID, device_id="hh-1")
    with UnitOfWork(device.engine) as uow:
        apply_master_data(uow.conn, small_store())
        uow.commit()
    return device


@contextlib.contextmanager
def silent_service() -> Iterator[str]:
    """A port that takes connections (the kernel completes the handshake) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_sign_in_while_online_is_recorded_by_the_service_as_an_online_session(tmp_path: Path) -> None:
    with running_service(tmp_path) as service:
        device = handheld(tmp_path)
        scheduler = start_sync(device, service.url, interval_s=3600, auth=signed_for(STORE_ID, "hh-1", tmp_path / "keys"))
        try:
            # The first sync run starts at once; in this process it shares the interpreter with the
            # service. Once it is over, the sign-in's ~1 s budget is the sign-in's alone, as on a
            # device signed into after start-up (CI failed it once while that run was pulling).
            deadline = time.monotonic() + 30
            while scheduler.last_report is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert scheduler.last_report is not None and scheduler.last_report.ok, scheduler.last_report
            shell = shell_view_model(device)
            shell.submit_badge("BADGE-0001")
            actor = shell.state.actor
            assert actor is not None and actor.started_online, shell.state.message
            with service.app.state.services.engine.connect() as conn:
                row = conn.execute(sa.select(t.sessions).where(t.sessions.c.session_id == actor.session_id)).one()
            assert (row.user_id, row.device_id, row.role, row.started_online) == ("u-assoc", "hh-1", "associate", True)
            assert row.expires_at - row.started_at == contract.SESSION_TTL
            assert actor.expires_at == row.expires_at
        finally:
            scheduler.shutdown()
            # start_sync keeps its HTTP client for the app's life; the test closes it.
            getattr(device.service.register_session, "__self__").http.close()


def test_a_sign_in_with_a_service_that_never_answers_starts_offline_within_about_a_second(tmp_path: Path) -> None:
    device = handheld(tmp_path)
    with silent_service() as url:
        http = httpx.Client(base_url=url, timeout=httpx.Timeout(15.0, connect=5.0))
        device.service.register_session = SyncClient(http, store_id=STORE_ID).start_session
        shell = shell_view_model(device)
        started = time.monotonic()
        shell.submit_badge("BADGE-0001")
        waited = time.monotonic() - started
        http.close()
    actor = shell.state.actor
    assert actor is not None and not actor.started_online and actor.started_at is not None
    assert waited < 1.5, f"sign-in waited {waited:.2f} s on the network"
    people.require_active(device.uow, actor, actor.started_at + contract.OFFLINE_START_TTL - contract.CLOCK_SKEW)


def test_a_sign_in_with_nothing_listening_starts_offline_at_once(tmp_path: Path) -> None:
    device = handheld(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # bound, not listening: connections are refused
        with httpx.Client(base_url=url) as http:
            device.service.register_session = SyncClient(http, store_id=STORE_ID).start_session
            shell = shell_view_model(device)
            started = time.monotonic()
            shell.submit_badge("BADGE-0001")
            waited = time.monotonic() - started
    assert shell.state.actor is not None and not shell.state.actor.started_online
    assert waited < 1.0
