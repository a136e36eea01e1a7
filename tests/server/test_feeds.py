"""The change feed is paged and resumable; the ERP feed gives each event once, in order."""

from __future__ import annotations

from fastapi import FastAPI

from edge_sync.contract import Change, ChangeKind, ChangesPage, OpResult
from server_stub import tables as t
from server_stub.db import create_engine_for, migrate
from server_stub.feeds import _change, read_changes
from server_stub.masterdata import load_master_data
from server_stub.txn import StoreTx, utcnow
from tests.server.helpers import STORE, AsgiClient, Device, demo_master_data, insert_store_row, upgraded_to

CHANGES = f"/v1/stores/{STORE}/changes"


def read_all(client: AsgiClient, cursor: str = "", limit: int = 25) -> tuple[list[dict[str, object]], str, int]:
    seen: list[dict[str, object]] = []
    pages = 0
    while True:
        page = ChangesPage.model_validate(client.get(CHANGES, params={"cursor": cursor, "limit": limit}).json())
        pages += 1
        seen.extend(c.model_dump(mode="json") for c in page.changes)
        cursor = page.next_cursor
        if not page.has_more:
            return seen, cursor, pages


def test_a_first_sync_of_a_big_store_is_paged_and_resumable(app: FastAPI, client: AsgiClient) -> None:
    load_master_data(app.state.services.engine, demo_master_data(items=120))
    everything, _, pages = read_all(client, limit=1000)
    assert pages == 1
    # Read three pages, "lose the connection", resume from the last cursor kept.
    cursor = ""
    first: list[dict[str, object]] = []
    for _ in range(3):
        page = client.get(CHANGES, params={"cursor": cursor, "limit": 25}).json()
        first.extend(page["changes"])
        cursor = page["next_cursor"]
    rest, _, pages = read_all(client, cursor, limit=25)
    assert pages > 1
    assert first + rest == everything
    items = {c["key"] for c in everything if c["kind"] == "item"}
    assert {f"I-{n}" for n in range(1, 121)} <= items
    assert {c["kind"] for c in everything} >= {"item", "location", "user", "purchase_order", "asn", "order", "balance"}


def test_the_feed_carries_op_results_balances_and_exceptions_after_the_cursor(client: AsgiClient, handheld: Device) -> None:
    _, cursor, _ = read_all(client)
    handheld.send("putaway.confirm", {"item_id": "I-1", "qty": 9, "from_location_id": "DOCK", "to_location_id": "TINY"})
    news, next_cursor, _ = read_all(client, cursor)
    kinds = sorted({str(c["kind"]) for c in news})
    assert kinds == ["balance", "exception", "op_result"]
    balances = {c["key"]: c["data"]["qty"] for c in news if c["kind"] == "balance"}  # type: ignore[index]
    assert balances == {"I-1|TINY|available": 9, "I-1|DOCK|received": -9}
    assert read_all(client, next_cursor)[0] == []
    assert client.get(CHANGES, params={"cursor": "not-a-cursor"}).status_code == 422


def test_an_op_result_in_the_feed_is_the_stored_answer(client: AsgiClient, handheld: Device) -> None:
    """The feed reads ops at driver level (ids, times and results converted by hand): each entry is
    what GET /ops/{op_id} answers, field for field, on either database."""
    _, cursor, _ = read_all(client)
    answers = [
        handheld.send("putaway.confirm", {"item_id": "I-1", "qty": 1, "from_location_id": "DOCK", "to_location_id": "A-01"}),
        handheld.send("putaway.confirm", {"item_id": "I-1", "qty": 9, "from_location_id": "DOCK", "to_location_id": "TINY"}),
        handheld.send("putaway.confirm", {"item_id": "NOPE", "qty": 1, "from_location_id": "DOCK", "to_location_id": "A-01"}),
    ]
    news, _, _ = read_all(client, cursor)
    results = [c for c in news if c["kind"] == "op_result"]
    assert [c["key"] for c in results] == [a["op_id"] for a in answers]
    for change in results:
        stored = OpResult.model_validate(client.get(f"/v1/stores/{STORE}/ops/{change['key']}").json())
        assert OpResult.model_validate(change["data"]) == stored
    assert [c["data"]["status"] for c in results] == ["applied", "applied", "rejected"]  # type: ignore[index]
    assert results[1]["data"]["result"]["exception_ids"]  # type: ignore[index]


def test_a_change_built_by_hand_is_the_one_model_construct_builds() -> None:
    ours = _change(ChangeKind.BALANCE, "I-1|A-01|available", {"qty": 3})
    theirs = Change.model_construct(kind=ChangeKind.BALANCE, key="I-1|A-01|available", data={"qty": 3})
    assert ours == theirs
    assert ours.model_fields_set == theirs.model_fields_set
    assert ours.model_dump_json() == theirs.model_dump_json()


