"""Physical facts are never refused: the movement is recorded and the conflict goes to a manager."""

from __future__ import annotations

from fastapi import FastAPI

from tests.server.helpers import STORE, AsgiClient, Device, balance, exceptions_of, gtin


def test_a_receipt_over_the_po_is_recorded_and_raised(handheld: Device, client: AsgiClient) -> None:
    receive = {"receipt_id": "R-1", "po_id": "PO-1", "asn_id": "ASN-1", "item_id": "I-1", "gtin": gtin(1), "qty": 8}
    assert handheld.send("receipt.receive", receive)["status"] == "applied"
    assert exceptions_of(client, "over_receipt") == []
    over = handheld.send("receipt.receive", {**receive, "qty": 7})
    assert over["status"] == "applied" and over["result"]["received_qty"] == 15
    [ex] = exceptions_of(client, "over_receipt")
    assert ex["device_id"] == "HH-1" and ex["user_id"] == "U-ASSOC" and ex["details"]["expected_qty"] == 10
    handheld.send("receipt.receive", {**receive, "qty": 1})
    assert len(exceptions_of(client, "over_receipt")) == 1  # raised once per receipt line


def test_an_approved_over_receipt_raises_nothing(handheld: Device, client: AsgiClient) -> None:
    receive = {"receipt_id": "R-2", "po_id": "PO-1", "item_id": "I-2", "gtin": gtin(2), "qty": 9, "approved_by": "U-MGR"}
    assert handheld.send("receipt.receive", receive)["status"] == "applied"
    assert exceptions_of(client, "over_receipt") == []


def test_an_unknown_gtin_received_is_recorded_and_raised(handheld: Device, client: AsgiClient) -> None:
    result = handheld.send("receipt.receive", {"receipt_id": "R-3", "po_id": "PO-1", "gtin": gtin(999), "qty": 2})
    assert result["status"] == "applied" and result["result"]["item_id"] is None
    [ex] = exceptions_of(client, "unknown_item")
    assert ex["details"]["gtin"] == gtin(999)


def test_closing_a_receipt_posts_stock_to_the_dock_and_reports_discrepancies(handheld: Device, client: AsgiClient) -> None:
    lines = [
        {"item_id": "I-1", "gtin": gtin(1), "expected_qty": 10, "received_qty": 10, "damaged_qty": 2},
        {"item_id": "I-2", "gtin": gtin(2), "expected_qty": 4, "received_qty": 3, "damaged_qty": 0},
    ]
    close = {"receipt_id": "R-4", "po_id": "PO-1", "asn_id": "ASN-1", "dock_location_id": "DOCK", "lines": lines}
    result = handheld.send("receipt.close", close)
    assert result["status"] == "applied"
    assert balance(client, "I-1", "DOCK", "received") == 8
    assert balance(client, "I-1", "DOCK", "damaged") == 2
    assert balance(client, "I-2", "DOCK", "received") == 3
    [ex] = exceptions_of(client, "receipt_discrepancy")
    assert ex["details"]["lines"] == [{"item": "I-2", "expected_qty": 4, "received_qty": 3}]
    events = client.get(f"/v1/stores/{STORE}/erp/events").json()["events"]
    assert [e["type"] for e in events] == ["goods_received", "receipt_discrepancy"]
    # A second close of the same receipt (another device) posts nothing more.
    again = Device(client, STORE, "HH-2", "U-ASSOC2").send("receipt.close", {**close})
    assert again["status"] == "applied" and again["result"]["posted"] is False
    assert balance(client, "I-1", "DOCK", "received") == 8
    assert len(exceptions_of(client, "receipt_closed_twice")) == 1


def test_a_putaway_to_a_full_location_is_recorded_and_raised(handheld: Device, client: AsgiClient) -> None:
    first = handheld.send("putaway.confirm", {"item_id": "I-1", "qty": 4, "from_location_id": "DOCK", "to_location_id": "TINY"})
    assert first["status"] == "applied" and "exception_ids" not in first["result"]
    second = handheld.send("putaway.confirm", {"item_id": "I-1", "qty": 3, "from_location_id": "DOCK", "to_location_id": "TINY"})
    assert second["status"] == "applied"
    assert balance(client, "I-1", "TINY") == 7
    [ex] = exceptions_of(client, "location_full")
    assert ex["exception_id"] in second["result"]["exception_ids"]
    assert ex["details"]["occupancy"] == 4 and ex["details"]["capacity"] == 5


def test_a_second_pick_of_an_order_line_by_another_device_is_recorded_and_raised(
    handheld: Device, handheld2: Device, client: AsgiClient
) -> None:
    pick = {"task_id": "T-P", "order_id": "ORD-1", "line_id": "1", "item_id": "I-3", "location_id": "A-01", "qty": 2}
    assert handheld.send("pick.confirm", pick)["status"] == "applied"
    assert exceptions_of(client, "double_pick") == []
    second = handheld2.send("pick.confirm", pick)
    assert second["status"] == "applied"
    assert balance(client, "I-3", "A-01") == 6 and balance(client, "I-3", "A-01", "picked") == 4
    [ex] = exceptions_of(client, "double_pick")
    assert ex["device_id"] == "HH-2" and ex["details"]["earlier_device_id"] == "HH-1"


def test_a_short_pick_and_staging_reach_the_manager_and_the_erp(handheld: Device, client: AsgiClient, app: FastAPI) -> None:
    handheld.send("pick.confirm", {"task_id": "T-P", "order_id": "ORD-1", "line_id": "1", "item_id": "I-3", "location_id": "A-01", "qty": 2})
    short = handheld.send("pick.short", {"task_id": "T-P", "order_id": "ORD-1", "line_id": "2", "item_id": "I-4", "short_qty": 1, "reason": "empty shelf"})
    assert short["status"] == "applied"
    assert len(exceptions_of(client, "pick_short")) == 1
    staged = handheld.send("order.stage", {"order_id": "ORD-1", "staging_location_id": "STAGE",
                                           "lines": [{"item_id": "I-3", "from_location_id": "A-01", "qty": 2}]})
    assert staged["status"] == "applied"
    assert balance(client, "I-3", "STAGE", "staged") == 2 and balance(client, "I-3", "A-01", "picked") == 0
    types = [e["type"] for e in client.get(f"/v1/stores/{STORE}/erp/events").json()["events"]]
    assert types == ["pick_confirmed", "pick_short", "order_staged"]
    orders = [c for c in client.get(f"/v1/stores/{STORE}/changes", params={"limit": 5000}).json()["changes"] if c["kind"] == "order"]
    assert orders[-1]["data"]["status"] == "staged"


def test_staging_an_order_finishes_its_pick_task(handheld: Device, client: AsgiClient) -> None:
    mgr = {"X-User-Id": "U-MGR"}
    created = client.post(f"/v1/stores/{STORE}/tasks", json={"task_id": "T-P", "type": "pick", "ref_id": "ORD-1"},
                          headers=mgr)
    assert created.status_code == 201, created.text
    handheld.send("pick.confirm", {"task_id": "T-P", "order_id": "ORD-1", "line_id": "1", "item_id": "I-3",
                                   "location_id": "A-01", "qty": 2})
    staged = handheld.send("order.stage", {"task_id": "T-P", "order_id": "ORD-1", "staging_location_id": "STAGE",
                                           "lines": [{"item_id": "I-3", "from_location_id": "A-01", "qty": 2}]})
    assert staged["status"] == "applied" and "exception_ids" not in staged["result"]
    assert client.get(f"/v1/stores/{STORE}/tasks/T-P", headers=mgr).json()["status"] == "done"
