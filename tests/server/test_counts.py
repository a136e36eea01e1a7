"""Counts post `counted − balance_as_of(counted_at)`; moving stock and big variances are not silent."""

from __future__ import annotations

import datetime as dt

from tests.server.helpers import STORE, AsgiClient, Device, balance, exceptions_of

T = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def count(qty: int, *, started: dt.datetime, at: dt.datetime, item: str = "I-5", attempt: int = 1,
          count_id: str = "C-1") -> dict[str, object]:
    return {"count_id": count_id, "location_id": "A-01", "item_id": item, "counted_qty": qty,
            "started_at": started.isoformat(), "counted_at": at.isoformat(), "attempt": attempt}


def pick(qty: int) -> dict[str, object]:
    return {"task_id": "T-9", "order_id": "ORD-X", "line_id": "1", "item_id": "I-5", "location_id": "A-01", "qty": qty}


def test_a_count_keeps_the_sales_made_after_it_was_taken(handheld: Device, handheld2: Device, client: AsgiClient) -> None:
    now = dt.datetime.now(dt.UTC)
    # 20 on the shelf (opening). One unit goes before the count, the count finds 18 (one unit
    # lost), and two units sold after the count reach the server before the count does.
    handheld2.send("pick.confirm", pick(1), at=now - dt.timedelta(minutes=10))
    handheld2.send("pick.confirm", pick(2), at=now - dt.timedelta(minutes=1))
    result = handheld.send("count.record", count(18, started=now - dt.timedelta(minutes=6), at=now - dt.timedelta(minutes=5)))
    assert result["status"] == "applied"
    assert result["result"]["outcome"] == "posted"
    assert result["result"]["balance_qty"] == 19 and result["result"]["adjustment"] == -1
    assert balance(client, "I-5", "A-01") == 16  # 18 counted, minus the 2 sold after
    as_of = (now - dt.timedelta(minutes=5)).isoformat()
    assert balance(client, "I-5", "A-01", as_of=as_of) == 18
    types = [e["type"] for e in client.get(f"/v1/stores/{STORE}/erp/events").json()["events"]]
    assert "count_posted" in types and "inventory_adjusted" in types


