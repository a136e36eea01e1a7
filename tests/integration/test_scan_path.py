"""A scan's transaction on a real SQLite file: the write lock from its first moment, Core and sqlite3
statements in one transaction, and the pages a repeat scan of a line and a new-line scan write."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.domain.commands import ReceiveUnits, StartReceipt
from app.domain.context import FakeClock
from app.domain.policy import StorePolicy
from app.services.bus import MessageBus
from app.services.receiving import HANDLERS
from edge_sync import outbox
from edge_sync.db import driver, open_device_database
from edge_sync.repositories.master import apply_master_data
from edge_sync.repositories.receiving import ReceivingRepository
from edge_sync.tables import Stock
from edge_sync.uow import UnitOfWork, uow_factory
from server_stub.seed import generate_store
from tests.conftest import ASSOCIATE, outbox_rows
from tests.fixtures.store import CUP, MUG_EACH, T0

stock_t = Stock.__table__  # type: ignore[attr-defined]


@pytest.fixture
def bus(make_bus: Callable[..., MessageBus]) -> MessageBus:
    return make_bus(HANDLERS)


def _db_path(engine: Engine) -> Path:
    assert engine.url.database is not None
    return Path(engine.url.database)


def _wal_frames(engine: Engine) -> int:
    return (_db_path(engine).with_name(_db_path(engine).name + "-wal").stat().st_size - 32) // (4096 + 24)


def _receive(bus: MessageBus, gtin: str) -> None:
    bus.handle(ReceiveUnits(command_id=str(uuid.uuid4()), receipt_id="r-1", gtin=gtin), ASSOCIATE)


def test_a_unit_of_work_holds_the_write_lock_before_its_first_statement(device_engine: Engine) -> None:
    other = sqlite3.connect(_db_path(device_engine), timeout=0, isolation_level=None)
    try:
        with UnitOfWork(device_engine):
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the unit of work is left
        other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.mark.parametrize("commit", [True, False])
def test_core_and_sqlite3_statements_of_a_unit_of_work_commit_or_roll_back_together(
    device_engine: Engine, commit: bool,
) -> None:
    with UnitOfWork(device_engine) as uow:
        driver(uow.conn).execute("INSERT INTO stock (item_id, location_id, status, qty) VALUES ('i-1', 'l-1', 'available', 1)")
        uow.conn.execute(stock_t.insert().values(item_id="i-2", location_id="l-1", status="available", qty=2))
        driver(uow.conn).execute("INSERT INTO stock (item_id, location_id, status, qty) VALUES ('i-3', 'l-1', 'available', 3)")
        if commit:
            uow.commit()
    with device_engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(stock_t).where(stock_t.c.item_id.in_(["i-1", "i-2", "i-3"])))
        assert kept.scalar() == (3 if commit else 0)


def test_a_repeat_scan_of_a_line_writes_one_page_per_b_tree_it_changes(bus: MessageBus, device_engine: Engine) -> None:
    bus.handle(StartReceipt(command_id="start", receipt_id="r-1"), ASSOCIATE)
    _receive(bus, MUG_EACH)
    before = _wal_frames(device_engine)
    _receive(bus, MUG_EACH)
    # The op (outbox row, op_id and (state, seq) indexes), the command id, and the line's row: its
    # (receipt_id, item_id) index entry is left alone, and sync_state is only read.
    assert _wal_frames(device_engine) - before == 5
    assert [r["payload"]["gtin"] for r in outbox_rows(device_engine)] == [MUG_EACH, MUG_EACH]


def test_a_line_first_seen_without_an_item_takes_the_item_at_its_first_scan(
    bus: MessageBus, device_engine: Engine,
) -> None:
    bus.handle(StartReceipt(command_id="start", receipt_id="r-1"), ASSOCIATE)
    with UnitOfWork(device_engine) as uow:  # as an ASN line naming a GTIN the device did not know yet
        ReceivingRepository(uow.conn).add_to_line("r-1", gtin=CUP, lot="", item_id=None, expected=4)
        uow.commit()
    _receive(bus, CUP)
    _receive(bus, CUP)
    with device_engine.connect() as conn:
        [line] = ReceivingRepository(conn).lines("r-1")
    assert (line.item_id, line.expected_qty, line.received_qty) == ("item-cup", 4, 2)


NEW_LINE_PAGES_AT_MOST = 8.4
"""WAL pages a new-line scan writes on average here, splits included: 9.84 before migration 0007, 9.15
with it, 8.15 now that appending an op only reads sync_state."""


def test_a_new_line_scan_writes_about_one_page_per_b_tree_it_changes(tmp_path: Path) -> None:
    store = generate_store(7, items=1000, locations=100)
    engine = open_device_database(tmp_path / "big.db")
    try:
        with UnitOfWork(engine) as uow:
            outbox.register_device(uow.conn, store_id=store.store_id, device_id="dev-test")
            apply_master_data(uow.conn, store)
            uow.commit()
        bus = MessageBus(uow_factory(engine), HANDLERS, clock=FakeClock(T0), policy=StorePolicy())
        bus.handle(StartReceipt(command_id="start", receipt_id="r-1"), ASSOCIATE)
        gtins = [g for item in store.items for g in item.gtins if g not in item.pack_sizes]
        assert len(gtins) >= 900

        def scan(i: int) -> None:  # ids in order, as uuid7s would be: the count does not depend on chance
            bus.handle(ReceiveUnits(command_id=f"cmd-{i:06d}", receipt_id="r-1", gtin=gtins[i]), ASSOCIATE)

        for i in range(500):  # b-trees a few levels deep, so that splits happen as on a working device
            scan(i)
        before = _wal_frames(engine)
        measured = range(500, 900)
        for i in measured:
            scan(i)
        per_scan = (_wal_frames(engine) - before) / len(measured)
        with engine.connect() as conn:
            lines = conn.exec_driver_sql("SELECT count(*) FROM receipt_lines WHERE receipt_id = 'r-1'").scalar()
            inline = conn.exec_driver_sql("SELECT count(*) FROM processed_commands WHERE result IS NOT NULL").scalar()
    finally:
        engine.dispose()
    assert lines == 900  # every measured scan made a new line
    assert inline == 1  # only StartReceipt, which queues no op, keeps its outcome in its own row
    # Seven b-trees change (outbox, its op_id and (state, seq) indexes, processed_commands, receipt_lines
    # and its two indexes), plus splits and the file's growth.
    assert 7 <= per_scan <= NEW_LINE_PAGES_AT_MOST, f"{per_scan:.2f} WAL pages per new-line scan"
