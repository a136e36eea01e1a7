"""The sign-in and my-tasks view-model, through the real services on the test store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from app.domain.context import Actor, FakeClock
from app.services import people, tasks
from app.services.sync_status import sync_status
from app.viewmodels.shell import ShellViewModel
from edge_sync.contract import OpType, TaskReleasePayload
from edge_sync.uow import UnitOfWork, uow_factory


def _vm(engine: Engine, clock: FakeClock) -> ShellViewModel:
    factory = uow_factory(engine)
    return ShellViewModel(
        sign_in=lambda badge: people.sign_in_by_badge(factory, badge, device_id="dev-test"),
        list_tasks=lambda actor, now: tasks.my_tasks(factory, actor, now),
        sync_status=lambda: sync_status(engine),
        clock=clock,
    )


def test_a_known_badge_signs_in_and_lists_open_tasks_most_urgent_first(device_engine: Engine, clock: FakeClock) -> None:
    vm = _vm(device_engine, clock)
    vm.submit_badge(" badge-0001 ")
    st = vm.state
    assert st.actor is not None and st.actor.user_id == "u-assoc" and st.actor.role == "associate"
    assert (st.message, st.message_kind) == ("Hello Ana", "ok")
    assert [t.task_id for t in st.tasks] == ["task-pick-1", "task-count-1"]
    assert st.tasks[0].headline == "Pick WEB-7001" and st.tasks[0].urgent
    assert st.tasks[1].headline == "Count A-01-01-1" and not st.tasks[1].urgent
    assert st.sync_line == "Not synced yet · all sent"


def test_an_unknown_or_empty_badge_says_what_to_do(device_engine: Engine, clock: FakeClock) -> None:
    vm = _vm(device_engine, clock)
    vm.submit_badge("BADGE-9999")
    assert vm.state.actor is None
    assert vm.state.message == "Badge BADGE-9999 is not known on this device: ask a manager"
    assert vm.state.message_kind == "error"
    vm.submit_badge("   ")
    assert vm.state.message == "Scan your badge"
    vm.submit_badge("\x1b[31m" + "x" * 100)
    assert vm.state.message.startswith("That is not a badge")


def test_each_sign_in_is_a_new_session_and_sign_out_forgets_the_person(device_engine: Engine, clock: FakeClock) -> None:
    vm = _vm(device_engine, clock)
    vm.submit_badge("BADGE-0002")
    first = vm.state.actor
    vm.sign_out()
    assert vm.state.actor is None and vm.state.tasks == []
    vm.submit_badge("BADGE-0002")
    assert isinstance(first, Actor) and vm.state.actor is not None
    assert vm.state.actor.session_id != first.session_id and vm.state.actor.role == "manager"


def test_the_sync_line_counts_what_waits_and_says_how_old_the_last_sync_is(device_engine: Engine, clock: FakeClock) -> None:
    from sqlalchemy import text

    with device_engine.begin() as conn:
        conn.execute(text("UPDATE sync_state SET last_pull_at = :t"), {"t": (clock.now() - dt.timedelta(minutes=7)).isoformat()})
    vm = _vm(device_engine, clock)
    vm.refresh()
    assert vm.state.sync_line == "Offline · last sync 7 min ago · all sent"
    with UnitOfWork(device_engine) as uow:
        for _ in range(3):
            uow.append_op(OpType.TASK_RELEASE, TaskReleasePayload(task_id="task-pick-1"),
                          user_id="u-assoc", session_id="s", occurred_at=clock.now())
        uow.conn.execute(text("UPDATE outbox SET state = 'parked' WHERE seq = 1"))
        uow.commit()
    vm.refresh()
    assert vm.state.sync_line == "Offline · last sync 7 min ago · 2 to send · 1 need attention"


def test_the_sync_line_says_online_and_how_long_the_oldest_op_has_waited(device_engine: Engine, clock: FakeClock) -> None:
    from sqlalchemy import text

    with device_engine.begin() as conn:
        conn.execute(text("UPDATE sync_state SET last_success_at = :t, consecutive_failures = 0"),
                     {"t": (clock.now() - dt.timedelta(seconds=20)).isoformat()})
    with UnitOfWork(device_engine) as uow:
        uow.append_op(OpType.TASK_RELEASE, TaskReleasePayload(task_id="task-pick-1"), user_id="u-assoc",
                      session_id="s", occurred_at=clock.now() - dt.timedelta(minutes=12))
        uow.commit()
    vm = _vm(device_engine, clock)
    vm.refresh()
    assert vm.state.online
    assert vm.state.sync_line == "Online · last sync just now · 1 to send (oldest 12 min)"


def _vm_with(engine: Engine, clock: FakeClock, **extra: object) -> ShellViewModel:
    from app.bootstrap import all_handlers
    from app.domain.policy import StorePolicy
    from app.services import handheld
    from app.services.bus import MessageBus

    factory = uow_factory(engine)
    bus = MessageBus(factory, all_handlers(), clock=clock, policy=StorePolicy())
    return ShellViewModel(
        sign_in=lambda badge: people.sign_in_by_badge(factory, badge, device_id="dev-test"),
        list_tasks=lambda actor, now: tasks.my_tasks(factory, actor, now),
        sync_status=lambda: sync_status(engine),
        clock=clock,
        task_ref=lambda task_id: handheld.task_ref(factory, task_id),
        handle=bus.handle,
        **extra,  # type: ignore[arg-type]
    )


def test_pin_sign_in_calls_the_pin_service_and_is_offered_only_when_wired(device_engine: Engine, clock: FakeClock) -> None:
    from app.domain.errors import NotAllowed

    calls: list[tuple[str, str]] = []

    def fake_pin(user: str, pin: str) -> tuple[Actor, str]:
        calls.append((user, pin))
        if pin != "0421":
            raise NotAllowed("Wrong PIN: 2 tries left before PIN sign-in is locked")
        return Actor(user_id="u-assoc", session_id="sess-pin", device_id="dev-test"), "Ana Associate"

    assert not _vm(device_engine, clock).state.pin_available
    vm = _vm_with(device_engine, clock, sign_in_pin=fake_pin)
    assert vm.state.pin_available
    vm.submit_pin("", "0421")
    assert vm.state.message == "Enter your user code or scan your badge first" and calls == []
    vm.submit_pin("u-assoc", "12a4")
    assert vm.state.message == "Type your PIN on the number pad" and calls == []
    vm.submit_pin(" u-assoc ", "9999")
    assert (vm.state.message, vm.state.message_kind, vm.state.actor) == (
        "Wrong PIN: 2 tries left before PIN sign-in is locked", "error", None)
    vm.submit_pin("u-assoc", "0421")
    assert calls[-1] == ("u-assoc", "0421") and vm.state.actor is not None
    assert vm.state.message == "Hello Ana" and [t.task_id for t in vm.state.tasks] == ["task-pick-1", "task-count-1"]
    vm.sign_out()
    assert vm.state.pin_available


def test_my_tasks_put_the_most_urgent_then_the_newest_first(device_engine: Engine, clock: FakeClock) -> None:
    from app.domain.commands import CreateTask
    from app.services.bus import MessageBus
    from app.bootstrap import all_handlers
    from app.domain.policy import StorePolicy
    from tests.conftest import MANAGER

    bus = MessageBus(uow_factory(device_engine), all_handlers(), clock=clock, policy=StorePolicy())
    clock.advance(60)
    bus.handle(CreateTask(command_id="c1", task_id="task-new-p3", type="count", priority=3, title="Count B-01-01-1",
                          ref_id="loc-b-1"), MANAGER)
    clock.advance(60)
    bus.handle(CreateTask(command_id="c2", task_id="task-new-p2", type="pick", priority=2, title="Pick later order",
                          ref_id="ord-1"), MANAGER)
    vm = _vm(device_engine, clock)
    vm.submit_badge("BADGE-0001")
    assert [t.task_id for t in vm.state.tasks] == ["task-new-p2", "task-pick-1", "task-new-p3", "task-count-1"]
    assert vm.state.tasks[0].type == "pick"


def test_tapping_a_task_takes_it_and_names_its_screen(device_engine: Engine, clock: FakeClock) -> None:
    vm = _vm_with(device_engine, clock)
    vm.open_task("task-pick-1")
    assert vm.state.message == "Sign in first" and vm.state.route is None
    vm.submit_badge("BADGE-0001")
    vm.open_task("task-count-1")
    route = vm.state.route
    assert route is not None and (route.screen, route.task_id, route.ref_id) == ("counting", "task-count-1", "loc-a-1")
    assert route.title == "Count A-01-01-1" and vm.state.message.startswith("Task is yours until")
    vm.close_route()
    assert vm.state.route is None and vm.state.message == ""  # the claim's message does not linger on My tasks
    other = _vm_with(device_engine, clock)
    other.submit_badge("BADGE-0002")
    other.open_task("task-count-1")  # held by Ana on this handheld: not opened twice
    assert other.state.route is None and other.state.message_kind == "error" and "Ana" in other.state.message
    vm.open_task("task-nope")
    assert vm.state.message == "This task is not on this handheld yet: sync, then try again"
