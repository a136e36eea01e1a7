"""Sign-in registers the session with the service when it answers (12 h), else starts it offline (4 h).

The service is an `httpx.MockTransport` here; tests/integration/test_sign_in_online.py signs in
against the real service, and against one that never answers.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest

from app.bootstrap import Device, build_device, shell_view_model
from app.domain.context import FakeClock
from edge_sync import contract
from edge_sync.client import SIGN_IN_TIMEOUT, SyncClient
from edge_sync.repositories.master import apply_master_data
from edge_sync.uow import UnitOfWork
from tests.fixtures.store import STORE_ID, T0, small_store


@pytest.fixture
def device(tmp_path: Path) -> Device:
    """The handheld of the test store, with its master data, on a fake clock."""
    built = build_device(tmp_path / "hh.db", store_id=STORE_ID, device_id="hh-1", clock=FakeClock(T0))
    with UnitOfWork(built.engine) as uow:
        apply_master_data(uow.conn, small_store())
        uow.commit()
    return built


def recording_service(seen: list[httpx.Request], *, status: int = 201) -> httpx.MockTransport:
    """A service that records a session as started now, with the role it knows, for 12 hours."""
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if status != 201:
            return httpx.Response(status, json={"detail": {"code": "error", "message": "no"}})
        start = contract.SessionStart.model_validate_json(request.content)
        record = contract.SessionRecord(session_id=start.session_id, user_id=start.user_id, device_id=start.device_id,
                                        role=contract.Role.ASSOCIATE, started_at=T0, expires_at=T0 + contract.SESSION_TTL,
                                        started_online=True)
        return httpx.Response(201, content=record.model_dump_json())
    return httpx.MockTransport(answer)


def link(device: Device, transport: httpx.MockTransport) -> None:
    """Wire the device to a service as start_sync does."""
    client = SyncClient(httpx.Client(base_url="http://service", transport=transport), store_id=STORE_ID)
    device.service.register_session = client.start_session


def test_a_badge_sign_in_with_the_service_answering_starts_a_twelve_hour_session(device: Device) -> None:
    seen: list[httpx.Request] = []
    link(device, recording_service(seen))
    shell = shell_view_model(device)
    shell.submit_badge("BADGE-0001")
    actor = shell.state.actor
    assert actor is not None and actor.started_online
    assert actor.expires_at == T0 + contract.SESSION_TTL
    assert contract.parse_session_id(actor.session_id) == (T0, True)
    [request] = seen
    assert (request.method, request.url.path) == ("POST", f"/v1/stores/{STORE_ID}/sessions")
    assert json.loads(request.content) == {"session_id": actor.session_id, "user_id": "u-assoc", "device_id": "hh-1",
                                           "started_at": T0.isoformat().replace("+00:00", "Z")}
    assert request.extensions["timeout"] == SIGN_IN_TIMEOUT.as_dict()


@pytest.mark.parametrize("failure", [
    httpx.ConnectError("connection refused"),
    httpx.ConnectTimeout("no answer to connect"),
    httpx.ReadTimeout("no answer"),
])
def test_a_sign_in_with_the_service_unreachable_starts_a_four_hour_session(device: Device, failure: Exception) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise failure

    link(device, httpx.MockTransport(unreachable))
    shell = shell_view_model(device)
    shell.submit_badge("BADGE-0001")
    actor = shell.state.actor
    assert actor is not None and not actor.started_online
    assert actor.expires_at == T0 + contract.OFFLINE_START_TTL
    assert contract.parse_session_id(actor.session_id) == (T0, False)


@pytest.mark.parametrize("status", [403, 500, 503])
def test_a_service_refusing_or_failing_the_registration_leaves_the_session_offline(device: Device, status: int) -> None:
    seen: list[httpx.Request] = []
    link(device, recording_service(seen, status=status))
    shell = shell_view_model(device)
    shell.submit_badge("BADGE-0001")
    assert len(seen) == 1
    assert shell.state.actor is not None and not shell.state.actor.started_online


def test_a_device_not_yet_wired_to_a_service_signs_in_offline_without_trying(device: Device) -> None:
    shell = shell_view_model(device)
    shell.submit_badge("BADGE-0001")
    assert shell.state.actor is not None and not shell.state.actor.started_online


def test_the_sign_in_timeout_is_about_a_second_in_all() -> None:
    phases = SIGN_IN_TIMEOUT.as_dict()
    assert phases["connect"] is not None and phases["write"] is not None and phases["read"] is not None
    assert phases["connect"] + phases["write"] + phases["read"] <= 1.1


def test_the_session_the_bus_checks_is_the_one_sign_in_recorded(device: Device) -> None:
    link(device, recording_service([]))
    shell = shell_view_model(device)
    shell.submit_badge("BADGE-0001")
    actor = shell.state.actor
    assert actor is not None
    clock = device.clock
    assert isinstance(clock, FakeClock)
    clock.advance((contract.OFFLINE_START_TTL + dt.timedelta(hours=1)).total_seconds())
    from app.services import people

    people.require_active(device.uow, actor, clock.now())  # online: 12 h, still open after 5
