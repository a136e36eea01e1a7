"""The manager tablet's view-model, with the central service behind httpx.MockTransport and a fake bus.

The fake service answers store-wide reads only for Mia's session (X-User-Id, X-Session-Id), as the
real one does (server_stub.authz.READS); the last tests wire the view-model through the real
composition root on a real device database.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.bootstrap import Device, build_device, manager_view_model
from app.domain.commands import AssignTask, CancelTask, Command, CreateTask, ReprioritiseTask
from app.domain.context import Actor, FakeClock
from app.domain.errors import NotAllowed, NotFound
from app.services.bus import Outcome
from app.services import people
from app.services.manager import Person
from app.services.people import SESSION_ENDED, SessionExpired
from app.services.sync_status import SyncStatus
from app.viewmodels.manager import ANYONE, LocalReads, ManagerViewModel
from edge_sync import contract
from edge_sync.client import SyncClient
from edge_sync.contract import Role, TaskRecord, TaskStatus, TaskType
from edge_sync.repositories.master import apply_master_data
from edge_sync.supervision import SupervisionClient
from edge_sync.uow import UnitOfWork
from tests.fixtures.store import STORE_ID, T0, small_store

NOW = dt.datetime(2026, 3, 3, 10, 42, tzinfo=dt.UTC)
MIA = Actor(user_id="U-MGR", session_id="s-1", role="manager", device_id="tablet-1")
PEOPLE = [Person("U-ANA", "Ana Lee", "associate"), Person("U-BEN", "Ben Ode", "associate"), Person("U-MGR", "Mia Roe", "manager")]


def task(task_id: str, *, type: str = "count", status: str = "open", priority: int = 3,  # noqa: A002
         assignee: str | None = None, title: str = "") -> dict[str, Any]:
    return {"task_id": task_id, "type": type, "status": status, "priority": priority, "assignee_id": assignee,
            "title": title or task_id, "created_at": "2026-03-03T08:00:00Z", "lines": []}


class FakeService:
    """The central service's manager endpoints, as data, answering through httpx.MockTransport."""

    def __init__(self) -> None:
        self.up = True
        self.tasks = [task("T-1", priority=1, assignee="U-ANA"), task("T-2", type="pick", status="in_progress"),
                      task("T-3", status="done")]
        self.approvals = [{"approval_id": "AP-1", "count_id": "C-1", "status": "pending", "reason": "count_variance",
                           "item_id": "I-4", "location_id": "A-02", "counted_qty": 0, "balance_qty": 5,
                           "counted_at": "2026-03-03T10:00:00Z", "device_id": "HH-1", "user_id": "U-ANA",
                           "created_at": "2026-03-03T10:01:00Z", "attempt": 1, "started_at": "2026-03-03T09:59:00Z"}]
        self.exceptions = [
            {"exception_id": "EX-1", "kind": "pick_short", "status": "open", "summary": "1 of I-4 short on ORD-1/2: empty",
             "device_id": "HH-1", "user_id": "U-BEN", "created_at": "2026-03-03T09:00:00Z"},
            {"exception_id": "EX-2", "kind": "over_receipt", "status": "open", "summary": "15 of I-1 received against 10",
             "device_id": "HH-1", "user_id": "U-ANA", "created_at": "2026-03-03T09:30:00Z"},
        ]
        self.waiting = [{"item_id": "I-2", "location_id": "DOCK", "qty": 4, "received_at": "2026-03-03T08:12:00Z",
                         "age_minutes": 150.0}]
        self.requests: list[httpx.Request] = []
        self.open_sessions = {("U-MGR", "s-1")}
        """(user, session) pairs the service takes for reads; any other gets 401 session_required."""
        self.refuse_signature = False
        self.decisions_need_session = False
        """The service of today takes decisions with X-User-Id alone; this one asks for the session too."""

    def figures(self) -> dict[str, Any]:
        return {"store_id": "S", "window_start": "2026-03-02T10:42:00Z", "window_end": "2026-03-03T10:42:00Z",
                "putaway_units": 8, "putaway_median_minutes": 10.0, "putaway_p90_minutes": 120.0,
                "putaway_buckets": [{"label": "< 15 min", "units": 4}, {"label": "1-4 h", "units": 4}],
                "waiting_units": 6, "counts": 3, "counts_exact": 1, "count_accuracy_pct": 33.3, "picked_units": 2,
                "short_units": 1, "pick_fill_rate_pct": 66.7, "synced_ops": 3, "sync_lag_p50_seconds": 600.0,
                "sync_lag_p95_seconds": 1800.0,
                "devices": [{"device_id": "HH-1", "lag_seconds": 2.0, "pending": 3, "parked": 1,
                             "oldest_pending_age_seconds": 330.0}]}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path.removeprefix("/v1/stores/S")
        if self.refuse_signature:
            return httpx.Response(401, json={"detail": {"code": "signature_invalid",
                                                        "message": "key tablet-1 is not enrolled in store S"}})
        session = (request.headers.get("X-User-Id"), request.headers.get("X-Session-Id"))
        if request.method == "GET" and path != "/tasks" and session not in self.open_sessions:
            return httpx.Response(401, json={"detail": {"code": "session_required",
                                                        "message": "this read needs the session of a manager"}})
        if request.method == "POST" and self.decisions_need_session and session not in self.open_sessions:
            return httpx.Response(401, json={"detail": {"code": "session_expired", "message": "session s-1 is not open now"}})
        if request.method == "GET":
            answers: dict[str, Any] = {
                "/tasks": self.tasks, "/approvals": self.approvals, "/exceptions": self.exceptions,
                "/putaway-waiting": self.waiting, "/figures": self.figures(),
                "/devices": [{"device_id": "HH-1", "last_seq": 9, "first_seen_at": "2026-03-03T07:00:00Z",
                              "last_seen_at": "2026-03-03T10:40:00Z", "last_op_at": None, "last_user_id": "U-ANA",
                              "lag_seconds": 2.0, "pending": 3, "parked": 1,
                              "oldest_pending_at": "2026-03-03T10:30:00Z", "app_version": "0.1.0"}],
            }
            return httpx.Response(200, json=answers[path])
        if path == "/approvals/AP-1/approve":
            if request.headers.get("X-User-Id") != "U-MGR":
                return httpx.Response(403, json={"detail": {"message": "only a manager may approve counts"}})
            decided = {**self.approvals[0], "status": "approved", "decided_by": "U-MGR"}
            self.approvals = []
            return httpx.Response(200, json=decided)
        if path.startswith("/exceptions/") and path.endswith("/resolve"):
            ident = path.split("/")[2]
            if ident == "EX-9":
                return httpx.Response(409, json={"detail": {"code": "conflict",
                                                            "message": "exception EX-9 was already resolved by U-X"}})
            body = json.loads(request.content)
            self.exceptions = [e for e in self.exceptions if e["exception_id"] != ident]
            return httpx.Response(200, json={"exception_id": ident, "kind": "over_receipt", "status": "resolved",
                                             "summary": "x", "created_at": "2026-03-03T09:30:00Z",
                                             "resolution_note": body["note"]})
        return httpx.Response(404, json={"detail": "not found"})


