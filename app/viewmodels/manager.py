"""The manager tablet's state: sign-in, the panels, the task commands, and the offline line. No flet here.

Task commands (create, assign, reassign, reprioritise, cancel) go through this tablet's own bus
and outbox, so they work with no network and reach the service with the next sync. Store-wide
reads come from the service through `StoreReads`; when it cannot be reached, the panels keep
what they last showed and say since when ("Offline: showing the board as of 10:42"); with
nothing fetched yet, the board falls back to the tasks this tablet last pulled. Decisions on
approvals and exceptions need the service, and say so when it is not there.

The service answers store-wide reads only for a manager's open session on this tablet: every read
and decision is made as the signed-in manager (`store(actor)`). When the service says that session
has ended, or the tablet's own bus refuses a command for it, the session is ended on the tablet too
and the screen goes back to sign-in, saying why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from app.domain.commands import AssignTask, CancelTask, Command, CreateTask, ReprioritiseTask
from app.domain.context import Actor, Clock
from app.domain.errors import DomainError
from app.services.bus import Outcome
from app.services.manager import Person
from app.services.people import SESSION_ENDED, SessionExpired
from app.services.sync_status import SyncStatus
from app.viewmodels import manager_rows as rows
from edge_sync.contract import ExceptionRecord, StoreFiguresRecord, TaskRecord, WaitingPutawayRecord
from edge_sync.errors import BadAnswer, SyncError
from edge_sync.errors import SessionExpired as ServiceSessionEnded

PANELS: Final = ("board", "approvals", "exceptions", "devices", "figures")
ANYONE: Final = "__anyone__"
"""The assignee filter/choice meaning "not assigned to anyone"."""
THRESHOLDS: Final = (30, 60, 120, 240)


class StoreReads(Protocol):
    """What the tablet reads from, and decides on, the central service (edge_sync.supervision)."""

    def tasks(self) -> list[TaskRecord]: ...
    def approvals(self) -> Sequence[rows.ApprovalLike]: ...
    def decide(self, approval_id: str, *, approve: bool, note: str) -> object: ...
    def exceptions(self) -> list[ExceptionRecord]: ...
    def resolve(self, exception_id: str, *, note: str) -> object: ...
    def devices(self) -> Sequence[rows.DeviceLike]: ...
    def figures(self) -> StoreFiguresRecord: ...
    def waiting_putaway(self, *, older_than_minutes: float) -> list[WaitingPutawayRecord]: ...


@dataclass(frozen=True, slots=True)
class LocalReads:
    """What the tablet knows by itself (app.services.manager)."""

    people: Callable[[], list[Person]]
    tasks: Callable[[], list[TaskRecord]]
    unsent_task_ids: Callable[[], set[str]]
    sync_status: Callable[[], SyncStatus]


@dataclass
class Snapshot:
    """The store-wide state as last fetched from the service."""

    fetched_at: dt.datetime
    tasks: list[TaskRecord]
    approvals: list[rows.ApprovalLike]
    exceptions: list[ExceptionRecord]
    waiting: list[WaitingPutawayRecord]
    devices: list[rows.DeviceLike]
    figures: StoreFiguresRecord


@dataclass(frozen=True, slots=True)
class Fetched:
    """One refresh's reads, made by `ManagerViewModel.fetch` (possibly on a worker thread)."""

    at: dt.datetime
    actor: Actor | None
    generation: int
    """The view-model's count of the manager's actions when the fetch began."""
    people: list[Person]
    status: SyncStatus
    unsent: frozenset[str] | set[str] = frozenset()
    snapshot: Snapshot | None = None
    error: SyncError | None = None
    session_ended: bool = False


@dataclass
class Filters:
    """The board's filters; None shows all."""

    type: str | None = None
    status: str | None = "active"
    """"active" (not done or cancelled), a task status, or None for every task."""
    assignee: str | None = None
    """A user id, ANYONE for unassigned tasks, or None for all."""


