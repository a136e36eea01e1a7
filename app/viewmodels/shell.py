"""The first screens' state: sign-in by badge, then my tasks and the sync line. No flet here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from app.domain.context import Actor, Clock
from app.domain.errors import DomainError
from app.services.sync_status import SyncStatus
from app.services.tasks import TaskSummary

TYPE_LABELS = {"receive": "Receive", "putaway": "Put away", "count": "Count", "pick": "Pick"}


@dataclass(frozen=True, slots=True)
class TaskRowView:
    """One line of the task list, already in words."""

    task_id: str
    headline: str
    detail: str
    urgent: bool


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


class ShellViewModel:
    """Signs people in and lists their tasks; each action returns nothing and updates `state`."""

    def __init__(
        self,
        *,
        sign_in: Callable[[str], tuple[Actor, str]],
        list_tasks: Callable[[Actor, dt.datetime], list[TaskSummary]],
        sync_status: Callable[[], SyncStatus],
        clock: Clock,
    ) -> None:
        self._sign_in = sign_in
        self._list_tasks = list_tasks
        self._sync_status = sync_status
        self._clock = clock
        self.state = ShellState()

    def submit_badge(self, text: str) -> None:
        """Sign in with a scanned or typed badge."""
        try:
            actor, name = self._sign_in(text)
        except DomainError as exc:
            self.state.message, self.state.message_kind = exc.message, "error"
            return
        self.state.actor, self.state.name = actor, name
        self.state.message, self.state.message_kind = f"Hello {name.split()[0]}", "ok"
        self.refresh()

    def sign_out(self) -> None:
        """End the session on this device."""
        self.state = ShellState(message="Signed out", message_kind="info")

    def refresh(self) -> None:
        """Reload the task list and the sync line."""
        now = self._clock.now()
        if self.state.actor is not None:
            self.state.tasks = [_row(t, now) for t in self._list_tasks(self.state.actor, now)]
        status = self._sync_status()
        self.state.sync_line = _sync_line(status, now)
        self.state.online = status.online


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
    return TaskRowView(t.task_id, headline, " · ".join(bits), urgent=t.priority <= 2)


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