class FakeBus:
    """Records the commands the tablet sends and keeps the tasks it made, as the local store would."""

    def __init__(self) -> None:
        self.handled: list[Command] = []
        self.local: list[TaskRecord] = []
        self.unsent: set[str] = set()

    def handle(self, command: Command, actor: Actor) -> Outcome:
        if isinstance(command, AssignTask) and command.task_id == "T-GONE":
            raise NotFound("This task is not on this handheld yet: sync, then try again")
        self.handled.append(command)
        if isinstance(command, CreateTask):
            self.local.append(TaskRecord(task_id=command.task_id, type=TaskType(command.type), status=TaskStatus.ASSIGNED
                                         if command.assignee_id else TaskStatus.OPEN, priority=command.priority,
                                         assignee_id=command.assignee_id, title=command.title, created_at=NOW))
        self.unsent.add(getattr(command, "task_id"))
        return Outcome("Task created for Ben Ode" if isinstance(command, CreateTask) else "Done")


def status(last_pull: dt.datetime | None = None, pending: int = 0) -> SyncStatus:
    return SyncStatus(online=True, pending=pending, oldest_pending_at=None, parked=0, last_success_at=last_pull,
                      last_pull_at=last_pull, last_error=None, clock_offset_ms=0)


def sign_in(badge: str) -> tuple[Actor, str]:
    if badge == "BADGE-1001":
        raise NotAllowed("Ana Lee signs in as an associate: the manager tablet needs a manager's badge. Use a handheld.")
    return MIA, "Mia Roe"


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def ended() -> list[Actor]:
    """The sessions the view-model ended on the tablet."""
    return []


