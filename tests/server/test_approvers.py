"""An op naming an approver posts only when that person may approve: a manager or admin of the store
when the op was made. An associate naming themself or anyone else who may not approve gets the op
rejected with the reason, and nothing of it is applied."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from edge_sync.contract import PAYLOADS, MasterData, OpType, Role, UserRecord, session_id_for
from server_stub import authz
from server_stub.masterdata import load_master_data
from tests.server.helpers import STORE, AsgiClient, Device, gtin

COUNTED_TABLES = ("ledger", "balances", "count_reviews", "exceptions", "erp_events", "receipt_lines", "receipts")


def snapshot(app: FastAPI) -> dict[str, int]:
    """Row counts of the tables an applied count or receipt writes to."""
    with app.state.services.engine.connect() as conn:
        return {name: conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one() for name in COUNTED_TABLES}


def big_variance(approved_by: str | None, *, count_id: str = "C-AP") -> dict[str, Any]:
    """A count of I-5 at A-01 finding 2 where 20 are on record: far past the tolerance."""
    now = dt.datetime.now(dt.UTC)
    payload: dict[str, Any] = {
        "count_id": count_id, "location_id": "A-01", "item_id": "I-5", "counted_qty": 2,
        "started_at": (now - dt.timedelta(minutes=2)).isoformat(), "counted_at": (now - dt.timedelta(minutes=1)).isoformat(),
    }
    if approved_by is not None:
        payload["approved_by"] = approved_by
    return payload


def over_receipt(approved_by: str) -> dict[str, Any]:
    """12 of I-2 received against the 4 on PO-1."""
    return {"receipt_id": "R-AP", "po_id": "PO-1", "item_id": "I-2", "gtin": gtin(2), "qty": 12, "approved_by": approved_by}


@pytest.mark.parametrize(("approver", "words"), [
    ("U-ASSOC", "approved_by names U-ASSOC themself, who is associate in store S-100"),
    ("U-ASSOC2", "approved_by names U-ASSOC2, who is associate in store S-100"),
    ("U-NOBODY", "approved_by names U-NOBODY, who is not known in store S-100"),
])
def test_a_count_variance_approved_by_someone_who_is_no_manager_is_rejected_and_posts_nothing(
    app: FastAPI, handheld: Device, approver: str, words: str,
) -> None:
    before = snapshot(app)
    result = handheld.send("count.record", big_variance(approver))
    assert result["status"] == "rejected"
    assert result["reason"].startswith(words)
    assert "count.approve needs a manager or admin" in result["reason"] and "Nothing was posted" in result["reason"]
    assert snapshot(app) == before


def test_a_count_variance_approved_by_a_manager_posts(app: FastAPI, handheld: Device) -> None:
    result = handheld.send("count.record", big_variance("U-MGR"))
    assert (result["status"], result["result"]["outcome"], result["result"]["adjustment"]) == ("applied", "posted", -18)


def test_a_count_variance_with_no_approver_still_waits_for_a_manager(handheld: Device) -> None:
    result = handheld.send("count.record", big_variance(None))
    assert (result["status"], result["result"]["outcome"]) == ("applied", "pending_approval")


def test_an_over_receipt_approved_by_an_associate_is_rejected_and_records_nothing(app: FastAPI, handheld: Device) -> None:
    before = snapshot(app)
    result = handheld.send("receipt.receive", over_receipt("U-ASSOC2"))
    assert result["status"] == "rejected"
    assert "receipt.approve_over needs a manager or admin" in result["reason"]
    assert snapshot(app) == before
    # Sent again without the approval, the units are recorded and the over-receipt goes to a manager.
    plain = {k: v for k, v in over_receipt("U-ASSOC2").items() if k != "approved_by"}
    assert handheld.send("receipt.receive", plain)["status"] == "applied"
    with app.state.services.engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT kind FROM exceptions")).scalars().all()
    assert kinds == ["over_receipt"]


def test_an_over_receipt_approved_by_a_manager_is_recorded(handheld: Device) -> None:
    result = handheld.send("receipt.receive", over_receipt("U-MGR"))
    assert result["status"] == "applied" and result["result"]["approved_by"] == "U-MGR"


def _start_online(client: AsgiClient, user: str, device_id: str) -> str:
    now = dt.datetime.now(dt.UTC)
    sid = session_id_for(now, online=True, token=uuid.uuid4().hex[:16])
    response = client.post(f"/v1/stores/{STORE}/sessions",
                           json={"session_id": sid, "user_id": user, "device_id": device_id, "started_at": now.isoformat()})
    assert response.status_code == 201, response.text
    return sid


def test_the_approvers_role_is_the_one_they_had_when_the_op_was_made(app: FastAPI, client: AsgiClient, handheld: Device) -> None:
    # Mia signs in as a manager on her tablet; by the time the count arrives she is an associate.
    _start_online(client, "U-MGR", "TAB-1")
    load_master_data(app.state.services.engine, MasterData(store_id=STORE, users=[
        UserRecord(user_id="U-MGR", name="Mia", role=Role.ASSOCIATE),
        UserRecord(user_id="U-ASSOC2", name="Ben", role=Role.MANAGER),
    ]))
    assert handheld.send("count.record", big_variance("U-MGR"))["result"]["outcome"] == "posted"


def test_an_approver_who_was_an_associate_then_may_not_approve_after_a_promotion(app: FastAPI, handheld: Device) -> None:
    # Ben was an associate in a session open when the count was made; promoted since, that count
    # still carries an associate's approval.
    made = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    ben = Device(handheld.client, STORE, "HH-2", "U-ASSOC2")
    started = made.replace(microsecond=0) - dt.timedelta(minutes=30)
    ben_session = session_id_for(started, online=False, token=uuid.uuid4().hex[:16])
    exact = {**big_variance(None, count_id="C-BEN"), "item_id": "I-3", "counted_qty": 10}
    op = ben.op("count.record", exact, at=made)
    assert ben.push(op.model_copy(update={"session_id": ben_session}))[0]["status"] == "applied"
    load_master_data(app.state.services.engine, MasterData(store_id=STORE, users=[
        UserRecord(user_id="U-ASSOC2", name="Ben", role=Role.MANAGER)]))
    result = handheld.send("count.record", big_variance("U-ASSOC2"))
    assert result["status"] == "rejected" and "U-ASSOC2, who is associate" in result["reason"]


def test_every_payload_field_naming_an_approver_is_in_the_authorisation_table() -> None:
    named = {(op_type, field) for op_type, model in PAYLOADS.items() for field in model.model_fields
             if "approv" in field or field.endswith("_by")}
    listed = {(op_type, field) for op_type, fields in authz.APPROVER_FIELDS.items() for field in fields}
    assert named == listed
    assert all(op_type in OpType for op_type, _ in listed)
