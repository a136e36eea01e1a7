"""Op ingest: exactly once in effect, in seq order, refusals that never block the queue."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from server_stub import tables as t
from server_stub.ledger import verify_balances
from tests.server.helpers import STORE, AsgiClient, Device, LiveServer, balance
from tests.support.devices import approved_device

PUTAWAY = "putaway.confirm"


def putaway(qty: int = 3, item: str = "I-1", to: str = "A-01") -> dict[str, Any]:
    return {"item_id": item, "qty": qty, "from_location_id": "DOCK", "to_location_id": to}


def ledger_rows(app: FastAPI, op_id: uuid.UUID) -> int:
    with app.state.services.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(t.ledger.c.op_id == op_id)).scalar_one())


def test_an_op_is_applied_and_its_effect_is_in_the_ledger(handheld: Device, client: AsgiClient, app: FastAPI) -> None:
    result = handheld.send(PUTAWAY, putaway(3))
    assert result["status"] == "applied"
    assert balance(client, "I-1", "A-01") == 3
    assert balance(client, "I-1", "DOCK", "received") == -3
    with app.state.services.engine.connect() as conn:
        assert verify_balances(conn, STORE) == []


def test_the_same_op_again_returns_the_stored_result_and_changes_nothing(handheld: Device, client: AsgiClient, app: FastAPI) -> None:
    op = handheld.op(PUTAWAY, putaway(3, to="TINY"))
    first = handheld.push(op)[0]
    again = handheld.push(op)[0]
    assert first["status"] == "applied" and again["status"] == "duplicate"
    assert again["result"] == first["result"]
    assert ledger_rows(app, op.op_id) == 2
    assert balance(client, "I-1", "TINY") == 3


def test_the_same_op_id_with_another_payload_is_refused_with_422(handheld: Device, client: AsgiClient) -> None:
    op = handheld.op(PUTAWAY, putaway(3))
    assert client.put(f"/v1/stores/{STORE}/ops/{op.op_id}", json=op.model_dump(mode="json"),
                      auth=handheld.auth).json()["status"] == "applied"
    forged = op.model_copy(update={"payload": putaway(30)})
    response = client.put(f"/v1/stores/{STORE}/ops/{op.op_id}", json=forged.model_dump(mode="json"), auth=handheld.auth)
    assert response.status_code == 422
    assert response.json()["detail"]["message"] == "op_id reused with a different payload"
    in_batch = handheld.push(forged)[0]
    assert in_batch["status"] == "rejected" and in_batch["reason"] == "op_id reused with a different payload"
    assert balance(client, "I-1", "A-01") == 3


def test_an_op_id_reused_under_the_next_seq_is_refused_and_the_rest_of_the_batch_applies(
    handheld: Device, app: FastAPI
) -> None:
    first = handheld.op(PUTAWAY, putaway(3))
    assert handheld.push(first)[0]["status"] == "applied"
    forged = first.model_copy(update={"seq": 2, "payload": putaway(30)})
    handheld.seq = 1
    second = handheld.op(PUTAWAY, putaway(4))
    answers = handheld.push(forged, second)
    assert [a["status"] for a in answers] == ["rejected", "applied"]
    assert answers[0]["reason"] == "op_id reused with a different payload"
    assert ledger_rows(app, first.op_id) == 2 and ledger_rows(app, second.op_id) == 2


def test_an_op_after_a_gap_is_refused_until_the_gap_is_filled(handheld: Device, client: AsgiClient) -> None:
    first, second, third = (handheld.op(PUTAWAY, putaway(1)) for _ in range(3))
    assert handheld.push(first)[0]["status"] == "applied"
    refused = handheld.push(third)[0]
    assert refused["status"] == "out_of_order" and refused["expected_seq"] == 2
    assert balance(client, "I-1", "A-01") == 1
    results = handheld.push(second, third)
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert balance(client, "I-1", "A-01") == 3


def test_a_rejected_op_is_stored_does_not_block_the_queue_and_stays_rejected(handheld: Device, client: AsgiClient) -> None:
    bad = handheld.op(PUTAWAY, putaway(2, item="NO-SUCH-ITEM"))
    invalid = handheld.op(PUTAWAY, {"item_id": "I-1", "qty": -4})
    good = handheld.op(PUTAWAY, putaway(2))
    results = handheld.push(bad, invalid, good)
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert "NO-SUCH-ITEM" in results[0]["reason"] and "item master" in results[0]["reason"]
    assert results[1]["reason"].startswith("invalid payload")
    again = handheld.push(bad)[0]
    assert again["status"] == "rejected" and again["reason"] == results[0]["reason"]
    assert balance(client, "I-1", "A-01") == 2


def test_a_push_to_another_store_is_refused_as_a_whole(handheld: Device, client: AsgiClient) -> None:
    op = handheld.op(PUTAWAY, putaway(1))
    response = client.post("/v1/stores/OTHER/ops", json={"ops": [op.model_dump(mode="json")]}, auth=handheld.auth)
    # A device enrolled in S-100 may not act for another store: refused before the ops are read.
    assert response.status_code == 403 and response.json()["detail"]["code"] == "device_other_store"
    assert "S-100" in response.json()["detail"]["message"]
    assert handheld.push(op)[0]["status"] == "applied"


def test_an_op_from_a_user_the_store_does_not_know_is_rejected(handheld: Device) -> None:
    result = handheld.send(PUTAWAY, putaway(1), user_id="U-NOBODY")
    assert result["status"] == "rejected" and "U-NOBODY" in result["reason"]


def test_an_associate_cannot_send_manager_ops(handheld: Device) -> None:
    result = handheld.send("task.create", {"task_id": "T-X", "type": "count"})
    assert result["status"] == "rejected" and "manager" in result["reason"]


def test_eight_concurrent_posts_of_one_op_give_one_ledger_row_pair(app: FastAPI, live_server: LiveServer) -> None:
    device = Device(None, STORE, "HH-C", "U-ASSOC")  # type: ignore[arg-type]
    signer = approved_device(app.state.services.engine, STORE, "HH-C")
    op = device.op(PUTAWAY, putaway(5, item="I-2", to="A-02"))
    body = {"ops": [op.model_dump(mode="json")]}
    barrier = threading.Barrier(8)
    answers: list[str] = []

    def post() -> None:
        with httpx.Client(base_url=live_server.url, timeout=30, auth=signer) as c:
            barrier.wait()
            response = c.post(f"/v1/stores/{STORE}/ops", json=body)
            answers.append(response.json()["results"][0]["status"])

    threads = [threading.Thread(target=post) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(answers) == ["applied"] + ["duplicate"] * 7
    assert ledger_rows(app, op.op_id) == 2
    with app.state.services.engine.connect() as conn:
        assert conn.execute(
            sa.select(t.balances.c.qty).where(t.balances.c.item_id == "I-2", t.balances.c.location_id == "A-02")
        ).scalar_one() == 5


def test_a_device_status_is_recorded_with_each_push(handheld: Device, client: AsgiClient) -> None:
    handheld.push(handheld.op(PUTAWAY, putaway(1)), status={"pending": 4, "parked": 1, "app_version": "1.2.3",
                                                          "oldest_pending_at": "2025-03-03T09:00:00Z"})
    devices = client.get(f"/v1/stores/{STORE}/devices").json()
    board = {d["device_id"]: d for d in devices}
    assert board["HH-1"]["last_seq"] == 1 and board["HH-1"]["pending"] == 4 and board["HH-1"]["app_version"] == "1.2.3"
    assert board["HH-1"]["lag_seconds"] is not None


def test_a_push_body_that_is_not_a_valid_batch_is_refused_with_422_naming_the_field(client: AsgiClient) -> None:
    not_json = client.post(f"/v1/stores/{STORE}/ops", content=b"{not json", headers={"content-type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["detail"][0]["loc"][0] == "body"
    no_seq = client.post(f"/v1/stores/{STORE}/ops", json={"ops": [{"op_id": str(uuid.uuid4()), "store_id": STORE}]})
    assert no_seq.status_code == 422
    assert ["body", "ops", 0, "seq"] in [err["loc"] for err in no_seq.json()["detail"]]


def test_the_push_body_is_documented(client: AsgiClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/stores/{store_id}/ops"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PushRequest"}
    assert "ops" in spec["components"]["schemas"]["PushRequest"]["properties"]


def test_ops_of_another_device_than_the_signer_are_refused_whole_and_nothing_changes(
        handheld: Device, handheld2: Device, client: AsgiClient) -> None:
    own = handheld.op(PUTAWAY, putaway(1))
    foreign = handheld2.op(PUTAWAY, putaway(2))
    before = client.get(f"/v1/stores/{STORE}/devices").json()
    for ops in ([foreign], [own, foreign]):
        response = client.post(f"/v1/stores/{STORE}/ops", json={"ops": [o.model_dump(mode="json") for o in ops]},
                               auth=handheld.auth)
        assert response.status_code == 403, response.text
        detail = response.json()["detail"]
        assert detail["code"] == "device_mismatch"
        assert "HH-2" in detail["message"] and "signed by device HH-1" in detail["message"]
    single = client.put(f"/v1/stores/{STORE}/ops/{foreign.op_id}", json=foreign.model_dump(mode="json"), auth=handheld.auth)
    assert single.status_code == 403 and single.json()["detail"]["code"] == "device_mismatch"
    for op in (own, foreign):
        assert client.get(f"/v1/stores/{STORE}/ops/{op.op_id}").status_code == 404
    assert client.get(f"/v1/stores/{STORE}/devices").json() == before
    # The device's own op, pushed by its own signature, goes through.
    assert handheld.push(own)[0]["status"] == "applied"
