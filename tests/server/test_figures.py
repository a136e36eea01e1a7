"""Store figures and stock waiting on the dock, computed from the ledger and the ops (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from server_stub.figures import weighted_percentile
from tests.server.helpers import STORE, AsgiClient, Device, gtin

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
BASE = f"/v1/stores/{STORE}"


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def close_receipt(device: Device) -> None:
    lines = [
        {"item_id": "I-1", "gtin": gtin(1), "expected_qty": 10, "received_qty": 10, "damaged_qty": 0},
        {"item_id": "I-2", "gtin": gtin(2), "expected_qty": 4, "received_qty": 4, "damaged_qty": 0},
    ]
    result = device.send("receipt.close", {"receipt_id": "R-1", "po_id": "PO-1", "asn_id": "ASN-1",
                                           "dock_location_id": "DOCK", "lines": lines}, at=T0)
    assert result["status"] == "applied", result


def putaway(device: Device, qty: int, at: dt.datetime, item: str = "I-1") -> None:
    result = device.send("putaway.confirm", {"item_id": item, "qty": qty, "from_location_id": "DOCK",
                                             "to_location_id": "A-02"}, at=at)
    assert result["status"] == "applied", result


def count(device: Device, count_id: str, item: str, location: str, qty: int, at: dt.datetime) -> dict[str, Any]:
    result: dict[str, Any] = device.send("count.record", {
        "count_id": count_id, "location_id": location, "item_id": item, "counted_qty": qty,
        "started_at": (at - dt.timedelta(minutes=1)).isoformat(), "counted_at": at.isoformat()}, at=at)
    assert result["status"] == "applied", result
    return result


def figures(client: AsgiClient, until: dt.datetime, hours: float = 24) -> dict[str, Any]:
    response = client.get(f"{BASE}/figures", params={"until": until.isoformat(), "hours": hours})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_receive_to_putaway_matches_each_unit_put_away_to_its_receipt_first_in_first_out(
    handheld: Device, client: AsgiClient
) -> None:
    close_receipt(handheld)
    putaway(handheld, 4, minutes(10))
    putaway(handheld, 4, minutes(120))
    body = figures(client, minutes(180))
    assert body["putaway_units"] == 8
    assert body["putaway_median_minutes"] == 10.0 and body["putaway_p90_minutes"] == 120.0
    assert {b["label"]: b["units"] for b in body["putaway_buckets"]} == {
        "< 15 min": 4, "15-60 min": 0, "1-4 h": 4, "4-24 h": 0, "> 24 h": 0}
    assert body["waiting_units"] == 6  # 2 of I-1 and 4 of I-2 still on the dock
    # A window that ends before the second putaway sees only the first.
    assert figures(client, minutes(60))["putaway_units"] == 4


def test_stock_received_but_not_put_away_past_the_threshold_is_listed_oldest_first(
    handheld: Device, client: AsgiClient
) -> None:
    close_receipt(handheld)
    putaway(handheld, 8, minutes(5))
    listed = client.get(f"{BASE}/putaway-waiting", params={"at": minutes(90).isoformat()}).json()
    assert [(r["item_id"], r["location_id"], r["qty"], r["age_minutes"]) for r in listed] == [
        ("I-1", "DOCK", 2, 90.0), ("I-2", "DOCK", 4, 90.0)]
    # The threshold is a parameter: at 30 minutes old, nothing is late for a 60-minute threshold...
    assert client.get(f"{BASE}/putaway-waiting", params={"at": minutes(30).isoformat()}).json() == []
    # ...but it is for a 20-minute one.
    late = client.get(f"{BASE}/putaway-waiting", params={"at": minutes(30).isoformat(), "older_than_minutes": 20})
    assert [r["qty"] for r in late.json()] == [2, 4]
    refused = client.get(f"{BASE}/putaway-waiting", params={"at": "2025-03-03T10:00:00"})
    assert refused.status_code == 422 and "timezone" in refused.text


def test_count_accuracy_is_the_share_of_counts_that_found_exactly_the_balance(
    handheld: Device, client: AsgiClient
) -> None:
    assert count(handheld, "C-1", "I-5", "A-01", 20, minutes(10))["result"]["adjustment"] == 0
    assert count(handheld, "C-2", "I-3", "A-01", 11, minutes(20))["result"]["outcome"] == "posted"
    assert count(handheld, "C-3", "I-4", "A-02", 0, minutes(30))["result"]["outcome"] == "pending_approval"
    body = figures(client, minutes(60))
    assert (body["counts"], body["counts_exact"], body["count_accuracy_pct"]) == (3, 1, 33.3)


def test_pick_fill_rate_is_units_picked_over_units_picked_or_short(handheld: Device, client: AsgiClient) -> None:
    pick = {"task_id": "T-9", "order_id": "ORD-1", "line_id": "1", "item_id": "I-3", "location_id": "A-01", "qty": 2}
    assert handheld.send("pick.confirm", pick, at=minutes(5))["status"] == "applied"
    short = {"task_id": "T-9", "order_id": "ORD-1", "line_id": "2", "item_id": "I-4", "short_qty": 1, "reason": "empty"}
    assert handheld.send("pick.short", short, at=minutes(6))["status"] == "applied"
    body = figures(client, minutes(60))
    assert (body["picked_units"], body["short_units"], body["pick_fill_rate_pct"]) == (2, 1, 66.7)


def test_sync_lag_runs_from_the_corrected_moment_of_an_op_to_when_the_service_recorded_it(
    handheld: Device, client: AsgiClient
) -> None:
    now = dt.datetime.now(dt.UTC)
    pick = {"task_id": "T-9", "order_id": "ORD-1", "line_id": "1", "item_id": "I-3", "location_id": "A-01", "qty": 1}
    # Two ops that waited 10 and 30 minutes in the outbox, one sent at once; the device clock runs 1 min slow.
    offset = 60_000
    handheld.push(
        handheld.op("pick.confirm", pick, at=now - dt.timedelta(minutes=31), offset_ms=offset),
        handheld.op("pick.confirm", pick, at=now - dt.timedelta(minutes=11), offset_ms=offset),
        status={"pending": 3, "parked": 1, "oldest_pending_at": (now - dt.timedelta(minutes=5)).isoformat()},
    )
    handheld.send("pick.confirm", pick, at=now - dt.timedelta(minutes=1), offset_ms=offset)
    body = figures(client, now + dt.timedelta(seconds=30), hours=1)
    assert body["synced_ops"] == 3
    assert 590 <= body["sync_lag_p50_seconds"] <= 660 and 1790 <= body["sync_lag_p95_seconds"] <= 1860
    [device] = body["devices"]
    assert (device["device_id"], device["pending"], device["parked"]) == ("HH-1", 3, 1)
    assert 320 <= device["oldest_pending_age_seconds"] <= 345  # as of the window's end, 30 s from now
    assert device["lag_seconds"] < 30  # its newest op happened (corrected) a moment ago
    assert figures(client, now - dt.timedelta(hours=2), hours=1)["synced_ops"] == 0


def test_an_empty_store_has_no_figures_rather_than_zeros(client: AsgiClient) -> None:
    body = figures(client, T0)
    assert body["putaway_median_minutes"] is None and body["count_accuracy_pct"] is None
    assert body["pick_fill_rate_pct"] is None and body["sync_lag_p50_seconds"] is None
    assert body["putaway_units"] == 0 and body["devices"] == []


def test_weighted_percentiles_weigh_each_value_by_its_units() -> None:
    assert weighted_percentile([], 0.5) is None
    assert weighted_percentile([(10.0, 1), (20.0, 3)], 0.5) == 20.0
    assert weighted_percentile([(10.0, 3), (20.0, 1)], 0.5) == 10.0
    assert weighted_percentile([(5.0, 1), (1.0, 1)], 1.0) == 5.0
