"""The bus reads a session's row once and answers later commands from memory, exactly as the table
would: expiry still ends it, sign-out still refuses the next command, another device's database
still refuses it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from app.domain.commands import Command
from app.domain.context import Actor, FakeClock
from app.domain.policy import StorePolicy
from app.services import people
from app.services.bus import HandlerContext, MessageBus, Outcome
from edge_sync import contract
from edge_sync.db import open_device_database
from edge_sync.outbox import register_device
from edge_sync.repositories.master import apply_master_data
from edge_sync.uow import UnitOfWork, uow_factory
from tests.conftest import outbox_rows
from tests.fixtures.store import STORE_ID, small_store

HOUR = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Command):
    """A command whose handler appends one op, so a refusal is seen as no op written."""


def ping(cmd: Ping, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id="T-1"), user_id=ctx.actor.user_id,
                  session_id=ctx.actor.session_id, occurred_at=ctx.clock.now())
    return Outcome("pinged")


@pytest.fixture
def bus(make_bus: Callable[..., MessageBus]) -> MessageBus:
    return make_bus({Ping: ping})


@pytest.fixture
def session_reads(device_engine: Engine) -> Iterator[list[str]]:
    """Every statement that reads the sessions table, as the engine sends it."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM sessions" in statement:
            seen.append(statement)

    event.listen(device_engine, "before_cursor_execute", record)
    yield seen
    event.remove(device_engine, "before_cursor_execute", record)


def sign_in(engine: Engine, clock: FakeClock, device_id: str = "dev-test") -> Actor:
    """Ana signs in by badge with the service unreachable: a 4 h session."""
    actor, _ = people.sign_in_by_badge(uow_factory(engine), "BADGE-0001", device_id=device_id, clock=clock)
    return actor


def command() -> Ping:
    return Ping(command_id=str(uuid.uuid4()))


def test_the_session_row_is_read_once_for_many_commands(
    bus: MessageBus, device_engine: Engine, clock: FakeClock, session_reads: list[str],
) -> None:
    actor = sign_in(device_engine, clock)
    for _ in range(5):
        bus.handle(command(), actor)
    assert len(session_reads) == 1
    assert len(outbox_rows(device_engine)) == 5


def test_a_session_checked_open_is_refused_after_sign_out_and_read_again_from_the_table(
    bus: MessageBus, device_engine: Engine, clock: FakeClock, session_reads: list[str],
) -> None:
    actor = sign_in(device_engine, clock)
    bus.handle(command(), actor)
    people.sign_out(uow_factory(device_engine), actor, clock.now())
    clock.advance(1)
    with pytest.raises(people.SessionExpired, match="Your session has ended"):
        bus.handle(command(), actor)
    assert len(session_reads) == 2
    assert len(outbox_rows(device_engine)) == 1


def test_a_kept_session_still_ends_at_its_expiry(bus: MessageBus, device_engine: Engine, clock: FakeClock) -> None:
    actor = sign_in(device_engine, clock)
    bus.handle(command(), actor)
    clock.advance(contract.OFFLINE_START_TTL.total_seconds() - 1)
    bus.handle(command(), actor)
    clock.advance(1)
    with pytest.raises(people.SessionExpired):
        bus.handle(command(), actor)


def test_a_session_kept_for_one_device_database_is_refused_on_another(
    bus: MessageBus, device_engine: Engine, clock: FakeClock, tmp_path: Path,
) -> None:
    actor = sign_in(device_engine, clock)
    bus.handle(command(), actor)
    other = open_device_database(tmp_path / "other.db")
    with UnitOfWork(other) as uow:
        register_device(uow.conn, store_id=STORE_ID, device_id="dev-test")
        apply_master_data(uow.conn, small_store())
        uow.commit()
    other_bus = MessageBus(uow_factory(other), {Ping: ping}, clock=clock, policy=StorePolicy())
    with pytest.raises(people.SessionExpired):
        other_bus.handle(command(), actor)
    other.dispose()


def test_another_user_with_a_kept_session_id_is_refused(bus: MessageBus, device_engine: Engine, clock: FakeClock) -> None:
    actor = sign_in(device_engine, clock)
    bus.handle(command(), actor)
    with pytest.raises(people.SessionExpired):
        bus.handle(command(), Actor(user_id="u-mgr", session_id=actor.session_id, role="manager", device_id="dev-test"))
    with pytest.raises(people.SessionExpired):
        bus.handle(command(), Actor(user_id=actor.user_id, session_id=actor.session_id, device_id="dev-other"))


def test_the_windows_kept_are_bounded_oldest_first() -> None:
    windows = people.SessionWindows(max_entries=2)
    ends = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for sid in ("a", "b", "c"):
        windows.put("dev.db", sid, people.SessionWindow("u", "d", ends))
    assert windows.get("dev.db", "a") is None
    assert windows.get("dev.db", "c") == people.SessionWindow("u", "d", ends)
    windows.forget("c")
    assert windows.get("dev.db", "c") is None and windows.get("dev.db", "b") is not None


def test_in_memory_databases_are_never_kept() -> None:
    windows = people.SessionWindows()
    windows.put(":memory:", "a", people.SessionWindow("u", "d", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    assert windows.get(":memory:", "a") is None
