"""Items, locations and users read by one store transaction are kept for the next ones while the
store's master data version stands, and read again once a load has replaced it (server_stub.lookups).

On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from edge_sync.contract import ItemRecord, LocationKind, MasterData, Role
from server_stub import lookups
from server_stub import tables as t
from server_stub.db import upsert
from server_stub.masterdata import load_master_data
from server_stub.txn import StoreTx
from tests.server.helpers import STORE, demo_master_data, gtin


@pytest.fixture
def engine(store_engine: Engine) -> Engine:
    return store_engine


class Reads:
    """The master data tables the lookups' queries read (server_stub.lookups runs them through select_in)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tables: list[str] = []
        real = lookups.select_in

        def spy(conn: Any, sql: str, *args: Any, **kw: Any) -> Any:
            for table in ("items", "locations", "users"):
                if f"FROM {table} " in sql:
                    self.tables.append(table)
            return real(conn, sql, *args, **kw)

        monkeypatch.setattr(lookups, "select_in", spy)

    def take(self) -> list[str]:
        out, self.tables = self.tables, []
        return sorted(out)


def _look(engine: Engine) -> tuple[bool, bool, lookups.LocationInfo | None, str | None]:
    with StoreTx.open(engine, STORE) as tx:
        lookups.prefetch(tx, items=["I-1", "I-404"], locations=["A-01"], users=["U-ASSOC"])
        return (lookups.item_exists(tx, "I-1"), lookups.item_exists(tx, "I-404"), lookups.location(tx, "A-01"),
                lookups.user_role(tx, "U-ASSOC"))


def _reloaded() -> MasterData:
    data = demo_master_data()
    return data.model_copy(update={
        "items": [*data.items, ItemRecord(item_id="I-404", sku="SKU-404", gtins=[gtin(404)], description="new item")],
        "locations": [loc.model_copy(update={"capacity": 7}) if loc.location_id == "A-01" else loc for loc in data.locations],
        "users": [u.model_copy(update={"role": Role.MANAGER}) if u.user_id == "U-ASSOC" else u for u in data.users],
    })


def test_a_later_transaction_uses_what_an_earlier_one_read(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = Reads(monkeypatch)
    first = _look(engine)
    assert first == (True, False, lookups.LocationInfo("A-01", LocationKind.SHELF.value, 100), Role.ASSOCIATE.value)
    assert reads.take() == ["items", "locations", "users"]
    assert _look(engine) == first
    assert reads.take() == []  # not one query: items, locations, users, and the item that does not exist


def test_a_load_of_master_data_is_seen_by_the_next_transaction(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = Reads(monkeypatch)
    _look(engine)
    load_master_data(engine, _reloaded())
    reads.take()
    assert _look(engine) == (True, True, lookups.LocationInfo("A-01", LocationKind.SHELF.value, 7), Role.MANAGER.value)
    assert reads.take() == ["items", "locations", "users"]


def test_what_a_rolled_back_load_read_is_never_used(engine: Engine) -> None:
    before = _look(engine)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), StoreTx.open(engine, STORE) as tx:
        tx.new_master_version()
        upsert(tx.conn, t.locations, [{"store_id": STORE, "location_id": "A-01", "code": "A-01", "kind": "shelf",
                                       "capacity": 1, "data": {}, "updated_at": tx.now}], ["store_id", "location_id"])
        lookups.prefetch(tx, locations=["A-01"])
        assert lookups.location(tx, "A-01") == lookups.LocationInfo("A-01", "shelf", 1)
        raise Undo
    assert _look(engine) == before


def test_a_store_without_a_version_keeps_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(t.stores).where(t.stores.c.store_id == STORE).values(master_version=""))
    reads = Reads(monkeypatch)
    _look(engine)
    _look(engine)
    assert reads.take() == ["items", "items", "locations", "locations", "users", "users"]


def test_every_load_gives_a_new_version(engine: Engine) -> None:
    def version() -> str:
        with engine.connect() as conn:
            return str(conn.execute(sa.select(t.stores.c.master_version).where(t.stores.c.store_id == STORE)).scalar_one())

    first = version()
    load_master_data(engine, demo_master_data())
    second = version()
    assert len(first) == len(second) == 32 and first != second


def test_a_process_keeps_the_reads_of_a_bounded_number_of_versions() -> None:
    """Each load makes a new version; the oldest versions' reads are let go, the newest kept."""
    def tx(version: str) -> Any:
        return SimpleNamespace(store_id="S-BOUND", master_version=version, caches={})

    first = lookups._cache(tx("v-0"), "items")
    first["I-1"] = ("SKU-1",)
    assert lookups._cache(tx("v-0"), "items") is first  # the same version: the same reads
    for n in range(1, lookups._KEPT_VERSIONS + 5):
        lookups._cache(tx(f"v-{n}"), "items")["I-1"] = (f"SKU-{n}",)
    assert len(lookups._kept) <= lookups._KEPT_VERSIONS
    assert lookups._cache(tx("v-0"), "items") == {}  # let go: read again from the database
    newest = f"v-{lookups._KEPT_VERSIONS + 4}"
    assert lookups._cache(tx(newest), "items") == {"I-1": (f"SKU-{lookups._KEPT_VERSIONS + 4}",)}