@pytest.fixture
def vm(service: FakeService, bus: FakeBus, clock: FakeClock, ended: list[Actor]) -> ManagerViewModel:
    client = SupervisionClient(httpx.Client(transport=httpx.MockTransport(service.handler), base_url="http://svc"),
                               store_id="S")
    local = LocalReads(people=lambda: PEOPLE, tasks=lambda: list(bus.local), unsent_task_ids=lambda: set(bus.unsent),
                       sync_status=lambda: status(NOW - dt.timedelta(minutes=3), pending=len(bus.unsent)))
    ids = iter(f"{n:032x}" for n in range(1, 1000))
    return ManagerViewModel(sign_in=sign_in, handle=bus.handle,
                            store=lambda actor: client.for_session(actor.user_id, actor.session_id), local=local,
                            clock=clock, tz=dt.UTC, new_id=lambda: next(ids), end_session=ended.append)


def signed_in(vm: ManagerViewModel) -> ManagerViewModel:
    vm.submit_badge("BADGE-2001")
    return vm


def test_an_associate_badge_is_refused_with_the_reason(vm: ManagerViewModel, service: FakeService) -> None:
    vm.submit_badge("BADGE-1001")
    assert vm.state.actor is None and vm.state.message_kind == "error"
    assert "needs a manager's badge" in vm.state.message
    assert service.requests == []  # nothing store-wide is read before a manager signs in


def test_a_manager_sees_the_active_board_most_urgent_first_with_names(vm: ManagerViewModel) -> None:
    signed_in(vm)
    assert vm.state.online and vm.state.source_line == "Live from the store service · updated 10:42"
    assert [(r.task_id, r.assignee, r.status_label) for r in vm.state.board] == [
        ("T-1", "Ana Lee", "Open"), ("T-2", "Anyone", "In progress")]
    assert vm.state.board_total == 3


def test_the_board_filters_by_type_status_and_assignee(vm: ManagerViewModel) -> None:
    signed_in(vm)
    vm.set_filter("type", "pick")
    assert [r.task_id for r in vm.state.board] == ["T-2"]
    vm.set_filter("type", None)
    vm.set_filter("status", "done")
    assert [r.task_id for r in vm.state.board] == ["T-3"]
    vm.set_filter("status", None)
    vm.set_filter("assignee", ANYONE)
    assert [r.task_id for r in vm.state.board] == ["T-2", "T-3"]
    vm.set_filter("assignee", "U-ANA")
    assert [r.task_id for r in vm.state.board] == ["T-1"]
    with pytest.raises(ValueError, match="no board filter"):
        vm.set_filter("colour", "red")


def test_task_commands_go_through_the_tablets_bus_and_show_until_sent(vm: ManagerViewModel, bus: FakeBus) -> None:
    signed_in(vm)
    assert vm.create_task(type="count", title="  Count aisle 3 ", priority=2, assignee_id="U-BEN")
    [created] = bus.handled
    assert isinstance(created, CreateTask) and created.title == "Count aisle 3" and created.assignee_id == "U-BEN"
    assert vm.state.message == "Task created for Ben Ode" and vm.state.message_kind == "ok"
    row = next(r for r in vm.state.board if r.task_id == created.task_id)
    assert row.unsent and "waiting to send" in row.detail and row.assignee == "Ben Ode"
    assert vm.assign("T-2", "U-ANA") and vm.assign("T-1", ANYONE)
    assert vm.reprioritise("T-2", 1) and vm.cancel("T-1", "done by the night crew")
    assign, unassign, prio, cancel = bus.handled[1:]
    assert isinstance(assign, AssignTask) and assign.assignee_id == "U-ANA"
    assert isinstance(unassign, AssignTask) and unassign.assignee_id is None
    assert isinstance(prio, ReprioritiseTask) and prio.priority == 1
    assert isinstance(cancel, CancelTask) and cancel.reason == "done by the night crew"
    assert len({c.command_id for c in bus.handled}) == 5


