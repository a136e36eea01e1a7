"""Sign-in by PIN and badge on the device: PIN hashes, lockout, sessions and the offline policy."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from app.domain.context import FakeClock
from app.domain.errors import NotAllowed, NotFound, WrongScan
from app.services import people
from edge_sync import contract
from edge_sync.repositories.master import apply_users
from edge_sync.uow import UnitOfWork, uow_factory

PIN_HASH = contract.hash_pin("4821")


@pytest.fixture
def factory(device_engine: Engine) -> people.UnitOfWorkFactory:
    """Units of work on the test store, whose associate and manager have PINs."""
    with UnitOfWork(device_engine) as uow:
        apply_users(uow.conn, [
            contract.UserRecord(user_id="u-assoc", name="Ana Associate", role=contract.Role.ASSOCIATE,
                                badge="BADGE-0001", pin_hash=PIN_HASH),
            contract.UserRecord(user_id="u-mgr", name="Max Manager", role=contract.Role.MANAGER, badge="BADGE-0002",
                                pin_hash=contract.hash_pin("7310")),
        ])
        uow.commit()
    return uow_factory(device_engine)


def test_a_pin_hash_is_salted_and_verifies_only_its_own_pin() -> None:
    again = contract.hash_pin("4821")
    assert again != PIN_HASH and "4821" not in PIN_HASH
    assert contract.verify_pin("4821", PIN_HASH) and contract.verify_pin("4821", again)
    assert not contract.verify_pin("4822", PIN_HASH)
    assert not contract.verify_pin("4821", "plain-4821")


def test_the_right_pin_signs_in_by_user_id_or_badge_with_the_users_role(factory: people.UnitOfWorkFactory, clock: FakeClock) -> None:
    actor, name = people.sign_in_by_pin(factory, "u-mgr", "7310", device_id="dev-test", clock=clock)
    assert (actor.user_id, actor.role, name) == ("u-mgr", "manager", "Max Manager")
    by_badge, _ = people.sign_in_by_pin(factory, "badge-0001", "4821", device_id="dev-test", clock=clock)
    assert (by_badge.user_id, by_badge.role) == ("u-assoc", "associate")
    assert by_badge.session_id != actor.session_id


def test_a_wrong_pin_is_refused_saying_how_many_tries_are_left(factory: people.UnitOfWorkFactory, clock: FakeClock) -> None:
    with pytest.raises(NotAllowed, match="Wrong PIN: 4 tries left"):
        people.sign_in_by_pin(factory, "u-assoc", "0000", device_id="dev-test", clock=clock)


def test_five_wrong_pins_lock_pin_sign_in_until_the_lockout_passes(factory: people.UnitOfWorkFactory, clock: FakeClock) -> None:
    for _ in range(people.MAX_PIN_FAILURES - 1):
        with pytest.raises(NotAllowed, match="Wrong PIN"):
            people.sign_in_by_pin(factory, "u-assoc", "0000", device_id="dev-test", clock=clock)
    with pytest.raises(NotAllowed, match="locked for 15 minutes"):
        people.sign_in_by_pin(factory, "u-assoc", "0000", device_id="dev-test", clock=clock)
    with pytest.raises(NotAllowed, match="locked for"):
        people.sign_in_by_pin(factory, "u-assoc", "4821", device_id="dev-test", clock=clock)
    # A badge still works while the PIN is locked, and other users are not affected.
    assert people.sign_in_by_badge(factory, "BADGE-0001", device_id="dev-test", clock=clock)[0].user_id == "u-assoc"
    assert people.sign_in_by_pin(factory, "u-mgr", "7310", device_id="dev-test", clock=clock)[0].user_id == "u-mgr"
    clock.advance(people.LOCKOUT.total_seconds())
    assert people.sign_in_by_pin(factory, "u-assoc", "4821", device_id="dev-test", clock=clock)[0].user_id == "u-assoc"


def test_a_right_pin_clears_the_count_of_wrong_ones(factory: people.UnitOfWorkFactory, clock: FakeClock) -> None:
    for _ in range(people.MAX_PIN_FAILURES - 1):
        with pytest.raises(NotAllowed):
            people.sign_in_by_pin(factory, "u-assoc", "1234", device_id="dev-test", clock=clock)
    people.sign_in_by_pin(factory, "u-assoc", "4821", device_id="dev-test", clock=clock)
    with pytest.raises(NotAllowed, match="4 tries left"):
        people.sign_in_by_pin(factory, "u-assoc", "1234", device_id="dev-test", clock=clock)


@pytest.mark.parametrize(("user", "pin", "error"), [
    ("", "4821", WrongScan), ("u-assoc", "", WrongScan), ("u-assoc", "48a1", WrongScan),
    ("u-assoc", "4" * 40, WrongScan), ("u-ghost", "4821", NotFound), ("u-admin", "4821", NotAllowed),
])
def test_malformed_input_unknown_users_and_users_without_a_pin_are_refused_clearly(
    factory: people.UnitOfWorkFactory, clock: FakeClock, user: str, pin: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        people.sign_in_by_pin(factory, user, pin, device_id="dev-test", clock=clock)


def test_an_offline_sign_in_starts_a_four_hour_session_recorded_on_the_device(factory: people.UnitOfWorkFactory, clock: FakeClock) -> None:
    actor, _ = people.sign_in_by_pin(factory, "u-assoc", "4821", device_id="dev-test", clock=clock)
    assert not actor.started_online
    assert actor.expires_at == clock.now() + contract.OFFLINE_START_TTL
    assert contract.parse_session_id(actor.session_id) == (clock.now(), False)
    assert people.session_of(factory, actor.session_id) == actor
    people.require_active(factory, actor, clock.now() + dt.timedelta(hours=3, minutes=59))
    with pytest.raises(people.SessionExpired, match="sign in again"):
        people.require_active(factory, actor, clock.now() + contract.OFFLINE_START_TTL)


def test_an_online_sign_in_takes_the_role_and_twelve_hours_the_service_recorded(factory: people.UnitOfWorkFactory, clock: FakeClock) -> None:
    seen: list[contract.SessionStart] = []

    def service(start: contract.SessionStart) -> contract.SessionRecord:
        seen.append(start)
        return contract.SessionRecord(session_id=start.session_id, user_id=start.user_id, device_id=start.device_id,
                                      role=contract.Role.ASSOCIATE, started_at=start.started_at,
                                      expires_at=start.started_at + contract.SESSION_TTL, started_online=True)

    actor, _ = people.sign_in_by_pin(factory, "u-mgr", "7310", device_id="dev-test", clock=clock, online=service)
    assert seen[0].user_id == "u-mgr" and actor.started_online
    assert actor.role == "associate"  # the service's word wins over stale master data
    people.require_active(factory, actor, clock.now() + dt.timedelta(hours=11, minutes=59))
    with pytest.raises(people.SessionExpired):
        people.require_active(factory, actor, clock.now() + contract.SESSION_TTL)


def test_a_service_that_cannot_be_reached_starts_the_session_offline(factory: people.UnitOfWorkFactory, clock: FakeClock) -> None:
    def unreachable(start: contract.SessionStart) -> contract.SessionRecord:
        raise ConnectionError("no route to host")

    actor, _ = people.sign_in_by_badge(factory, "BADGE-0002", device_id="dev-test", clock=clock, online=unreachable)
    assert not actor.started_online and actor.role == "manager"


def test_signing_out_ends_the_session(factory: people.UnitOfWorkFactory, clock: FakeClock) -> None:
    actor, _ = people.sign_in_by_badge(factory, "BADGE-0001", device_id="dev-test", clock=clock)
    people.sign_out(factory, actor, clock.now())
    with pytest.raises(people.SessionExpired):
        people.require_active(factory, actor, clock.now() + dt.timedelta(seconds=1))


def test_the_demo_users_pin_hashes_verify_their_demo_pins() -> None:
    from server_stub.seed import DEMO_PIN_HASHES, DEMO_USERS

    assert all(contract.verify_pin(u.pin, DEMO_PIN_HASHES[u.user_id]) for u in DEMO_USERS)
    assert not any(u.pin in DEMO_PIN_HASHES[u.user_id] for u in DEMO_USERS if len(u.pin) >= 4)