def test_stock_moving_during_the_count_asks_for_a_recount_then_an_approval(handheld: Device, handheld2: Device, client: AsgiClient) -> None:
    now = dt.datetime.now(dt.UTC)
    handheld2.send("pick.confirm", pick(1), at=now - dt.timedelta(minutes=3))
    window = {"started": now - dt.timedelta(minutes=5), "at": now - dt.timedelta(minutes=1)}
    first = handheld.send("count.record", count(19, **window))
    assert first["result"]["outcome"] == "recount_required"
    assert balance(client, "I-5", "A-01") == 19
    second = handheld.send("count.record", count(17, **window, attempt=2))
    assert second["result"]["outcome"] == "pending_approval"
    approval_id = second["result"]["approval_id"]
    [ex] = exceptions_of(client, "count_moving_stock")
    assert ex["details"]["approval_id"] == approval_id
    pending = client.get(f"/v1/stores/{STORE}/approvals", params={"status": "pending"}).json()
    assert [a["approval_id"] for a in pending] == [approval_id]
    refused = client.post(f"/v1/stores/{STORE}/approvals/{approval_id}/approve", json={"note": "ok"}, headers={"X-User-Id": "U-ASSOC"})
    assert refused.status_code == 403
    approved = client.post(f"/v1/stores/{STORE}/approvals/{approval_id}/approve", json={"note": "shelf checked"},
                           headers={"X-User-Id": "U-MGR"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert balance(client, "I-5", "A-01") == 17
    assert exceptions_of(client, "count_moving_stock")[0]["status"] == "resolved"


def test_a_variance_past_tolerance_waits_for_a_manager_and_a_rejection_posts_nothing(handheld: Device, client: AsgiClient) -> None:
    now = dt.datetime.now(dt.UTC)
    small = handheld.send("count.record", count(19, started=now - dt.timedelta(minutes=2), at=now - dt.timedelta(minutes=1), count_id="C-2"))
    assert small["result"]["outcome"] == "posted"  # 1 unit off: within 2 units
    big = handheld.send("count.record", count(9, started=now - dt.timedelta(seconds=50), at=now - dt.timedelta(seconds=40), count_id="C-3"))
    assert big["result"]["outcome"] == "pending_approval" and big["result"]["adjustment"] == -10
    assert balance(client, "I-5", "A-01") == 19
    approval_id = big["result"]["approval_id"]
    rejected = client.post(f"/v1/stores/{STORE}/approvals/{approval_id}/reject", json={"note": "recount tomorrow"},
                           headers={"X-User-Id": "U-MGR"})
    assert rejected.json()["status"] == "rejected"
    assert balance(client, "I-5", "A-01") == 19
    again = client.post(f"/v1/stores/{STORE}/approvals/{approval_id}/approve", json={}, headers={"X-User-Id": "U-MGR"})
    assert again.status_code == 409


def test_a_count_approved_on_the_device_posts_at_once(handheld: Device, client: AsgiClient) -> None:
    now = dt.datetime.now(dt.UTC)
    payload = {**count(5, started=now - dt.timedelta(minutes=2), at=now - dt.timedelta(minutes=1)), "approved_by": "U-MGR"}
    assert handheld.send("count.record", payload)["result"]["outcome"] == "posted"
    assert balance(client, "I-5", "A-01") == 5


def test_a_device_clock_offset_moves_the_count_to_server_time(handheld: Device, client: AsgiClient) -> None:
    now = dt.datetime.now(dt.UTC)
    handheld.send("pick.confirm", pick(1), at=now - dt.timedelta(minutes=30))
    # The device clock is an hour behind: its "now − 90 min" is server "now − 30 min" + ... after the pick.
    payload = count(19, started=now - dt.timedelta(minutes=80), at=now - dt.timedelta(minutes=79))
    result = handheld.send("count.record", payload, offset_ms=3_600_000)
    assert result["result"]["balance_qty"] == 19 and result["result"]["adjustment"] == 0


def test_a_sale_made_before_a_count_that_arrives_after_it_is_not_counted_twice(
    handheld: Device, handheld2: Device, client: AsgiClient,
) -> None:
    now = dt.datetime.now(dt.UTC)
    counted_at = now - dt.timedelta(minutes=5)
    # 20 on the shelf. The count (18 found) reaches the server first; a sale of 1 made before the
    # count (the counter saw the shelf without it) and a sale of 2 made after it arrive later.
    posted = handheld.send("count.record", count(18, started=now - dt.timedelta(minutes=6), at=counted_at))
    assert posted["result"]["adjustment"] == -2
    handheld2.send("pick.confirm", pick(1), at=now - dt.timedelta(minutes=10))
    handheld2.send("pick.confirm", pick(2), at=now - dt.timedelta(minutes=1))
    assert balance(client, "I-5", "A-01", as_of=counted_at.isoformat()) == 18
    assert balance(client, "I-5", "A-01") == 16
    events = client.get(f"/v1/stores/{STORE}/erp/events").json()["events"]
    rebase = [e for e in events if e["type"] == "inventory_adjusted" and e["data"].get("reason") == "count_rebase"]
    assert [e["data"]["delta"] for e in rebase] == [1]


def test_a_count_that_matched_still_anchors_later_arrivals(handheld: Device, handheld2: Device, client: AsgiClient) -> None:
    now = dt.datetime.now(dt.UTC)
    counted_at = now - dt.timedelta(minutes=5)
    assert handheld.send("count.record", count(20, started=now - dt.timedelta(minutes=6), at=counted_at))[
        "result"]["adjustment"] == 0
    handheld2.send("pick.confirm", pick(1), at=now - dt.timedelta(minutes=10))  # made before, arrives after
    assert balance(client, "I-5", "A-01", as_of=counted_at.isoformat()) == 20
    assert balance(client, "I-5", "A-01") == 20