def test_a_refused_command_says_why_and_a_task_needs_a_title(vm: ManagerViewModel, bus: FakeBus) -> None:
    signed_in(vm)
    assert not vm.create_task(type="count", title="   ")
    assert "title" in vm.state.message and bus.handled == []
    assert not vm.assign("T-GONE", "U-ANA")
    assert vm.state.message_kind == "error" and "sync, then try again" in vm.state.message


def test_offline_the_board_stays_as_last_fetched_and_says_since_when(
    vm: ManagerViewModel, service: FakeService, clock: FakeClock, bus: FakeBus
) -> None:
    signed_in(vm)
    service.up = False
    clock.advance(600)
    vm.refresh()
    assert not vm.state.online
    assert vm.state.source_line == "Offline: showing the board as of 10:42"
    assert [r.task_id for r in vm.state.board] == ["T-1", "T-2"] and vm.state.figures is not None
    # Commands still work offline: they wait in the tablet's outbox.
    assert vm.create_task(type="putaway", title="Dock to A-02")
    assert "goes to the store when online" in vm.state.message
    assert any(r.title == "Dock to A-02" and r.unsent for r in vm.state.board)
    # Decisions need the service.
    assert not vm.decide("count:AP-1", approve=True)
    assert vm.state.message.startswith("Offline: decisions need the store service")


def test_offline_from_the_start_the_board_is_the_tablets_own_copy(
    vm: ManagerViewModel, service: FakeService, bus: FakeBus
) -> None:
    service.up = False
    bus.local.append(TaskRecord(task_id="T-7", type=TaskType.PICK, status=TaskStatus.OPEN, priority=2, created_at=NOW))
    signed_in(vm)
    assert vm.state.source_line.startswith("Offline: showing the board as of this tablet's last sync at 10:39")
    assert [r.task_id for r in vm.state.board] == ["T-7"]
    assert vm.state.approvals == [] and vm.state.figures is None


def test_approvals_list_counts_over_receipts_and_overrides_and_decide_them(
    vm: ManagerViewModel, service: FakeService
) -> None:
    signed_in(vm)
    assert [(a.key, a.kind) for a in vm.state.approvals] == [("count:AP-1", "Count"), ("exception:EX-2", "Over-receipt")]
    assert vm.state.approvals[0].headline == "Count of I-4 at A-02: 0 counted, 5 expected (-5)"
    assert vm.decide("count:AP-1", approve=True)
    assert vm.decide("exception:EX-2", approve=False, note="send 5 back")
    resolve = next(r for r in service.requests if r.url.path.endswith("/EX-2/resolve"))
    assert json.loads(resolve.content) == {"note": "rejected: send 5 back"} and resolve.headers["X-User-Id"] == "U-MGR"
    assert vm.state.approvals == [] and vm.state.message == "Rejected: EX-2"


def test_a_refusal_from_the_service_is_shown_in_its_words(vm: ManagerViewModel) -> None:
    signed_in(vm)
    assert not vm.resolve("EX-9", "recounted")
    assert vm.state.message == "Not done: exception EX-9 was already resolved by U-X"
    assert not vm.resolve("EX-1", "  ")
    assert "Say what was done" in vm.state.message


def test_exceptions_are_grouped_with_stock_waiting_past_the_threshold(vm: ManagerViewModel, service: FakeService) -> None:
    signed_in(vm)
    assert [(e.group, e.exception_id) for e in vm.state.exceptions] == [
        ("Short picks", "EX-1"), ("Not put away after 1 h 00 min", None)]
    assert vm.state.exceptions[1].headline == "4 of I-2 waiting at DOCK"
    vm.set_threshold(30)
    waiting = [r for r in service.requests if r.url.path.endswith("/putaway-waiting")]
    assert waiting[-1].url.params["older_than_minutes"] == "30"
    assert vm.state.exceptions[1].group == "Not put away after 30 min"


