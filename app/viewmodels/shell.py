"""The first screens' state: sign-in by badge or PIN, then my tasks and the sync line. No flet here.

My tasks are listed most urgent first (priority 1 before 5), newest first within a priority. Tapping
one takes its lease (ClaimTask, so a second handheld is told who has it) and names the screen that
works it (`Route`): Receive on the task's PO, Put away, Count, or Pick on the task itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from app.domain.commands import ClaimTask, Command
from app.domain.context import Actor, Clock
from app.domain.errors import DomainError
from app.services.bus import Outcome
from app.services.handheld import TaskRef
from app.services.sync_status import SyncStatus
from app.services.tasks import TaskSummary
from app.viewmodels.workflows import Workflows

TYPE_LABELS = {"receive": "Receive", "putaway": "Put away", "count": "Count", "pick": "Pick"}
SCREENS = {"receive": "receiving", "putaway": "putaway", "count": "counting", "pick": "picking"}
MAX_PIN = 12


@dataclass(frozen=True, slots=True)
class Route:
    """Where a tapped task leads: the screen, the task, and the document or place it names."""

    screen: str
    task_id: str
    ref_id: str | None
    title: str


@dataclass(frozen=True, slots=True)
class TaskRowView:
    """One line of the task list, already in words."""

    task_id: str
    headline: str
    detail: str
    urgent: bool
    type: str = ""


@dataclass
class ShellState:
    """Everything the shell screens draw."""

    actor: Actor | None = None
    name: str = ""
    message: str = ""
    message_kind: str = "info"
    """info, ok or error: the colour of the message line."""
    tasks: list[TaskRowView] = field(default_factory=list)
    sync_line: str = ""
    online: bool = False
    parked: int = 0
    """Ops the service refused that wait for a person (the banner's "need attention")."""
    pin_available: bool = False
    """True when this device can sign in by PIN (the PIN service is wired)."""
    route: Route | None = None
    """The screen a tapped task opened, until the screen is left."""


class ShellViewModel:
    """Signs people in and lists their tasks; each action returns nothing and updates `state`."""

    def __init__(
        self,
        *,
        sign_in: Callable[[str], tuple[Actor, str]],
        list_tasks: Callable[[Actor, dt.datetime], list[TaskSummary]],
        sync_status: Callable[[], SyncStatus],
        clock: Clock,
        sign_in_pin: Callable[[str, str], tuple[Actor, str]] | None = None,
        task_ref: Callable[[str], TaskRef] | None = None,
        handle: Callable[[Command, Actor], Outcome] | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        end_session: Callable[[Actor], None] | None = None,
    ) -> None:
        self._end_session = end_session
        self._sign_in = sign_in
        self._sign_in_pin = sign_in_pin
        self._list_tasks = list_tasks
        self._sync_status = sync_status
        self._clock = clock
        self._task_ref = task_ref
        self._handle = handle
        self._new_id = new_id
        self.state = ShellState(pin_available=sign_in_pin is not None)
        self.workflows: Workflows | None = None
        """The workflow screens' view-models, set by the composition root (see app.bootstrap)."""

    def submit_badge(self, text: str) -> None:
        """Sign in with a scanned or typed badge."""
        try:
            actor, name = self._sign_in(text)
        except DomainError as exc:
            self.state.message, self.state.message_kind = exc.message, "error"
            return
        self._signed_in(actor, name)

    def submit_pin(self, user: str, pin: str) -> None:
        """Sign in with a user code (or badge) and a PIN typed on the number pad."""
        if self._sign_in_pin is None:
            self.state.message, self.state.message_kind = "PIN sign-in is not available here: scan your badge", "error"
            return
        user, pin = user.strip(), pin.strip()
        if not user:
            self.state.message, self.state.message_kind = "Enter your user code or scan your badge first", "error"
            return
        if not pin.isdigit() or len(pin) > MAX_PIN:
            self.state.message, self.state.message_kind = "Type your PIN on the number pad", "error"
            return
        try:
            actor, name = self._sign_in_pin(user, pin)
        except DomainError as exc:
            self.state.message, self.state.message_kind = exc.message, "error"
            return
        self._signed_in(actor, name)

    def _signed_in(self, actor: Actor, name: str) -> None:
        self.state.actor, self.state.name = actor, name
        self.state.message, self.state.message_kind = f"Hello {name.split()[0]}", "ok"
        self.refresh()

    def sign_out(self) -> None:
        """End the session on this device: forget the person, and end their session (`end_session`)
        so nothing more is recorded under it, whoever keeps the Actor."""
        actor = self.state.actor
        self.state = ShellState(message="Signed out", message_kind="info", pin_available=self.state.pin_available)
        if actor is not None and self._end_session is not None:
            self._end_session(actor)

    def open_task(self, task_id: str) -> None:
        """Take the tapped task and name the screen that works it (state.route), or say why not."""
        actor = self.state.actor
        if actor is None:
            self.state.message, self.state.message_kind = "Sign in first", "error"
            return
        if self._task_ref is None or self._handle is None:
            self.state.message, self.state.message_kind = "Tasks cannot be opened on this device yet", "error"
            return
        try:
            ref = self._task_ref(task_id)
            screen = SCREENS.get(ref.type)
            if screen is None:
                raise DomainError(f"This handheld has no screen for {ref.type} tasks")
            outcome = self._handle(ClaimTask(command_id=self._new_id(), task_id=task_id), actor)
        except DomainError as exc:
            self.state.message, self.state.message_kind = exc.message, "error"
            return
        title = next((t.headline for t in self.state.tasks if t.task_id == task_id), task_id)
        self.state.route = Route(screen, task_id, ref.ref_id, title)
        self.state.message, self.state.message_kind = outcome.message, "info"

    def close_route(self) -> None:
        """Back to My tasks from a task's screen; what was said when the task opened is old news."""
        self.state.route = None
        self.state.message, self.state.message_kind = "", "info"

    def refresh(self) -> None:
        """Reload the task list and the sync line."""
        now = self._clock.now()
        if self.state.actor is not None:
            listed = sorted(self._list_tasks(self.state.actor, now), key=_urgency)
            self.state.tasks = [_row(t, now) for t in listed]
        status = self._sync_status()
        self.state.sync_line = _sync_line(status, now)
        self.state.online = status.online
        self.state.parked = status.parked


def _urgency(t: TaskSummary) -> tuple[int, float, str]:
    # Most urgent first, then the newest: a task just created outranks an old one of the same priority.
    return (t.priority, -t.created_at.timestamp(), t.task_id)


def _row(t: TaskSummary, now: dt.datetime) -> TaskRowView:
    label = TYPE_LABELS.get(t.type, t.type.title())
    bits = [f"P{t.priority}"]
    if t.due_at is not None:
        when = t.due_at.strftime("%H:%M") if t.due_at.date() == now.date() else t.due_at.strftime("%d %b %H:%M")
        bits.append(("overdue since " if t.due_at < now else "due ") + when)
    if t.line_count:
        bits.append(f"{t.line_count} line{'s' if t.line_count != 1 else ''}")
    if t.held_by:
        bits.append(f"held by {t.held_by}")
    elif t.held_by_me:
        bits.append("yours")
    title = t.title or t.task_id
    headline = title if title.lower().startswith(label.lower()) else f"{label}: {title}"
    return TaskRowView(t.task_id, headline, " · ".join(bits), urgent=t.priority <= 2, type=t.type)


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h {minutes % 60:02d} min ago"


def _sync_line(status: SyncStatus, now: dt.datetime) -> str:
    if status.pending:
        age = status.oldest_pending_age_s(now) or 0.0
        waiting = f"{status.pending} to send (oldest {_ago(age).replace(' ago', '')})" if age >= 60 else f"{status.pending} to send"
    else:
        waiting = "all sent"
    parked = f" · {status.parked} need attention" if status.parked else ""
    if status.last_success_at is None and status.last_pull_at is None:
        head = "Not synced yet"
    else:
        last = max(t for t in (status.last_success_at, status.last_pull_at) if t is not None)
        head = f"{'Online' if status.online else 'Offline'} · last sync {_ago((now - last).total_seconds())}"
    return f"{head} · {waiting}{parked}"
