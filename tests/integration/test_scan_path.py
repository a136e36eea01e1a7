"""A scan's transaction on a real SQLite file: the write lock from its first moment, Core and sqlite3
statements in one transaction, and the pages a repeat scan of a line writes."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.domain.commands import ReceiveUnits, StartReceipt
from app.services.bus import MessageBus
from app.services.receiving import HANDLERS
from edge_sync.db import driver
from edge_sync.repositories.receiving import ReceivingRepository
from edge_sync.tables import Stock
from edge_sync.uow import UnitOfWork
from tests.conftest import ASSOCIATE, outbox_rows
from tests.fixtures.store import CUP, MUG_EACH

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
    # The op (outbox row, op_id and (state, seq) indexes), sync_state's next seq, the command id,
    # and the line's row: its (receipt_id, item_id) index entry is left alone.
    assert _wal_frames(device_engine) - before == 6
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