def test_devices_and_figures_are_in_words(vm: ManagerViewModel) -> None:
    signed_in(vm)
    [device] = vm.state.devices
    assert (device.device_id, device.last_sync, device.pending, device.parked, device.oldest_pending) == (
        "HH-1", "2 min ago", 3, 1, "12 min")
    assert device.attention and device.who == "Ana Lee"
    figures = vm.state.figures
    assert figures is not None
    assert [(t.label, t.value) for t in figures.tiles] == [
        ("Receive to putaway", "10 min"), ("Count accuracy", "33.3 %"), ("Pick fill rate", "66.7 %"),
        ("Sync lag", "10 min")]
    assert [(b.label, b.value) for b in figures.putaway_bars] == [("< 15 min", 4.0), ("1-4 h", 4.0)]
    assert figures.lag_bars[0].text == "3 waiting, oldest 5 min"


def test_signing_out_forgets_the_store_state_and_ends_the_session(vm: ManagerViewModel, ended: list[Actor]) -> None:
    signed_in(vm)
    vm.sign_out()
    assert vm.state.actor is None and vm.state.board == [] and vm.state.message == "Signed out"
    assert ended == [MIA]


def test_every_read_and_decision_names_the_signed_in_managers_session(vm: ManagerViewModel, service: FakeService) -> None:
    signed_in(vm)
    assert vm.decide("count:AP-1", approve=True) and vm.resolve("EX-1", "found it")
    paths = {r.url.path.removeprefix("/v1/stores/S") for r in service.requests}
    assert {"/tasks", "/approvals", "/exceptions", "/putaway-waiting", "/devices", "/figures",
            "/approvals/AP-1/approve", "/exceptions/EX-1/resolve"} <= paths
    assert {(r.headers.get("X-User-Id"), r.headers.get("X-Session-Id")) for r in service.requests} == {("U-MGR", "s-1")}


def test_a_session_the_service_no_longer_takes_goes_back_to_sign_in_saying_why(
    vm: ManagerViewModel, service: FakeService, ended: list[Actor]
) -> None:
    signed_in(vm)
    assert vm.state.online and vm.state.figures is not None
    service.open_sessions.clear()  # ended on the service (12 h passed, or signed out elsewhere)
    vm.refresh()
    assert vm.state.actor is None and vm.state.panel == "board"
    assert (vm.state.message, vm.state.message_kind) == ("Your session has ended: scan your badge to sign in again", "error")
    assert vm.state.board == [] and vm.state.figures is None and vm.state.approvals == []
    assert ended == [MIA]  # ended on the tablet too: it records nothing more under it
    # Signed in again, reads work again; a decision refused for the session also goes back to sign-in.
    service.open_sessions.add(("U-MGR", "s-1"))
    signed_in(vm)
    assert vm.state.online and vm.state.actor == MIA


def test_a_decision_refused_for_the_session_goes_back_to_sign_in(vm: ManagerViewModel, service: FakeService) -> None:
    signed_in(vm)
    service.open_sessions.clear()
    service.decisions_need_session = True
    assert not vm.resolve("EX-1", "recounted")
    assert vm.state.actor is None and vm.state.message == "Your session has ended: scan your badge to sign in again"
    assert service.exceptions[0]["exception_id"] == "EX-1"  # nothing resolved


def test_a_signature_the_service_refuses_is_not_taken_for_an_ended_session(vm: ManagerViewModel, service: FakeService) -> None:
    signed_in(vm)
    service.refuse_signature = True
    vm.refresh()
    assert vm.state.actor is not None and not vm.state.online
    assert vm.state.message_kind == "error" and "did not accept this tablet's signature" in vm.state.message
    assert "key tablet-1 is not enrolled in store S" in vm.state.message


