"""Tasks: managers create, assign, reprioritise and cancel; associates claim, release and complete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import Engine

from app.domain import tasks as rules
from app.domain.commands import (
    AssignTask,
    CancelTask,
    ClaimTask,
    CompleteTask,
    CreateTask,
    ReleaseTask,
    ReprioritiseTask,
    TaskLineInput,
)
from app.domain.context import Actor, FakeClock
from app.domain.errors import DomainError, InvalidState, NotAllowed, NotFound
from app.services import tasks as service
from app.services.bus import MessageBus
from edge_sync.repositories.tasks import TaskRepository
from edge_sync.uow import UnitOfWork, uow_factory
from tests.conftest import ASSOCIATE, MANAGER, outbox_rows
from tests.fixtures.store import T0

OTHER_DEVICE = replace(ASSOCIATE, device_id="dev-other")
MANAGER_ELSEWHERE = replace(MANAGER, device_id="dev-tablet")
NAMES = {"u-assoc": "Ana Associate", "u-mgr": "Max Manager"}


def name_of(user_id: str) -> str:
    return NAMES.get(user_id, user_id)


def a_task(**changes: object) -> rules.TaskSnapshot:
    base = rules.TaskSnapshot(task_id="t-1", type="count", status="open", priority=3, created_at=T0, title="Count A")
    return replace(base, **changes)  # type: ignore[arg-type]


def held(by: Actor, until: dt.datetime, **changes: object) -> rules.TaskSnapshot:
    return a_task(status="in_progress", lease_holder_user_id=by.user_id, lease_holder_device_id=by.device_id,
                  lease_until=until, **changes)


# --- rules, no database -----------------------------------------------------------------------


def test_only_a_manager_creates_assigns_reprioritises_and_cancels() -> None:
    with pytest.raises(NotAllowed, match="Only a manager can create tasks"):
        rules.new_task(ASSOCIATE, task_id="t", type="count", priority=3, now=T0)
    with pytest.raises(NotAllowed, match="Only a manager can assign tasks"):
        rules.assign(a_task(), ASSOCIATE, "u-assoc")
    with pytest.raises(NotAllowed, match="Only a manager can change a task's priority"):
        rules.reprioritise(a_task(), ASSOCIATE, 1)
    with pytest.raises(NotAllowed, match="Only a manager can cancel tasks"):
        rules.cancel(a_task(), ASSOCIATE, "not needed")


def test_a_new_task_is_open_or_assigned_when_it_names_someone() -> None:
    assert rules.new_task(MANAGER, task_id="t", type="pick", priority=2, now=T0).status == "open"
    assigned = rules.new_task(MANAGER, task_id="t", type="pick", priority=2, now=T0, assignee_id="u-assoc")
    assert assigned.status == "assigned"


@pytest.mark.parametrize("priority", [0, 6, -1])
def test_priority_runs_from_one_to_five(priority: int) -> None:
    with pytest.raises(DomainError, match="priority from 1"):
        rules.new_task(MANAGER, task_id="t", type="pick", priority=priority, now=T0)
    with pytest.raises(DomainError, match="priority from 1"):
        rules.reprioritise(a_task(), MANAGER, priority)


def test_an_unknown_task_type_is_refused() -> None:
    with pytest.raises(DomainError, match="Unknown task type"):
        rules.new_task(MANAGER, task_id="t", type="dust", priority=3, now=T0)


def test_cancelling_needs_a_reason() -> None:
    with pytest.raises(DomainError, match="Say why"):
        rules.cancel(a_task(), MANAGER, "   ")
    task, reason = rules.cancel(held(ASSOCIATE, T0 + dt.timedelta(minutes=5)), MANAGER, " shelf replaced ")
    assert (task.status, reason, task.lease_holder_user_id) == ("cancelled", "shelf replaced", None)


@pytest.mark.parametrize(("status", "says"), [("done", "already done"), ("cancelled", "was cancelled")])
def test_a_done_or_cancelled_task_cannot_change(status: str, says: str) -> None:
    closed = a_task(status=status)
    for change in (
        lambda: rules.assign(closed, MANAGER, "u-assoc"),
        lambda: rules.reprioritise(closed, MANAGER, 1),
        lambda: rules.cancel(closed, MANAGER, "again"),
        lambda: rules.claim(closed, ASSOCIATE, now=T0, lease_seconds=60, max_lease_seconds=3600, name_of=name_of),
        lambda: rules.complete(closed, MANAGER, now=T0, lines_left=0, name_of=name_of),
    ):
        with pytest.raises(InvalidState, match=says):
            change()


def test_a_claim_takes_a_lease_that_expires() -> None:
    task = rules.claim(a_task(), ASSOCIATE, now=T0, lease_seconds=900, max_lease_seconds=3600, name_of=name_of)
    assert task.status == "in_progress"
    assert (task.lease_holder_user_id, task.lease_holder_device_id) == ("u-assoc", "dev-test")
    assert task.lease_until == T0 + dt.timedelta(seconds=900)


def test_a_second_claimer_is_told_who_holds_the_task_and_until_when() -> None:
    task = held(ASSOCIATE, T0.replace(hour=14, minute=32))
    with pytest.raises(InvalidState, match="Task held by Ana Associate until 14:32"):
        rules.claim(task, MANAGER_ELSEWHERE, now=T0, lease_seconds=60, max_lease_seconds=3600, name_of=name_of)


def test_the_same_person_on_another_handheld_is_refused_too() -> None:
    task = held(ASSOCIATE, T0 + dt.timedelta(minutes=5))
    with pytest.raises(InvalidState, match="another handheld"):
        rules.claim(task, OTHER_DEVICE, now=T0, lease_seconds=60, max_lease_seconds=3600, name_of=name_of)


def test_claiming_your_own_lease_renews_it() -> None:
    task = held(ASSOCIATE, T0 + dt.timedelta(minutes=1))
    renewed = rules.claim(task, ASSOCIATE, now=T0, lease_seconds=600, max_lease_seconds=3600, name_of=name_of)
    assert renewed.lease_until == T0 + dt.timedelta(minutes=10)


def test_an_expired_lease_can_be_taken() -> None:
    task = held(ASSOCIATE, T0 - dt.timedelta(seconds=1))
    taken = rules.claim(task, MANAGER_ELSEWHERE, now=T0, lease_seconds=60, max_lease_seconds=3600, name_of=name_of)
    assert taken.lease_holder_user_id == "u-mgr"


@pytest.mark.parametrize("seconds", [0, -5, 3601])
def test_a_lease_is_positive_and_no_longer_than_the_store_allows(seconds: int) -> None:
    with pytest.raises(DomainError, match="held for 1 second to 1 hours"):
        rules.claim(a_task(), ASSOCIATE, now=T0, lease_seconds=seconds, max_lease_seconds=3600, name_of=name_of)


def test_a_task_assigned_to_someone_else_cannot_be_claimed_by_an_associate() -> None:
    task = a_task(status="assigned", assignee_id="u-mgr")
    with pytest.raises(NotAllowed, match="assigned to Max Manager: ask a manager to reassign it"):
        rules.claim(task, ASSOCIATE, now=T0, lease_seconds=60, max_lease_seconds=3600, name_of=name_of)
    mine = a_task(status="assigned", assignee_id="u-assoc")
    assert rules.claim(mine, MANAGER, now=T0, lease_seconds=60, max_lease_seconds=3600, name_of=name_of).status \
        == "in_progress"


def test_only_the_holder_releases_and_the_task_goes_back_to_its_assignee_or_to_anyone() -> None:
    task = held(ASSOCIATE, T0 + dt.timedelta(minutes=5))
    with pytest.raises(NotAllowed, match="Only the person holding this task can release it"):
        rules.release(task, MANAGER)
    assert rules.release(task, ASSOCIATE).status == "open"
    back = rules.release(replace(task, assignee_id="u-assoc"), ASSOCIATE)
    assert (back.status, back.lease_until) == ("assigned", None)


def test_completing_needs_the_holder_or_a_manager_and_nothing_left() -> None:
    task = held(ASSOCIATE, T0 + dt.timedelta(minutes=5))
    with pytest.raises(NotAllowed, match="Task held by Ana Associate"):
        rules.complete(task, replace(MANAGER, role="associate"), now=T0, lines_left=0, name_of=name_of)
    with pytest.raises(NotAllowed, match="Take the task first"):
        rules.complete(a_task(), ASSOCIATE, now=T0, lines_left=0, name_of=name_of)
    with pytest.raises(InvalidState, match="2 lines still to do"):
        rules.complete(task, ASSOCIATE, now=T0, lines_left=2, name_of=name_of)
    assert rules.complete(task, ASSOCIATE, now=T0, lines_left=0, name_of=name_of).status == "done"
    assert rules.complete(task, MANAGER, now=T0, lines_left=0, name_of=name_of).status == "done"


def test_assigning_takes_the_task_back_from_whoever_held_it() -> None:
    task = rules.assign(held(ASSOCIATE, T0 + dt.timedelta(minutes=5)), MANAGER, "u-mgr")
    assert (task.status, task.assignee_id, task.lease_holder_user_id) == ("assigned", "u-mgr", None)
    assert rules.assign(task, MANAGER, None).status == "open"


def test_most_urgent_comes_first_then_soonest_due_then_newest() -> None:
    due = T0 + dt.timedelta(hours=1)
    urgent = a_task(task_id="urgent", priority=1)
    due_soon = a_task(task_id="due-soon", due_at=due)
    due_later = a_task(task_id="due-later", due_at=due + dt.timedelta(hours=1))
    newer = a_task(task_id="newer", created_at=T0 + dt.timedelta(minutes=5))
    older = a_task(task_id="older")
    ordered = sorted([older, due_later, newer, urgent, due_soon], key=rules.urgency_key)
    assert [t.task_id for t in ordered] == ["urgent", "due-soon", "due-later", "newer", "older"]


# --- handlers, on the real device database ----------------------------------------------------


@pytest.fixture
def bus(make_bus: Callable[..., MessageBus]) -> MessageBus:
    return make_bus(service.HANDLERS)


def stored(engine: Engine, task_id: str) -> rules.TaskSnapshot:
    with UnitOfWork(engine) as uow:
        row = TaskRepository(uow.conn).get(task_id)
        assert row is not None
        return service.snapshot(row)


def test_a_manager_creates_a_task_and_its_op_in_one_go(bus: MessageBus, device_engine: Engine) -> None:
    cmd = CreateTask(command_id="c-1", task_id="task-new", type="count", priority=1, assignee_id="u-assoc",
                     title="Count BR", ref_id="loc-br-1",
                     lines=(TaskLineInput(line_id="1", item_id="item-mug", location_id="loc-br-1"),))
    outcome = bus.handle(cmd, MANAGER)
    assert outcome.message == "Task created for Ana Associate"
    assert stored(device_engine, "task-new").status == "assigned"
    ops = outbox_rows(device_engine)
    assert [o["type"] for o in ops] == ["task.create"]
    assert ops[0]["payload"]["lines"] == [{"line_id": "1", "item_id": "item-mug", "location_id": "loc-br-1", "qty": 0}]
    assert ops[0]["command_id"] == "c-1"
    again = bus.handle(cmd, MANAGER)
    assert again.repeated and len(outbox_rows(device_engine)) == 1


def test_an_associate_cannot_create_a_task_and_nothing_is_written(bus: MessageBus, device_engine: Engine) -> None:
    with pytest.raises(NotAllowed, match="Only a manager"):
        bus.handle(CreateTask(command_id="c-1", task_id="task-new", type="count"), ASSOCIATE)
    assert outbox_rows(device_engine) == []
    with UnitOfWork(device_engine) as uow:
        assert TaskRepository(uow.conn).get("task-new") is None


def test_creating_refuses_a_taken_id_and_an_unknown_assignee(bus: MessageBus) -> None:
    with pytest.raises(InvalidState, match="already exists"):
        bus.handle(CreateTask(command_id="c-1", task_id="task-pick-1", type="pick"), MANAGER)
    with pytest.raises(NotFound, match="No such person"):
        bus.handle(CreateTask(command_id="c-2", task_id="t-x", type="pick", assignee_id="u-ghost"), MANAGER)


def test_assign_reprioritise_and_cancel_send_their_ops(bus: MessageBus, device_engine: Engine) -> None:
    assert bus.handle(AssignTask(command_id="c-1", task_id="task-count-1", assignee_id="u-assoc"), MANAGER).message \
        == "Task assigned to Ana Associate"
    assert bus.handle(ReprioritiseTask(command_id="c-2", task_id="task-count-1", priority=1), MANAGER).message \
        == "Priority set to 1"
    bus.handle(CancelTask(command_id="c-3", task_id="task-count-1", reason="location emptied"), MANAGER)
    ops = outbox_rows(device_engine)
    assert [(o["type"], o["payload"]) for o in ops] == [
        ("task.assign", {"task_id": "task-count-1", "assignee_id": "u-assoc"}),
        ("task.reprioritise", {"task_id": "task-count-1", "priority": 1}),
        ("task.cancel", {"task_id": "task-count-1", "reason": "location emptied"}),
    ]
    assert stored(device_engine, "task-count-1").status == "cancelled"
    with pytest.raises(InvalidState, match="was cancelled"):
        bus.handle(ReprioritiseTask(command_id="c-4", task_id="task-count-1", priority=2), MANAGER)


def test_an_unknown_task_is_refused_with_a_way_out(bus: MessageBus) -> None:
    with pytest.raises(NotFound, match="sync, then try again"):
        bus.handle(ClaimTask(command_id="c-1", task_id="task-ghost"), ASSOCIATE)


def test_claim_conflict_expiry_and_release_through_the_bus(
    bus: MessageBus, device_engine: Engine, clock: FakeClock
) -> None:
    outcome = bus.handle(ClaimTask(command_id="c-1", task_id="task-count-1", lease_seconds=600), ASSOCIATE)
    assert outcome.message == "Task is yours until 09:10"
    with pytest.raises(InvalidState, match="Task held by Ana Associate until 09:10"):
        bus.handle(ClaimTask(command_id="c-2", task_id="task-count-1"), MANAGER_ELSEWHERE)
    with pytest.raises(NotAllowed, match="Only the person holding"):
        bus.handle(ReleaseTask(command_id="c-3", task_id="task-count-1"), MANAGER_ELSEWHERE)
    clock.advance(601)
    bus.handle(ClaimTask(command_id="c-4", task_id="task-count-1", lease_seconds=60), MANAGER_ELSEWHERE)
    assert stored(device_engine, "task-count-1").lease_holder_user_id == "u-mgr"
    bus.handle(ReleaseTask(command_id="c-5", task_id="task-count-1"), MANAGER_ELSEWHERE)
    released = stored(device_engine, "task-count-1")
    assert (released.status, released.lease_until) == ("open", None)
    types = [o["type"] for o in outbox_rows(device_engine)]
    assert types == ["task.claim", "task.claim", "task.release"]
    assert outbox_rows(device_engine)[0]["payload"]["lease_until"].startswith("2026-11-02T09:10:00")


def test_a_lease_longer_than_the_store_allows_is_refused(bus: MessageBus) -> None:
    with pytest.raises(DomainError, match="held for 1 second to 8 hours"):
        bus.handle(ClaimTask(command_id="c-1", task_id="task-count-1", lease_seconds=9 * 3600), ASSOCIATE)


def test_a_pick_task_with_lines_left_cannot_be_completed(bus: MessageBus) -> None:
    bus.handle(ClaimTask(command_id="c-1", task_id="task-pick-1"), ASSOCIATE)
    with pytest.raises(InvalidState, match="2 lines still to do"):
        bus.handle(CompleteTask(command_id="c-2", task_id="task-pick-1"), ASSOCIATE)


def test_a_count_task_completes_once_every_line_was_counted(
    make_bus: Callable[..., MessageBus], device_engine: Engine
) -> None:
    from app.domain.commands import RecordCount
    from app.services import counting

    bus = make_bus({**service.HANDLERS, **counting.HANDLERS})
    bus.handle(ClaimTask(command_id="c-1", task_id="task-count-1"), ASSOCIATE)
    with pytest.raises(InvalidState, match="1 line still to do"):
        bus.handle(CompleteTask(command_id="c-2", task_id="task-count-1"), ASSOCIATE)
    bus.handle(RecordCount(command_id="c-3", count_id="k-1", task_id="task-count-1", location_id="loc-a-1",
                           item_id="item-mug", counted_qty=18, started_at=T0, counted_at=T0), ASSOCIATE)
    assert bus.handle(CompleteTask(command_id="c-4", task_id="task-count-1"), ASSOCIATE).message == "Task done"
    assert stored(device_engine, "task-count-1").status == "done"
    assert outbox_rows(device_engine)[-1]["type"] == "task.complete"


def test_my_tasks_lists_the_most_urgent_first_then_due_then_newest(
    bus: MessageBus, device_engine: Engine, clock: FakeClock
) -> None:
    due = T0 + dt.timedelta(hours=2)
    for n, (priority, due_at) in enumerate([(3, None), (3, due), (1, None), (3, due - dt.timedelta(hours=1))]):
        clock.advance(60)
        bus.handle(CreateTask(command_id=f"c-{n}", task_id=f"t-{n}", type="putaway", priority=priority,
                              due_at=due_at, assignee_id="u-assoc"), MANAGER)
    bus.handle(CreateTask(command_id="c-other", task_id="t-other", type="putaway", assignee_id="u-mgr"), MANAGER)
    bus.handle(ClaimTask(command_id="c-claim", task_id="t-0"), ASSOCIATE)
    mine = service.my_tasks(uow_factory(device_engine), ASSOCIATE, clock.now(), include_unassigned=False)
    assert [t.task_id for t in mine] == ["t-2", "t-3", "t-1", "t-0"]
    assert mine[-1].held_by_me and mine[-1].status == "in_progress"
    with_open = service.my_tasks(uow_factory(device_engine), ASSOCIATE, clock.now())
    assert {"task-pick-1", "task-count-1"} <= {t.task_id for t in with_open}
    assert "t-other" not in {t.task_id for t in with_open}