@dataclass
class ManagerState:
    """Everything the tablet draws."""

    actor: Actor | None = None
    name: str = ""
    panel: str = "board"
    message: str = ""
    message_kind: str = "info"
    online: bool = False
    source_line: str = ""
    """Where the panels' data comes from, and since when when offline."""
    sync_line: str = ""
    """This tablet's own outbox."""
    people: list[Person] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    board: list[rows.TaskRow] = field(default_factory=list)
    board_total: int = 0
    approvals: list[rows.ApprovalRow] = field(default_factory=list)
    exceptions: list[rows.ExceptionRow] = field(default_factory=list)
    devices: list[rows.DeviceRow] = field(default_factory=list)
    figures: rows.FiguresView | None = None
    threshold_minutes: int = 60


class ManagerViewModel:
    """The tablet's screens; each action updates `state` and returns nothing."""

    def __init__(
        self,
        *,
        sign_in: Callable[[str], tuple[Actor, str]],
        handle: Callable[[Command, Actor], Outcome],
        store: Callable[[Actor], StoreReads],
        local: LocalReads,
        clock: Clock,
        tz: dt.tzinfo | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        end_session: Callable[[Actor], None] | None = None,
    ) -> None:
        """`store(actor)`: the service as `actor` reads and decides (their session on this tablet);
        `end_session(actor)`: end that session on the tablet (sign-out, or the service ended it)."""
        self._sign_in = sign_in
        self._end_session = end_session
        self._handle = handle
        self._store = store
        self._local = local
        self._clock = clock
        self._tz = tz or dt.UTC
        self._new_id = new_id
        self._snapshot: Snapshot | None = None
        self._unsent: set[str] = set()
        self._generation = 0
        """Counts the manager's actions: a fetch begun before the last one is not drawn (see `apply`)."""
        self.state = ManagerState()

    # --- session --------------------------------------------------------------------------------

    def submit_badge(self, text: str) -> None:
        """Sign in with a manager's badge; associates are refused with the reason."""
        try:
            actor, name = self._sign_in(text)
        except DomainError as exc:
            self._say(exc.message, "error")
            return
        self.state.actor, self.state.name = actor, name
        self._generation += 1
        self._say(f"Hello {name.split()[0]}", "ok")
        self.refresh()

    def sign_out(self) -> None:
        """End the manager's session on this tablet: it records nothing more, and reads nothing more."""
        self._leave("Signed out", "info")

    def _leave(self, message: str, kind: str) -> None:
        actor = self.state.actor
        self._generation += 1
        self.state = ManagerState(message=message, message_kind=kind)
        self._snapshot = None
        self._unsent = set()
        if actor is not None and self._end_session is not None:
            self._end_session(actor)

    def _session_ended(self) -> None:
        """The service or the tablet no longer takes this session: back to sign-in, saying why."""
        self._leave(SESSION_ENDED, "error")

    def show(self, panel: str) -> None:
        """Switch to another panel."""
        if panel in PANELS:
            self.state.panel = panel

    # --- reads ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Fetch the store-wide state; offline, keep what was shown and say since when."""
        self.apply(self.fetch())

    def fetch(self) -> Fetched:
        """Read what `apply` draws, changing nothing: safe to run on a worker thread."""
        now = self._clock.now()
        actor, generation = self.state.actor, self._generation
        people, status = self._local.people(), self._local.sync_status()
        if actor is None:
            return Fetched(now, actor, generation, people, status)
        # Read what this tablet has not sent before asking the service: an op the sync delivers
        # between the two reads is then still shown from here, never lost between both.
        unsent = self._local.unsent_task_ids()
        store = self._store(actor)
        try:
            snapshot = Snapshot(
                fetched_at=now, tasks=store.tasks(), approvals=list(store.approvals()),
                exceptions=store.exceptions(),
                waiting=store.waiting_putaway(older_than_minutes=self.state.threshold_minutes),
                devices=list(store.devices()), figures=store.figures(),
            )
        except ServiceSessionEnded:
            return Fetched(now, actor, generation, people, status, unsent, session_ended=True)
        except SyncError as exc:
            return Fetched(now, actor, generation, people, status, unsent, error=exc)
        return Fetched(now, actor, generation, people, status, unsent, snapshot)

    def apply(self, fetched: Fetched) -> bool:
        """Show what `fetch` read; False, showing nothing, when the manager has acted since it began.

        A background fetch that started before a command (or a sign-in, sign-out or threshold
        change) read the service before that change: the change's own refresh is newer, and
        drawing the older answer over it would show the tap undone until the next refresh.
        """
        if fetched.generation != self._generation or fetched.actor is not self.state.actor:
            return False
        self.state.people = fetched.people
        self.state.sync_line = _own_line(fetched.status)
        if fetched.actor is None:
            return True
        self._unsent = set(fetched.unsent)
        if fetched.session_ended:
            self._session_ended()
            return True
        if fetched.snapshot is not None:
            self._snapshot = fetched.snapshot
            self.state.online = True
            self.state.source_line = f"Live from the store service · updated {rows.clock(fetched.at, self._tz)}"
        elif fetched.error is not None:
            self.state.online = False
            if isinstance(fetched.error, BadAnswer):
                self._say(f"The store service refused to answer: {fetched.error.message}", "error")
            if self._snapshot is not None:
                as_of = rows.clock(self._snapshot.fetched_at, self._tz)
                self.state.source_line = f"Offline: showing the board as of {as_of}"
            else:
                last = fetched.status.last_pull_at
                since = f"this tablet's last sync at {rows.clock(last, self._tz)}" if last else "this tablet's own copy"
                self.state.source_line = f"Offline: showing the board as of {since}; approvals, exceptions and figures need the store service"
        self._draw(fetched.at)
        return True

    def set_filter(self, name: str, value: str | None) -> None:
        """Change one board filter ("type", "status" or "assignee"); None or "" shows all."""
        if name not in ("type", "status", "assignee"):
            raise ValueError(f"no board filter named {name!r}")
        setattr(self.state.filters, name, value or None)
        self._draw(self._clock.now())

    def set_threshold(self, minutes: int) -> None:
        """How long received stock may wait on the dock before it is an exception."""
        if minutes > 0:
            self._generation += 1
            self.state.threshold_minutes = minutes
            self.refresh()

    # --- task commands (through this tablet's outbox) ------------------------------------------

    def create_task(self, *, type: str, title: str, priority: int = 3, assignee_id: str | None = None) -> bool:  # noqa: A002
        """Create a task, for someone or for anyone; True when it was saved."""
        title = title.strip()
        if not title:
            self._say("Give the task a title, e.g. \"Count aisle 3\"", "error")
            return False
        task_id = f"T-{self._new_id()[:12]}"
        return self._command(CreateTask(command_id=self._new_id(), task_id=task_id, type=type, title=title,
                                        priority=priority, assignee_id=_who(assignee_id)))

    def assign(self, task_id: str, assignee_id: str | None) -> bool:
        """Give a task to someone else (or to anyone)."""
        return self._command(AssignTask(command_id=self._new_id(), task_id=task_id, assignee_id=_who(assignee_id)))

    def reprioritise(self, task_id: str, priority: int) -> bool:
        """Make a task more or less urgent (1 most urgent, 5 least)."""
        return self._command(ReprioritiseTask(command_id=self._new_id(), task_id=task_id, priority=priority))

    def cancel(self, task_id: str, reason: str) -> bool:
        """Cancel a task, saying why."""
        return self._command(CancelTask(command_id=self._new_id(), task_id=task_id, reason=reason))

    # --- decisions (on the service) -------------------------------------------------------------

    def decide(self, key: str, *, approve: bool, note: str = "") -> bool:
        """Approve or reject a count, an over-receipt or an override."""
        kind, _, ident = key.partition(":")
        verdict = "Approved" if approve else "Rejected"
        actor = self._actor()
        if actor is None:
            return False
        store = self._store(actor)
        if kind == "count":
            return self._remote(lambda: store.decide(ident, approve=approve, note=note.strip()), f"{verdict}: count {ident}")
        text = f"{verdict.lower()}" + (f": {note.strip()}" if note.strip() else "")
        return self._remote(lambda: store.resolve(ident, note=text), f"{verdict}: {ident}")

    def resolve(self, exception_id: str, note: str) -> bool:
        """Close an exception with a note on what was done."""
        actor = self._actor()
        if actor is None:
            return False
        if not note.strip():
            self._say("Say what was done about it, e.g. \"recounted, 2 found behind the pallet\"", "error")
            return False
        store = self._store(actor)
        return self._remote(lambda: store.resolve(exception_id, note=note.strip()), f"Resolved {exception_id}")

    # --- internals ------------------------------------------------------------------------------

    def _actor(self) -> Actor | None:
        if self.state.actor is None:
            self._say("Sign in with a manager's badge first", "error")
        return self.state.actor

    def _command(self, command: Command) -> bool:
        actor = self._actor()
        if actor is None:
            return False
        self._generation += 1
        try:
            outcome = self._handle(command, actor)
        except SessionExpired:
            self._session_ended()
            return False
        except DomainError as exc:
            self._say(exc.message, "error")
            return False
        suffix = "" if self.state.online else " (saved on this tablet; it goes to the store when online)"
        self._say(outcome.message + suffix, "ok")
        self.refresh()
        return True

    def _remote(self, call: Callable[[], object], done: str) -> bool:
        self._generation += 1
        try:
            call()
        except ServiceSessionEnded:
            self._session_ended()
            return False
        except BadAnswer as exc:
            self._say(f"Not done: {exc.message}", "error")
            self.refresh()
            return False
        except SyncError:
            self._say("Offline: decisions need the store service. Try again when the line above says Live.", "error")
            self.state.online = False
            return False
        self._say(done, "ok")
        self.refresh()
        return True

    def _say(self, message: str, kind: str) -> None:
        self.state.message, self.state.message_kind = message, kind

    def _name_of(self) -> rows.NameOf:
        names = {p.user_id: p.name for p in self.state.people}

        def name_of(user_id: str | None) -> str:
            return "someone" if user_id is None else names.get(user_id, user_id)

        return name_of

    def _draw(self, now: dt.datetime) -> None:
        name_of, tz, snap = self._name_of(), self._tz, self._snapshot
        unsent = self._unsent
        self._draw_board(snap.tasks if snap else [], unsent, name_of, now)
        if snap is None:
            self.state.approvals, self.state.exceptions, self.state.devices, self.state.figures = [], [], [], None
            return
        self.state.approvals = [rows.count_approval_row(a, name_of, tz) for a in snap.approvals] + [
            rows.exception_approval_row(e, name_of, tz) for e in snap.exceptions if e.kind in rows.APPROVAL_KINDS
        ]
        self.state.exceptions = rows.exception_rows(snap.exceptions, snap.waiting, threshold_minutes=self.state.threshold_minutes,
                                                    name_of=name_of, tz=tz)
        self.state.devices = [rows.device_row(d, now, name_of) for d in snap.devices]
        self.state.figures = rows.figures_view(snap.figures, tz)

    def _draw_board(self, remote: list[TaskRecord], unsent: set[str], name_of: rows.NameOf, now: dt.datetime) -> None:
        # The service's board, with this tablet's own changes on top until the service has them.
        by_id = {t.task_id: t for t in remote}
        for task in self._local.tasks():
            if task.task_id in unsent or (self._snapshot is None and task.task_id not in by_id):
                by_id[task.task_id] = task
        tasks = sorted(by_id.values(), key=_urgency)
        f = self.state.filters
        shown = [
            t for t in tasks
            if (f.type is None or t.type.value == f.type)
            and (f.status is None or (t.status.value not in rows.CLOSED if f.status == "active" else t.status.value == f.status))
            and (f.assignee is None or (t.assignee_id is None if f.assignee == ANYONE else t.assignee_id == f.assignee))
        ]
        self.state.board_total = len(tasks)
        self.state.board = [rows.task_row(t, unsent=t.task_id in unsent, name_of=name_of, now=now, tz=self._tz)
                            for t in shown]


def _who(assignee_id: str | None) -> str | None:
    return None if assignee_id in (None, "", ANYONE) else assignee_id


def _urgency(t: TaskRecord) -> tuple[int, int, float, str]:
    due = t.due_at.timestamp() if t.due_at else float("inf")
    return (t.priority, 0 if t.due_at else 1, due, t.task_id)


def _own_line(status: SyncStatus) -> str:
    waiting = f"{status.pending} change{'s' if status.pending != 1 else ''} to send" if status.pending else "all changes sent"
    parked = f" · {status.parked} refused, see Devices" if status.parked else ""
    return f"This tablet: {'online' if status.online else 'offline'} · {waiting}{parked}"
