"""Ops are authorised against the session that made them, even when they arrive days later."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import FastAPI

from edge_sync.contract import SCHEMA_VERSION, MasterData, Op, Role, UserRecord, session_id_for
from server_stub.masterdata import load_master_data
from tests.server.helpers import STORE, AsgiClient, Device


def _op(device: Device, session_id: str, at: dt.datetime, task_id: str) -> Op:
    device.seq += 1
    return Op(op_id=uuid.uuid4(), store_id=STORE, device_id=device.device_id, seq=device.seq, type="task.create",
              schema_version=SCHEMA_VERSION, user_id=device.user_id, session_id=session_id, occurred_at=at,
              payload={"task_id": task_id, "type": "count"})


def _start(client: AsgiClient, user: str, device_id: str) -> str:
    now = dt.datetime.now(dt.UTC)
    sid = session_id_for(now, online=True, token=uuid.uuid4().hex[:16])
    r = client.post(f"/v1/stores/{STORE}/sessions", json={"session_id": sid, "user_id": user, "device_id": device_id,
                                                            "started_at": now.isoformat()})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "manager" and r.json()["started_online"] is True
    return sid


def test_a_managers_op_made_in_an_online_session_is_applied_days_later_even_after_a_demotion(app: FastAPI, tablet: Device, client: AsgiClient) -> None:
    sid = _start(client, "U-MGR", tablet.device_id)
    made = dt.datetime.now(dt.UTC) + dt.timedelta(hours=11)
    load_master_data(app.state.services.engine, MasterData(store_id=STORE, users=[
        UserRecord(user_id="U-MGR", name="Mia", role=Role.ASSOCIATE)]))
    assert tablet.push(_op(tablet, sid, made, "T-LATE"))[0]["status"] == "applied"


def test_an_op_made_after_its_session_ended_is_rejected_with_the_reason(tablet: Device, client: AsgiClient) -> None:
    sid = _start(client, "U-MGR", tablet.device_id)
    made = dt.datetime.now(dt.UTC) + dt.timedelta(hours=12, minutes=1)
    result = tablet.push(_op(tablet, sid, made, "T-EXPIRED"))[0]
    assert result["status"] == "rejected"
    assert "had ended" in result["reason"] and "sign in again" in result["reason"]
    assert client.get(f"/v1/stores/{STORE}/tasks/T-EXPIRED").status_code == 404


def test_a_session_started_offline_records_ops_for_four_hours_only(tablet: Device) -> None:
    started = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=3)
    sid = session_id_for(started, online=False, token=uuid.uuid4().hex[:16])
    inside = tablet.push(_op(tablet, sid, started + dt.timedelta(hours=3, minutes=59), "T-IN"))[0]
    outside = tablet.push(_op(tablet, sid, started + dt.timedelta(hours=4, minutes=1), "T-OUT"))[0]
    assert inside["status"] == "applied"
    assert outside["status"] == "rejected" and "started offline" in outside["reason"]


def test_a_session_is_bound_to_its_user_and_device(tablet: Device, handheld: Device, client: AsgiClient) -> None:
    sid = _start(client, "U-MGR", tablet.device_id)
    result = handheld.push(_op(handheld, sid, dt.datetime.now(dt.UTC), "T-STOLEN"))[0]
    assert result["status"] == "rejected" and "U-MGR's on device TAB-1" in result["reason"]
