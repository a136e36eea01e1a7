"""The bus refuses a command from a session that has ended, under the offline policy, before any write."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from app.domain.commands import Command
from app.domain.context import Actor, FakeClock
from app.domain.errors import DomainError, NotAllowed
from app.services import people
from app.services.bus import HandlerContext, MessageBus, Outcome
from edge_sync import contract
from edge_sync.uow import UnitOfWork, uow_factory
from tests.conftest import ASSOCIATE, outbox_rows

HOUR = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Command):
    """A command whose handler appends one op, so a refusal is seen as no op written."""


def ping(cmd: Ping, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    from edge_sync import outbox

    outbox.append(uow.conn, op_type=contract.OpType.TASK_RELEASE, payload=contract.TaskReleasePayload(task_id="T-1"),
                  user_id=ctx.actor.user_id,
                  session_id=ctx.actor.session_id, occurred_at=ctx.clock.now())
    return Outcome("pinged")


@pytest.fixture
def bus(make_bus: Callable[..., MessageBus]) -> MessageBus:
    return make_bus({Ping: ping})


def sign_in(device_engine: Engine, clock: FakeClock, *, online: bool) -> Actor:
    """Ana signs in by badge, the service reachable (12 h session) or not (4 h)."""
    def registrar(start: contract.SessionStart) -> contract.SessionRecord:
        return contract.SessionRecord(session_id=start.session_id, user_id=start.user_id, device_id=start.device_id,
                                      role=contract.Role.ASSOCIATE, started_at=start.started_at,
                                      expires_at=start.started_at + contract.SESSION_TTL, started_online=True)

    def unreachable(start: contract.SessionStart) -> contract.SessionRecord:
        raise ConnectionError("no route to the service")

    actor, _ = people.sign_in_by_badge(uow_factory(device_engine), "BADGE-0001", device_id="dev-test", clock=clock,
                                       online=registrar if online else unreachable)
    assert actor.started_online is online
    return actor


def command() -> Ping:
    return Ping(command_id=str(uuid.uuid4()))


def test_an_offline_session_records_commands_for_four_hours_then_is_refused_with_words_to_show(
    bus: MessageBus, device_engine: Engine, clock: FakeClock,
) -> None:
    actor = sign_in(device_engine, clock, online=False)
    clock.advance(4 * HOUR - 1)
    assert bus.handle(command(), actor).message == "pinged"
    clock.advance(1)
    with pytest.raises(people.SessionExpired) as refused:
        bus.handle(command(), actor)
    assert refused.value.message == "Your session has ended: scan your badge to sign in again"
    assert isinstance(refused.value, DomainError) and isinstance(refused.value, NotAllowed)
    assert refused.value.code == "session_expired"
    assert len(outbox_rows(device_engine)) == 1


def test_an_online_session_records_commands_for_twelve_hours(bus: MessageBus, device_engine: Engine, clock: FakeClock) -> None:
    actor = sign_in(device_engine, clock, online=True)
    clock.advance(12 * HOUR - 1)
    bus.handle(command(), actor)
    clock.advance(1)
    with pytest.raises(people.SessionExpired):
        bus.handle(command(), actor)


def test_a_signed_out_session_is_refused_even_with_an_actor_that_still_says_it_is_open(
    bus: MessageBus, device_engine: Engine, clock: FakeClock,
) -> None:
    actor = sign_in(device_engine, clock, online=True)
    people.sign_out(uow_factory(device_engine), actor, clock.now())
    clock.advance(1)
    with pytest.raises(people.SessionExpired):
        bus.handle(command(), actor)
    assert outbox_rows(device_engine) == []


def test_a_session_this_device_never_started_is_refused(bus: MessageBus, clock: FakeClock) -> None:
    made_up = contract.session_id_for(clock.now(), online=True, token="0123456789abcdef")
    forged = Actor(user_id="u-mgr", session_id=made_up, role="manager", device_id="dev-test")
    with pytest.raises(people.SessionExpired):
        bus.handle(command(), forged)


def test_another_users_session_id_is_refused(bus: MessageBus, device_engine: Engine, clock: FakeClock) -> None:
    actor = sign_in(device_engine, clock, online=False)
    with pytest.raises(people.SessionExpired):
        bus.handle(command(), Actor(user_id="u-mgr", session_id=actor.session_id, role="manager", device_id="dev-test"))


def test_a_repeated_command_still_gets_its_first_outcome_after_the_session_ended(
    bus: MessageBus, device_engine: Engine, clock: FakeClock,
) -> None:
    actor = sign_in(device_engine, clock, online=False)
    first = command()
    bus.handle(first, actor)
    clock.advance(5 * HOUR)
    again = bus.handle(first, actor)
    assert again.repeated and again.message == "pinged"


def test_an_actor_with_an_end_time_is_held_to_it(bus: MessageBus, clock: FakeClock) -> None:
    ending = Actor(user_id="u-assoc", session_id="sess-x", device_id="dev-test", expires_at=clock.now() + dt.timedelta(minutes=1))
    bus.handle(command(), ending)
    clock.advance(60)
    with pytest.raises(people.SessionExpired):
        bus.handle(command(), ending)


def test_actors_of_the_older_session_form_without_an_end_are_served(bus: MessageBus) -> None:
    assert bus.handle(command(), ASSOCIATE).message == "pinged"