def test_erp_events_are_read_once_and_in_order(client: AsgiClient, handheld: Device) -> None:
    for n in range(5):
        handheld.send("putaway.confirm", {"item_id": "I-1", "qty": n + 1, "from_location_id": "DOCK", "to_location_id": "A-01"})
    url = f"/v1/stores/{STORE}/erp/events"
    page = client.get(url, params={"limit": 3}).json()
    assert page["has_more"] is True and [e["data"]["qty"] for e in page["events"]] == [1, 2, 3]
    rest = client.get(url, params={"cursor": page["next_cursor"], "limit": 3}).json()
    assert rest["has_more"] is False and [e["data"]["qty"] for e in rest["events"]] == [4, 5]
    ids = [e["event_id"] for e in page["events"] + rest["events"]]
    assert len(set(ids)) == 5 and all(e["type"] == "putaway_confirmed" for e in rest["events"])
    assert client.get(url, params={"cursor": rest["next_cursor"]}).json()["events"] == []


def test_exceptions_are_listed_filtered_and_resolved_with_a_note(client: AsgiClient, handheld: Device) -> None:
    handheld.send("putaway.confirm", {"item_id": "I-1", "qty": 9, "from_location_id": "DOCK", "to_location_id": "TINY"})
    handheld.send("pick.short", {"task_id": "T", "order_id": "ORD-1", "line_id": "2", "item_id": "I-4", "short_qty": 1, "reason": "gone"})
    base = f"/v1/stores/{STORE}/exceptions"
    assert len(client.get(base, params={"status": "open"}).json()) == 2
    [full] = client.get(base, params={"kind": "location_full"}).json()
    resolve = f"{base}/{full['exception_id']}/resolve"
    assert client.post(resolve, json={"note": "moved 4 to A-02"}, headers={"X-User-Id": "U-ASSOC"}).status_code == 403
    done = client.post(resolve, json={"note": "moved 4 to A-02", "user_id": "U-MGR"})
    assert done.status_code == 200
    assert done.json()["status"] == "resolved" and done.json()["resolved_by"] == "U-MGR"
    assert done.json()["resolution_note"] == "moved 4 to A-02"
    assert client.post(resolve, json={"note": "again", "user_id": "U-MGR"}).status_code == 409
    assert [e["kind"] for e in client.get(base, params={"status": "open"}).json()] == ["pick_short"]
    assert client.get(f"{base}/EX-999").status_code == 404


def test_a_feed_read_across_migration_0005_loses_nothing_and_repeats_nothing(database_url: str) -> None:
    """Before 0005 an op's result and a touched balance were rows of `changes`; after it they are read
    from `ops` and `balances`. A reader part-way through the old rows gets the rest of them, then the
    new entries, in seq order."""
    engine = create_engine_for(database_url)
    try:
        upgraded_to(engine, "0004")
        now = utcnow()
        with engine.begin() as conn:
            # What the service wrote before 0005: counters at 3, a balance and an op result in `changes`.
            insert_store_row(conn, "S-1", change_seq=3, ledger_seq=1)
            conn.exec_driver_sql(
                "INSERT INTO balances (store_id, item_id, location_id, status, qty) VALUES ('S-1', 'I-1', 'A-01', 'available', 4)"
            )
            conn.execute(t.changes.insert(), [
                {"store_id": "S-1", "change_seq": 1, "kind": "item", "key": "I-1", "data": {"item_id": "I-1"}, "recorded_at": now},
                {"store_id": "S-1", "change_seq": 2, "kind": "balance", "key": "I-1|A-01|available",
                 "data": {"item_id": "I-1", "location_id": "A-01", "status": "available", "qty": 4}, "recorded_at": now},
                {"store_id": "S-1", "change_seq": 3, "kind": "op_result", "key": "op-old", "data": {"status": "applied"},
                 "recorded_at": now},
            ])
        cursor = "1"  # a device had read the first entry
        migrate(engine)
        with StoreTx.open(engine, "S-1") as tx:
            tx.post("I-1", "A-01", "available", 2, effective_at=tx.now, reason="test")
        with engine.connect() as conn:
            page = read_changes(conn, "S-1", cursor, 100, now)
            assert read_changes(conn, "S-1", page.next_cursor, 100, now).changes == []
        assert [(c.kind.value, c.key, (c.data or {}).get("qty")) for c in page.changes] == [
            ("balance", "I-1|A-01|available", 4),
            ("op_result", "op-old", None),
            ("balance", "I-1|A-01|available", 6),
        ]
        assert page.next_cursor == "4"
    finally:
        engine.dispose()
