"""Signing out on a handheld ends the session on the device: an Actor kept by a screen records nothing
more. And the sync that start_sync runs closes its HTTP client when it is shut down."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.bootstrap import Device, build_device, shell_view_model, start_sync
from app.domain.commands import ClaimTask
from app.domain.context import Actor, FakeClock
from app.services import people
from app.services.sync_status import SyncStatus
from app.viewmodels.shell import ShellViewModel
from edge_sync.repositories.master import apply_master_data
from edge_sync.signing import RequestSigner
from edge_sync.uow import UnitOfWork
from tests.fixtures.store import STORE_ID, T0, small_store
from tests.support.live_server import free_port

ANA = Actor(user_id="u-assoc", session_id="s-1", role="associate", device_id="hh-1")


@pytest.fixture
def device(tmp_path: Path) -> Device:
    """The test store's handheld, with its master data, on a fake clock."""
    built = build_device(tmp_path / "hh.db", store_id=STORE_ID, device_id="hh-1", clock=FakeClock(T0))
    with UnitOfWork(built.engine) as uow:
        apply_master_data(uow.conn, small_store())
        uow.commit()
    return built


def _status() -> SyncStatus:
    return SyncStatus(online=False, pending=0, oldest_pending_at=None, parked=0, last_success_at=None,
                      last_pull_at=None, last_error=None, clock_offset_ms=0)


def test_sign_out_ends_the_signed_in_session_through_the_injected_callable() -> None:
    ended: list[Actor] = []
    vm = ShellViewModel(sign_in=lambda badge: (ANA, "Ana Associate"), list_tasks=lambda actor, now: [],
                        sync_status=_status, clock=FakeClock(T0), end_session=ended.append)
    vm.sign_out()
    assert ended == []  # nobody signed in: nothing to end
    vm.submit_badge("BADGE-0001")
    vm.sign_out()
    assert ended == [ANA] and vm.state.actor is None and vm.state.message == "Signed out"


def test_a_signed_out_session_cannot_record_ops_on_the_device(device: Device) -> None:
    shell = shell_view_model(device)
    shell.submit_badge("BADGE-0001")
    actor = shell.state.actor
    assert actor is not None
    people.require_active(device.uow, actor, T0)  # open before sign-out
    shell.sign_out()
    with pytest.raises(people.SessionExpired, match="Your session has ended"):
        device.bus.handle(ClaimTask(command_id="c-after-sign-out", task_id="task-pick-1"), actor)
    with UnitOfWork(device.engine) as uow:
        assert uow.conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one() == 0
    # Signing in again starts a new session that records as before.
    shell.submit_badge("BADGE-0001")
    again = shell.state.actor
    assert again is not None and again.session_id != actor.session_id
    people.require_active(device.uow, again, T0 + dt.timedelta(seconds=1))


def test_the_sync_closes_its_http_client_when_it_is_shut_down(device: Device) -> None:
    # Nothing listens on the port: the scheduler's first run fails fast and is backed off.
    scheduler = start_sync(device, f"http://127.0.0.1:{free_port()}", interval_s=3600,
                           auth=RequestSigner(STORE_ID, "hh-1", Ed25519PrivateKey.generate()))
    http = getattr(device.service.register_session, "__self__").http
    assert not http.is_closed
    scheduler.shutdown()
    assert http.is_closed
    # A sign-in after that cannot register its session, and starts it offline as with no network.
    shell = shell_view_model(device)
    shell.submit_badge("BADGE-0001")
    assert shell.state.actor is not None and not shell.state.actor.started_online
