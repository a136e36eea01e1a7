"""A batch's ops share their session's lookups, but each op's time is still judged on its own."""

from __future__ import annotations

import datetime as dt
import uuid

from edge_sync.contract import SCHEMA_VERSION, Op, OpType, session_id_for
from tests.server.helpers import STORE, Device


def _op(device: Device, session_id: str, at: dt.datetime, task_id: str) -> Op:
    device.seq += 1
    return Op(op_id=uuid.uuid4(), store_id=STORE, device_id=device.device_id, seq=device.seq, type=OpType.TASK_CREATE,
              schema_version=SCHEMA_VERSION, user_id=device.user_id, session_id=session_id, occurred_at=at,
              payload={"task_id": task_id, "type": "count"})


def test_one_batch_in_one_offline_session_is_judged_op_by_op_against_its_window(tablet: Device) -> None:
    started = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2)
    sid = session_id_for(started, online=False, token=uuid.uuid4().hex[:16])
    results = tablet.push(
        _op(tablet, sid, started + dt.timedelta(minutes=5), "T-B1"),
        _op(tablet, sid, started + dt.timedelta(hours=4, minutes=1), "T-B2"),
        _op(tablet, sid, started - dt.timedelta(hours=1), "T-B3"),
        _op(tablet, sid, started + dt.timedelta(hours=3), "T-B4"),
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "applied"]
    assert "had ended" in results[1]["reason"]
    assert "before its session started" in results[2]["reason"]


def test_a_session_named_by_another_user_in_the_same_batch_is_refused_for_that_op_only(tablet: Device) -> None:
    started = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    sid = session_id_for(started, online=False, token=uuid.uuid4().hex[:16])
    mine = _op(tablet, sid, started + dt.timedelta(minutes=1), "T-U1")
    other = _op(tablet, sid, started + dt.timedelta(minutes=2), "T-U2").model_copy(update={"user_id": "U-ASSOC"})
    again = _op(tablet, sid, started + dt.timedelta(minutes=3), "T-U3")
    results = tablet.push(mine, other, again)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert f"{tablet.user_id}'s on device {tablet.device_id}" in results[1]["reason"]
