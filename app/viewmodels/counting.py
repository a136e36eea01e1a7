"""The cycle count screen's state: a blind count, one location at a time. No flet here.

The associate scans the location, then every unit there (or scans an item once and types how many
on the pad first), then presses Submit. Each item of the task at that location gets a count, 0 when
nothing of it was scanned; items found there that the task did not list are counted too. The
expected figure is never shown. What the rule in `app.domain.counting` answers per item:

    provisional       saved (green)
    recount           "Count again": those items are counted again, blind, from zero
    pending_approval  the screen asks for a manager's badge, then sends the same count (same
                      count_id) with that manager's id in `approved_by`

When every line of the task is sent, the task is finished (CompleteTask).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from app.domain.commands import Command, CompleteTask, RecordCount
from app.domain.context import Actor, Clock
from app.domain.errors import DomainError
from app.services.bus import Outcome
from app.services.counting import CountTaskLine
from app.services.handheld import ItemRef
from app.viewmodels.answer import Answer
from app.viewmodels.numpad import NumberEntry
from app.viewmodels.scans import NotUsable, read
from device import ItemScan

SENT = ("provisional", "posted")


@dataclass(frozen=True, slots=True)
class Tally:
    """One item counted at the open location so far, in words."""

    item_id: str
    description: str
    qty: int


@dataclass
class CountState:
    """Everything the count screen draws."""

    title: str = ""
    step: str = "location"
    """location (scan the label), items (scan what is there), approval (scan a manager's badge), done."""
    location_code: str = ""
    """The location to count next, or being counted."""
    stops_left: int = 0
    tallies: list[Tally] = field(default_factory=list)
    recount: bool = False
    """True while counting again what the rule asked to recount."""
    answer: Answer = field(default_factory=Answer)


@dataclass
class _Stop:
    location_id: str
    code: str
    items: dict[str, str]
    """item_id -> description of the task's lines still to send here."""


class CountViewModel:
    """Runs a count task: location, items, submit; recounts and approvals as the rule asks."""

    def __init__(
        self,
        *,
        handle: Callable[[Command, Actor], Outcome],
        task_lines: Callable[[str], list[CountTaskLine]],
        item_by_gtin: Callable[[str], ItemRef],
        approver_by_badge: Callable[[str], tuple[str, str]],
        actor: Callable[[], Actor | None],
        clock: Clock,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._handle = handle
        self._task_lines = task_lines
        self._item_by_gtin = item_by_gtin
        self._approver_by_badge = approver_by_badge
        self._actor = actor
        self._clock = clock
        self._new_id = new_id
        self.task_id: str | None = None
        self.qty = NumberEntry(preset=1, minimum=1)
        self.state = CountState()
        self._stop: _Stop | None = None
        self._counted: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._started_at = clock.now()
        self._pending: list[RecordCount] = []

    # -- the walk ---------------------------------------------------------------------------------

    def open_task(self, task_id: str, title: str = "") -> None:
        """Start (or go on with) a count task at its first location with something left to count."""
        self.task_id = task_id
        self.state = CountState(title=title or "Cycle count", answer=self.state.answer)
        self._pending = []
        self._next_stop()

    def _stops(self) -> list[_Stop]:
        assert self.task_id is not None
        stops: dict[str, _Stop] = {}
        for ln in self._task_lines(self.task_id):
            if ln.status in SENT:
                continue
            stop = stops.setdefault(ln.location_id, _Stop(ln.location_id, ln.location_code, {}))
            stop.items[ln.item_id] = ln.item_description
        return list(stops.values())

    def _next_stop(self) -> None:
        stops = self._stops()
        st = self.state
        st.stops_left, st.tallies, st.recount = len(stops), [], False
        self._counted = {}
        if not stops:
            self._stop = None
            st.step, st.location_code = "done", ""
            self._finish()
            return
        self._stop = stops[0]
        st.step, st.location_code = "location", stops[0].code
        st.answer.say(f"Go to {stops[0].code} and scan its label", "info")

    def _finish(self) -> None:
        actor = self._actor()
        if actor is None or self.task_id is None:
            return
        try:
            self._handle(CompleteTask(command_id=self._new_id(), task_id=self.task_id), actor)
        except DomainError as exc:
            self.state.answer.say(f"All counted, but the task is not done: {exc.message}", "warn")
            return
        self.state.answer.say("Count done: every location is counted", "ok")

    # -- scanning ---------------------------------------------------------------------------------

    def scan(self, text: str) -> None:
        """A location scan opens the count there; item scans count units; in approval, a badge."""
        st = self.state
        if st.step == "approval":
            self._approve(text)
            return
        if self._stop is None:
            st.answer.say("Nothing left to count on this task", "info")
            return
        try:
            scanned = read(text)
        except NotUsable as exc:
            st.answer.say(exc.message, "error")
            return
        if not isinstance(scanned, ItemScan):
            self._scan_location(scanned.code)
            return
        if st.step != "items":
            st.answer.say(f"Scan the location label first: {st.location_code}", "error")
            return
        try:
            item = self._item_by_gtin(scanned.gtin)
        except DomainError as exc:
            st.answer.say(exc.message, "error")
            return
        units = self.qty.value * item.units * (scanned.count or 1)
        self._counted[item.item_id] = self._counted.get(item.item_id, 0) + units
        self._names[item.item_id] = item.description
        self.qty.reset()
        self._tallies()
        st.answer.say(f"+{units} {item.description}", "ok")

    def _scan_location(self, code: str) -> None:
        st = self.state
        stop = self._stop
        assert stop is not None
        if code.upper() != stop.code.upper():
            other = next((s for s in self._stops() if s.code.upper() == code.upper()), None)
            if other is None or st.step == "items":
                st.answer.say(f"Wrong location: scan {stop.code}", "error")
                return
            self._stop = stop = other
            st.location_code = other.code
        if st.step == "items":
            st.answer.say(f"Counting {stop.code}: scan the items, then Submit", "info")
            return
        st.step = "items"
        self._started_at = self._clock.now()
        self._counted = {}
        self._tallies()
        st.answer.say(f"Counting {stop.code}: scan every item, then Submit", "info")

    def undo(self) -> None:
        """Take back the last scan's units (a double scan, a wrong pack)."""
        if not self.state.tallies:
            return
        last = self.state.tallies[-1]
        del self._counted[last.item_id]
        self._tallies()
        self.state.answer.say(f"Cleared {last.description}: scan it again", "info")

    def _tallies(self) -> None:
        self.state.tallies = [Tally(i, self._names.get(i, i), q) for i, q in self._counted.items()]

    # -- submitting -------------------------------------------------------------------------------

    def submit(self) -> None:
        """Send the counts of this location; then recount, ask for a manager, or go to the next stop."""
        st, stop, actor = self.state, self._stop, self._actor()
        if actor is None:
            st.answer.say("Sign in first", "error")
            return
        if stop is None or st.step != "items":
            st.answer.say(f"Scan the location label first: {st.location_code}", "error")
            return
        now = self._clock.now()
        todo = dict(stop.items)
        if not st.recount:
            todo.update({i: self._names.get(i, i) for i in self._counted if i not in todo})
        recount: dict[str, str] = {}
        pending: list[RecordCount] = []
        saved = 0
        for item_id in todo:
            cmd = RecordCount(command_id=self._new_id(), count_id=f"cnt-{self._new_id()}",
                              location_id=stop.location_id, item_id=item_id, counted_qty=self._counted.get(item_id, 0),
                              started_at=self._started_at, counted_at=now, task_id=self.task_id)
            try:
                outcome = self._handle(cmd, actor)
            except DomainError as exc:
                st.answer.say(exc.message, "error")
                return
            status = outcome.data.get("status")
            if status == "recount":
                recount[item_id] = todo[item_id]
            elif status == "pending_approval":
                pending.append(cmd)
            else:
                saved += 1
        if pending:
            self._pending = pending
            st.step = "approval"
            st.answer.say(f"{len(pending)} count{'s' if len(pending) != 1 else ''} differ a lot: "
                          "a manager must scan their badge to approve", "error")
            return
        if recount:
            stop.items = recount
            self._count_again(recount)
            return
        st.answer.say(f"{stop.code} counted: {saved} item{'s' if saved != 1 else ''} saved", "ok")
        said = st.answer.text
        self._next_stop()
        if st.step == "location":
            st.answer.say(f"{said}. Next: scan {st.location_code}", "ok")

    def _count_again(self, items: dict[str, str]) -> None:
        st = self.state
        st.recount, st.step = True, "items"
        self._counted = {}
        self._started_at = self._clock.now()
        self._tallies()
        names = ", ".join(items.values())
        st.answer.say(f"Count again: {names}. Scan each unit, then Submit", "warn")

    def _approve(self, badge: str) -> None:
        st, actor = self.state, self._actor()
        if actor is None:
            st.answer.say("Sign in first", "error")
            return
        try:
            manager_id, name = self._approver_by_badge(badge)
        except DomainError as exc:
            st.answer.say(f"{exc.message}, or Cancel", "error")
            return
        for cmd in self._pending:
            # The same count_id and figures: the stored pending count is sent with the approval.
            approved = RecordCount(command_id=self._new_id(), count_id=cmd.count_id, location_id=cmd.location_id,
                                   item_id=cmd.item_id, counted_qty=cmd.counted_qty, started_at=cmd.started_at,
                                   counted_at=cmd.counted_at, task_id=cmd.task_id, approved_by=manager_id)
            try:
                self._handle(approved, actor)
            except DomainError as exc:
                st.answer.say(exc.message, "error")
                return
        self._pending = []
        code = st.location_code
        self._next_stop()
        st.answer.say(f"{code} counted, approved by {name}" + (f". Next: scan {st.location_code}"
                                                                if st.step == "location" else ""), "ok")

    def cancel_approval(self) -> None:
        """Leave the counts waiting for a manager (kept on the handheld) and go on."""
        if self.state.step != "approval":
            return
        self._pending = []
        code = self.state.location_code
        self._next_stop_after_pending()
        self.state.answer.say(f"{code}: kept for a manager to approve later", "warn")

    def _next_stop_after_pending(self) -> None:
        # Counts pending approval are not sent, so their lines still show: skip this stop for now.
        skip = self._stop.location_id if self._stop is not None else None
        self._next_stop()
        if self._stop is not None and self._stop.location_id == skip:
            rest = [s for s in self._stops() if s.location_id != skip]
            self._stop = rest[0] if rest else None
            self.state.stops_left = len(rest)
            if self._stop is None:
                self.state.step, self.state.location_code = "done", ""
            else:
                self.state.step, self.state.location_code = "location", self._stop.code
