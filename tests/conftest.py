"""Shared fixtures: a migrated device database with the small test store, and a bus on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.domain.commands import Command
from app.domain.context import Actor, FakeClock
from app.domain.policy import StorePolicy
from app.services.bus import Handler, MessageBus
from edge_sync import outbox
from edge_sync.db import open_device_database
from edge_sync.repositories.master import apply_master_data
from edge_sync.uow import UnitOfWork, uow_factory
from tests.fixtures.store import STORE_ID, T0, small_store

ASSOCIATE = Actor(user_id="u-assoc", session_id="sess-a", role="associate", device_id="dev-test")
MANAGER = Actor(user_id="u-mgr", session_id="sess-m", role="manager", device_id="dev-test")


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at the test store's T0."""
    return FakeClock(T0)


@pytest.fixture
def device_engine(tmp_path: Path) -> Iterator[Engine]:
    """A real SQLite device database at head, registered to the test store, with its master data."""
    engine = open_device_database(tmp_path / "device.db")
    with UnitOfWork(engine) as uow:
        outbox.register_device(uow.conn, store_id=STORE_ID, device_id="dev-test")
        apply_master_data(uow.conn, small_store())
        uow.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def make_bus(device_engine: Engine, clock: FakeClock) -> Callable[..., MessageBus]:
    """Build a bus on the test database with the given handlers (and optionally a policy)."""

    def _make(handlers: Mapping[type[Command], Handler], policy: StorePolicy | None = None) -> MessageBus:
        return MessageBus(uow_factory(device_engine), handlers, clock=clock, policy=policy or StorePolicy())

    return _make


def outbox_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every outbox row, in seq order, as dicts (for assertions)."""
    from sqlalchemy import select

    from edge_sync.tables import OutboxOp

    t = OutboxOp.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.seq))]


@pytest.fixture(autouse=True, scope="session")
def _keystore_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Device keys (edge_sync.keystore) go to a temporary directory, never the user's keystore.

    Set in the environment, so device processes the tests start inherit it.
    """
    import os

    from edge_sync.keystore import KEYSTORE_DIR_ENV

    os.environ.setdefault(KEYSTORE_DIR_ENV, str(tmp_path_factory.mktemp("keystore")))