def test_a_command_the_tablet_refuses_for_an_ended_session_goes_back_to_sign_in(
    vm: ManagerViewModel, bus: FakeBus, ended: list[Actor]
) -> None:
    signed_in(vm)

    def expired(command: Command, actor: Actor) -> Outcome:
        raise SessionExpired(SESSION_ENDED)

    vm._handle = expired
    assert not vm.create_task(type="count", title="Count aisle 3")
    assert vm.state.actor is None and vm.state.message == SESSION_ENDED and ended == [MIA]


# --- through the composition root, on a real device database -------------------------------------


class RecordingService:
    """Records sessions as the service's POST /sessions does, and answers the tablet's reads only for
    a session it recorded, on the tablet that signed it in."""

    def __init__(self, role: Role = Role.MANAGER) -> None:
        self.role = role
        self.sessions: dict[str, str] = {}
        self.reads: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(f"/v1/stores/{STORE_ID}")
        if request.method == "POST" and path == "/sessions":
            start = contract.SessionStart.model_validate_json(request.content)
            self.sessions[start.session_id] = start.user_id
            record = contract.SessionRecord(session_id=start.session_id, user_id=start.user_id, device_id=start.device_id,
                                            role=self.role, started_at=T0, expires_at=T0 + contract.SESSION_TTL,
                                            started_online=True)
            return httpx.Response(201, content=record.model_dump_json())
        self.reads.append(request)
        if self.sessions.get(request.headers.get("X-Session-Id", "")) != request.headers.get("X-User-Id"):
            return httpx.Response(401, json={"detail": {"code": "session_required", "message": "no open session"}})
        return httpx.Response(200, json={"/figures": FakeService().figures()}.get(path, []))


@pytest.fixture
def tablet(tmp_path: Path) -> Device:
    """The test store's manager tablet, with its master data, on a fake clock."""
    built = build_device(tmp_path / "tablet.db", store_id=STORE_ID, device_id="tablet-1", clock=FakeClock(T0))
    with UnitOfWork(built.engine) as uow:
        apply_master_data(uow.conn, small_store())
        uow.commit()
    return built


def wired(tablet: Device, service: RecordingService) -> ManagerViewModel:
    """The tablet's view-model from the composition root, its sign-ins and reads going to `service`."""
    http = httpx.Client(base_url="http://service", transport=httpx.MockTransport(service.handler))
    tablet.service.register_session = SyncClient(http, store_id=STORE_ID).start_session  # as start_sync does
    return manager_view_model(tablet, SupervisionClient(http, store_id=STORE_ID))


def test_the_tablet_signs_in_online_and_reads_with_that_session(tablet: Device) -> None:
    service = RecordingService()
    vm = wired(tablet, service)
    vm.submit_badge("BADGE-0002")
    actor = vm.state.actor
    assert actor is not None and actor.started_online and actor.expires_at == T0 + contract.SESSION_TTL
    assert service.sessions == {actor.session_id: "u-mgr"}
    assert vm.state.online, vm.state.message
    assert len(service.reads) == 6
    assert {(r.headers["X-User-Id"], r.headers["X-Session-Id"]) for r in service.reads} == {("u-mgr", actor.session_id)}


def test_signing_out_on_the_tablet_ends_the_session_for_its_commands(tablet: Device) -> None:
    vm = wired(tablet, RecordingService())
    vm.submit_badge("BADGE-0002")
    actor = vm.state.actor
    assert actor is not None
    vm.sign_out()
    with pytest.raises(people.SessionExpired):
        tablet.bus.handle(CreateTask(command_id="c-after", task_id="T-after", type="count", title="late"), actor)


def test_an_associate_badge_on_the_tablet_leaves_no_open_session(tablet: Device) -> None:
    vm = wired(tablet, RecordingService(role=Role.ASSOCIATE))
    vm.submit_badge("BADGE-0001")
    assert vm.state.actor is None and "needs a manager's badge" in vm.state.message
    with tablet.engine.connect() as conn:
        [(session_id, ended_at)] = conn.execute(sa.text("SELECT session_id, ended_at FROM sessions")).all()
    assert ended_at is not None
    actor = people.session_of(tablet.uow, session_id)
    assert actor is not None
    with pytest.raises(people.SessionExpired):
        people.require_active(tablet.uow, actor, T0 + dt.timedelta(minutes=1))
