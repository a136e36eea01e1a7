"""The picking screen's state: walk an order's lines in pick sequence, location then item. No flet here.

Each stop shows where to go and what to take in big letters. The location label is scanned first:
the wrong one is answered in red ("Wrong location: go to A-03-02-1") before any item is taken. Then
each item scan picks the pad's quantity (1 by default) through ConfirmPick. A line that cannot be
filled is declared short with a reason (ShortPick). When no line is left, the screen asks for a
staging location and StageOrder marks the order ready and the task done.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from app.domain.commands import Command, ConfirmPick, ShortPick, StageOrder
from app.domain.context import Actor
from app.domain.errors import DomainError
from app.services.bus import Outcome
from app.services.picking import PickWalk, PickWalkLine, next_stop
from app.viewmodels.answer import Answer
from app.viewmodels.numpad import NumberEntry
from app.viewmodels.scans import NotUsable, read
from device import ItemScan

SHORT_REASONS = ("None on the shelf", "Not enough on the shelf", "Damaged", "Cannot reach it")


@dataclass(frozen=True, slots=True)
class StopView:
    """One line of the walk, in words, for the list under the current stop."""

    line_id: str
    location_code: str
    what: str
    progress: str
    done: bool
    short: int = 0
    """Units declared short on the line: a finished line with a short is shown as short, not done."""


@dataclass
class PickState:
    """Everything the picking screen draws."""

    title: str = ""
    step: str = "location"
    """location (scan the stop's label), item (scan what to take), stage (scan a staging lane), done."""
    location_code: str = ""
    item: str = ""
    progress: str = ""
    """"1 of 3 picked" for the current line."""
    lines_left: int = 0
    stops: list[StopView] = field(default_factory=list)
    choosing_reason: bool = False
    answer: Answer = field(default_factory=Answer)


class PickViewModel:
    """Runs a pick task from the first stop to staging."""

    def __init__(
        self,
        *,
        handle: Callable[[Command, Actor], Outcome],
        walk: Callable[[str], PickWalk],
        actor: Callable[[], Actor | None],
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._handle = handle
        self._walk = walk
        self._actor = actor
        self._new_id = new_id
        self.task_id: str | None = None
        self.qty = NumberEntry(preset=1, minimum=1)
        self.state = PickState()
        self._line: PickWalkLine | None = None

    def open_task(self, task_id: str) -> None:
        """Start (or go on with) a pick task at its first line with something left."""
        self.task_id = task_id
        self.state = PickState(answer=self.state.answer)
        self._refresh(arrived=False)
        if self.state.step == "location":
            self.state.answer.say(f"Go to {self.state.location_code} and scan its label", "info")

    def _refresh(self, *, arrived: bool) -> None:
        assert self.task_id is not None
        walk = self._walk(self.task_id)
        st = self.state
        st.title = f"Order {walk.order_number} · {walk.order_kind}"
        st.lines_left = walk.lines_left
        st.stops = [StopView(ln.line_id, ln.location_code, f"{ln.qty} × {ln.item_description}",
                             _progress(ln), ln.remaining == 0, ln.short_qty or 0) for ln in walk.lines]
        previous = self._line
        line = next_stop(walk)
        self._line = line
        if line is None:
            st.step = "done" if walk.order_status in ("staged", "collected", "cancelled") else "stage"
            st.location_code, st.item, st.progress = "", "", ""
            return
        st.location_code, st.item, st.progress = line.location_code, line.item_description, _progress(line)
        same_place = previous is not None and previous.location_id == line.location_id
        st.step = "item" if arrived and same_place else "location"
        self.qty = NumberEntry(preset=1, minimum=1, maximum=max(line.remaining, 1))

    def scan(self, text: str) -> None:
        """Location scans check the stop (or stage the order); item scans pick from the stop."""
        st = self.state
        if self.task_id is None or st.step == "done":
            st.answer.say("Open a pick task from My tasks", "info")
            return
        try:
            scanned = read(text)
        except NotUsable as exc:
            st.answer.say(exc.message, "error")
            return
        if st.step == "stage":
            if isinstance(scanned, ItemScan):
                st.answer.say("Everything is picked: scan a staging location label", "error")
                return
            self._stage(scanned.code)
            return
        line = self._line
        assert line is not None
        if not isinstance(scanned, ItemScan):
            if scanned.code.upper() != line.location_code.upper():
                st.answer.say(f"Wrong location: go to {line.location_code}", "error")
                return
            st.step = "item"
            st.answer.say(f"At {line.location_code}: take {line.remaining} × {line.item_description}", "info")
            return
        if st.step != "item":
            st.answer.say(f"Scan the location first: {line.location_code}", "error")
            return
        self._pick(line, scanned.gtin)

    def _pick(self, line: PickWalkLine, gtin: str) -> None:
        st, actor = self.state, self._actor()
        if actor is None or self.task_id is None:
            st.answer.say("Sign in first", "error")
            return
        cmd = ConfirmPick(command_id=self._new_id(), task_id=self.task_id, line_id=line.line_id,
                          scanned_location_code=line.location_code, gtin=gtin, qty=self.qty.value)
        try:
            outcome = self._handle(cmd, actor)
        except DomainError as exc:
            st.answer.say(exc.message, "error")
            return
        self._after(outcome.message)

    def _after(self, message: str) -> None:
        st = self.state
        self._refresh(arrived=True)
        if st.step == "stage":
            st.answer.say(f"{message}. All picked: scan a staging location", "ok")
        elif st.step == "location":
            st.answer.say(f"{message}. Next: go to {st.location_code}", "ok")
        else:
            st.answer.say(message, "ok")

    def short(self) -> None:
        """Start declaring the current line short: the associate picks a reason next."""
        if self._line is None:
            self.state.answer.say("No line to declare short", "error")
            return
        self.state.choosing_reason = True

    def choose_short_reason(self, reason: str) -> None:
        """Declare the rest of the current line short (or the pad's figure if it is lower)."""
        st, line, actor = self.state, self._line, self._actor()
        st.choosing_reason = False
        if line is None or actor is None or self.task_id is None:
            return
        qty = self.qty.value if self.qty.typing else line.remaining
        cmd = ShortPick(command_id=self._new_id(), task_id=self.task_id, line_id=line.line_id, short_qty=qty,
                        reason=reason)
        try:
            outcome = self._handle(cmd, actor)
        except DomainError as exc:
            st.answer.say(exc.message, "error")
            return
        self._after(outcome.message)

    def cancel_short(self) -> None:
        """Not short after all."""
        self.state.choosing_reason = False

    def _stage(self, code: str) -> None:
        st, actor = self.state, self._actor()
        if actor is None or self.task_id is None:
            st.answer.say("Sign in first", "error")
            return
        try:
            outcome = self._handle(StageOrder(command_id=self._new_id(), task_id=self.task_id,
                                              scanned_location_code=code), actor)
        except DomainError as exc:
            st.answer.say(exc.message, "error")
            return
        self._refresh(arrived=True)
        st.step = "done"
        st.answer.say(outcome.message, "ok")


def _progress(line: PickWalkLine) -> str:
    text = f"{line.picked_qty} of {line.qty} picked"
    if line.short_qty:
        text += f", {line.short_qty} short"
    return text
