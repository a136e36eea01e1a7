"""Reads are judged by the table of reads (authz.READS): the device sync needs only the verified device;
store-wide supervision data needs a manager's open session on that device."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi import FastAPI

from edge_sync.contract import session_id_for
from server_stub import authz
from tests.server.helpers import STORE, AsgiClient, Device, start_session
from tests.support.devices import approved_device

SUPERVISION = [path for path, action in authz.READS.items() if action is authz.Action.SUPERVISION_READ]
DEVICE_ONLY = [path for path, action in authz.READS.items() if action is None]


def url(path: str) -> str:
    """A concrete URL for a route template (ids that need not exist: the gate runs first)."""
    return path.format(store_id=STORE, op_id=uuid.uuid4(), task_id="T-NONE", exception_id="EX-NONE")


@pytest.fixture
def reader(app: FastAPI) -> AsgiClient:
    """A client signed as TAB-1 that presents no session unless told."""
    with AsgiClient(app, approved_device(app.state.services.engine, STORE, "TAB-1")) as c:
        yield c


def test_every_store_read_is_in_the_table_of_reads(app: FastAPI) -> None:
    gets = {path for path, methods in app.openapi()["paths"].items() if "get" in methods and path.startswith("/v1/stores/")}
    assert gets == set(authz.READS)
    assert {"/v1/stores/{store_id}/exceptions", "/v1/stores/{store_id}/approvals", "/v1/stores/{store_id}/devices",
            "/v1/stores/{store_id}/figures", "/v1/stores/{store_id}/erp/events"} <= set(SUPERVISION)
    assert {"/v1/stores/{store_id}/changes", "/v1/stores/{store_id}/ops/{op_id}"} <= set(DEVICE_ONLY)


@pytest.mark.parametrize("path", SUPERVISION)
def test_a_supervision_read_naming_no_session_is_refused(reader: AsgiClient, path: str) -> None:
    response = reader.get(url(path), headers={"X-User-Id": "U-MGR"})
    assert response.status_code == 401, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "session_required" and "X-Session-Id" in detail["message"]


@pytest.mark.parametrize("path", SUPERVISION)
def test_a_supervision_read_with_an_associates_session_is_forbidden(reader: AsgiClient, path: str) -> None:
    response = reader.get(url(path), headers=start_session(reader, "U-ASSOC", "TAB-1"))
    assert response.status_code == 403, response.text
    assert "supervision.read needs a manager or admin; U-ASSOC is associate" in response.json()["detail"]["message"]


@pytest.mark.parametrize("path", SUPERVISION)
def test_a_supervision_read_with_a_managers_session_is_answered(reader: AsgiClient, path: str) -> None:
    response = reader.get(url(path), headers=start_session(reader, "U-MGR", "TAB-1"))
    assert response.status_code in (200, 404), response.text  # 404: the one exception asked for does not exist


@pytest.mark.parametrize("path", DEVICE_ONLY)
def test_the_device_syncs_reads_need_only_the_device(reader: AsgiClient, path: str) -> None:
    assert reader.get(url(path)).status_code in (200, 404)


def test_a_managers_session_on_another_device_does_not_open_reads_on_this_one(app: FastAPI, reader: AsgiClient) -> None:
    handheld = approved_device(app.state.services.engine, STORE, "HH-1")
    headers = start_session(reader, "U-MGR", "HH-1", auth=handheld)
    refused = reader.get(f"/v1/stores/{STORE}/exceptions", headers=headers)
    assert refused.status_code == 401 and "not U-MGR's on this device" in refused.json()["detail"]["message"]
    assert reader.get(f"/v1/stores/{STORE}/exceptions", headers=headers, auth=handheld).status_code == 200


def test_another_users_session_id_does_not_open_reads(reader: AsgiClient) -> None:
    headers = {**start_session(reader, "U-ASSOC", "TAB-1"), "X-User-Id": "U-MGR"}
    assert reader.get(f"/v1/stores/{STORE}/approvals", headers=headers).status_code == 401


def test_a_session_started_offline_reads_for_four_hours_from_its_start(reader: AsgiClient) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    fresh = session_id_for(now - dt.timedelta(hours=1), online=False, token=uuid.uuid4().hex[:16])
    stale = session_id_for(now - dt.timedelta(hours=4, minutes=1), online=False, token=uuid.uuid4().hex[:16])
    path = f"/v1/stores/{STORE}/devices"
    assert reader.get(path, headers={"X-User-Id": "U-MGR", "X-Session-Id": fresh}).status_code == 200
    ended = reader.get(path, headers={"X-User-Id": "U-MGR", "X-Session-Id": stale})
    assert ended.status_code == 401 and "is not open now" in ended.json()["detail"]["message"]


def test_a_made_up_online_session_is_refused(reader: AsgiClient) -> None:
    made_up = session_id_for(dt.datetime.now(dt.UTC), online=True, token="0123456789abcdef")
    response = reader.get(f"/v1/stores/{STORE}/figures", headers={"X-User-Id": "U-MGR", "X-Session-Id": made_up})
    assert response.status_code == 401 and "never recorded" in response.json()["detail"]["message"]


def test_a_session_of_the_older_form_does_not_open_reads(reader: AsgiClient, tablet: Device) -> None:
    response = reader.get(f"/v1/stores/{STORE}/exceptions", headers={"X-User-Id": "U-MGR", "X-Session-Id": "sess-1"})
    assert response.status_code == 401


def test_relaxing_a_read_is_one_entry_of_the_table(reader: AsgiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    path = "/v1/stores/{store_id}/devices"
    monkeypatch.setitem(authz.READS, path, None)
    assert reader.get(url(path)).status_code == 200


# Writes that act for a named person are judged by the same sessions (readers.session_actor).


def _approval(app: FastAPI) -> str:
    device = Device(AsgiClient(app), STORE, "HH-1", "U-ASSOC")
    with device.client:
        now = dt.datetime.now(dt.UTC)
        result = device.send("count.record", {
            "count_id": "C-W", "location_id": "A-01", "item_id": "I-5", "counted_qty": 2,
            "started_at": (now - dt.timedelta(minutes=2)).isoformat(), "counted_at": (now - dt.timedelta(minutes=1)).isoformat()})
    assert result["result"].get("outcome") == "pending_approval", result
    approval_id: str = result["result"]["approval_id"]
    return approval_id


def _status(reader: AsgiClient, approval_id: str) -> str:
    rows = reader.get(f"/v1/stores/{STORE}/approvals", params={"status": "pending"},
                      headers=start_session(reader, "U-MGR", "TAB-1")).json()
    return "pending" if approval_id in {r["approval_id"] for r in rows} else "decided"


def test_approving_a_count_naming_the_manager_without_a_session_is_refused(app: FastAPI, reader: AsgiClient) -> None:
    approval_id = _approval(app)
    reader.sessions_for_writes = False
    for headers in ({"X-User-Id": "U-MGR"}, {"X-User-Id": "U-MGR", "X-Session-Id": "s-20250303T090000Z-n-0123456789abcdef"}):
        response = reader.post(f"/v1/stores/{STORE}/approvals/{approval_id}/approve", json={"note": "ok"}, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["detail"]["code"] == "session_required"
    assert _status(reader, approval_id) == "pending"


def test_approving_a_count_with_an_associates_session_is_forbidden_and_with_the_managers_it_posts(
        app: FastAPI, reader: AsgiClient) -> None:
    approval_id = _approval(app)
    path = f"/v1/stores/{STORE}/approvals/{approval_id}/approve"
    refused = reader.post(path, json={"note": "ok"}, headers=start_session(reader, "U-ASSOC", "TAB-1"))
    assert refused.status_code == 403 and "count.approve" in refused.json()["detail"]["message"], refused.text
    assert _status(reader, approval_id) == "pending"
    done = reader.post(path, json={"note": "ok"}, headers=start_session(reader, "U-MGR", "TAB-1"))
    assert done.status_code == 200 and done.json()["decided_by"] == "U-MGR", done.text
    assert _status(reader, approval_id) == "decided"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/exceptions/EX-NONE/resolve", {"note": "x"}),
    ("POST", "/approvals/A-NONE/reject", {"note": "x"}),
    ("POST", "/tasks", {"task_id": "T-W", "type": "count"}),
    ("PATCH", "/tasks/T-NONE", {"priority": 2}),
    ("POST", "/tasks/T-NONE/cancel", {"reason": "x"}),
    ("POST", "/tasks/T-NONE/claim", {}),
    ("POST", "/enrolments/HH-9/approve", None),
    ("POST", "/enrolments/HH-9/revoke", None),
])
def test_every_write_acting_for_a_person_needs_their_session(
        reader: AsgiClient, method: str, path: str, body: dict[str, str] | None) -> None:
    reader.sessions_for_writes = False
    response = reader.request(method, f"/v1/stores/{STORE}{path}", json=body, headers={"X-User-Id": "U-MGR"})
    assert response.status_code == 401, response.text
    assert response.json()["detail"]["code"] == "session_required"
