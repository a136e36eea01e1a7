"""The directed putaway screen's state. No flet here.

The walk, as the rules in `app.domain.putaway` have it: what waits on the dock is listed with where
it should go and why. The associate scans the item (or taps its line), sees the suggested location
in big letters with its reason, walks there and scans the location label. The right location puts
the units away (green); another location is refused in red ("Wrong location: scan A-03-02-1 ...")
unless the associate first chose "Put elsewhere" and a reason, in which case the next location
scanned is taken, with that reason, as an override.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from app.domain.commands import Command, ConfirmPutaway
from app.domain.context import Actor
from app.domain.errors import DomainError
from app.services.bus import Outcome
from app.services.handheld import ItemRef
from app.services.putaway import AwaitingPutaway
from app.viewmodels.answer import Answer
from app.viewmodels.numpad import NumberEntry
from app.viewmodels.scans import NotUsable, read
from device import ItemScan

OVERRIDE_REASONS = ("Suggested location is full", "Suggested location blocked", "Manager asked for it elsewhere",
                    "Item belongs with its set")


@dataclass(frozen=True, slots=True)
class AwaitingRow:
    """A line of the putaway list, in words."""

    key: str
    item_id: str
    headline: str
    detail: str


@dataclass
class PutawayState:
    """Everything the putaway screen draws."""

    rows: list[AwaitingRow] = field(default_factory=list)
    selected: str | None = None
    """The key of the line being put away (item at a source location), or None: scan an item."""
    item: str = ""
    take: str = ""
    """Where the units come from: "18 waiting at DOCK-1"."""
    target_code: str = ""
    target_reason: str = ""
    override_reason: str | None = None
    choosing_reason: bool = False
    answer: Answer = field(default_factory=Answer)
    step: str = "item"
    """item (scan or tap what to put away), location (scan where it went)."""


class PutawayViewModel:
    """Puts received units away at a scanned location, directed by the suggestion."""

    def __init__(
        self,
        *,
        handle: Callable[[Command, Actor], Outcome],
        awaiting: Callable[[], list[AwaitingPutaway]],
        item_by_gtin: Callable[[str], ItemRef],
        actor: Callable[[], Actor | None],
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._handle = handle
        self._awaiting = awaiting
        self._item_by_gtin = item_by_gtin
        self._actor = actor
        self._new_id = new_id
        self._lines: dict[str, AwaitingPutaway] = {}
        self.task_id: str | None = None
        self.qty = NumberEntry(preset=1, minimum=1)
        self.state = PutawayState()

    def load(self, task_id: str | None = None) -> None:
        """Refresh the list of what waits to be put away (and remember the task it is done for)."""
        if task_id is not None:
            self.task_id = task_id
        self._lines = {_key(a): a for a in self._awaiting()}
        self.state.rows = [
            AwaitingRow(k, a.item_id, f"{a.qty} × {a.description}", f"at {a.from_code} → {a.suggestion.location.code}")
            for k, a in self._lines.items()
        ]
        if self.state.selected not in self._lines:
            self._clear_selection()
        if not self._lines:
            self.state.answer.say("Nothing waits to be put away: close a receipt first", "info")
        elif self.state.selected is None:
            self.state.answer.say("Scan an item from the dock, or tap a line", "info")

    def select(self, key: str) -> None:
        """Take one line of the list: show where it goes, and wait for the location scan."""
        line = self._lines.get(key)
        if line is None:
            self.state.answer.say("That line was put away already: pick another", "error")
            self.load()
            return
        st = self.state
        st.selected, st.step = key, "location"
        st.item = line.description
        st.take = f"{line.qty} waiting at {line.from_code}"
        st.target_code = line.suggestion.location.code
        st.target_reason = line.suggestion.reason
        st.override_reason, st.choosing_reason = None, False
        self.qty.reset(line.qty)
        self.qty.maximum = line.qty
        st.answer.say(f"Take {line.qty} to {st.target_code}, then scan the location", "info")

    def scan(self, text: str) -> None:
        """An item scan picks the line; a location scan confirms where the units went."""
        try:
            scanned = read(text)
        except NotUsable as exc:
            self.state.answer.say(exc.message, "error")
            return
        if isinstance(scanned, ItemScan):
            self._scan_item(scanned.gtin)
        else:
            self._scan_location(scanned.code)

    def _scan_item(self, gtin: str) -> None:
        try:
            item = self._item_by_gtin(gtin)
        except DomainError as exc:
            self.state.answer.say(exc.message, "error")
            return
        keys = [k for k, a in self._lines.items() if a.item_id == item.item_id]
        if not keys:
            self.state.answer.say(f"No {item.description} waits to be put away: scan another item", "error")
            return
        self.select(keys[0])

    def _scan_location(self, code: str) -> None:
        st = self.state
        line = self._lines.get(st.selected or "")
        if line is None:
            st.answer.say("Scan the item first, then the location", "error")
            return
        actor = self._actor()
        if actor is None:
            st.answer.say("Sign in first", "error")
            return
        if not self.qty.ok or self.qty.value < 1:
            st.answer.say(f"Enter how many you put away: 1 to {line.qty}", "error")
            return
        cmd = ConfirmPutaway(
            command_id=self._new_id(), item_id=line.item_id, qty=self.qty.value,
            from_location_id=line.from_location_id, scanned_location_code=code,
            suggested_location_id=line.suggestion.location.location_id, override_reason=st.override_reason,
            task_id=self.task_id,
        )
        try:
            outcome = self._handle(cmd, actor)
        except DomainError as exc:
            st.answer.say(exc.message, "error")
            return
        kind = "warn" if outcome.data.get("over_capacity") or st.override_reason else "ok"
        self._clear_selection()
        self.load()
        st.answer.say(outcome.message, kind)

    def put_elsewhere(self) -> None:
        """Start an override: the associate picks why before scanning another location."""
        if self.state.selected is None:
            self.state.answer.say("Scan the item first", "error")
            return
        self.state.choosing_reason = True

    def choose_reason(self, reason: str) -> None:
        """The override reason: the next location scanned is taken with it."""
        if self.state.selected is None:
            return
        self.state.override_reason, self.state.choosing_reason = reason, False
        self.state.answer.say(f"Elsewhere ({reason}): scan the location you put it at", "warn")

    def cancel_override(self) -> None:
        """Back to the suggested location."""
        self.state.override_reason, self.state.choosing_reason = None, False
        if self.state.selected is not None:
            self.state.answer.say(f"Scan {self.state.target_code}", "info")

    def unselect(self) -> None:
        """Back to the list without putting anything away."""
        self._clear_selection()
        self.load()

    def _clear_selection(self) -> None:
        st = self.state
        st.selected, st.step, st.item, st.take, st.target_code, st.target_reason = None, "item", "", "", "", ""
        st.override_reason, st.choosing_reason = None, False
        self.qty = NumberEntry(preset=1, minimum=1)


def _key(a: AwaitingPutaway) -> str:
    return f"{a.item_id}@{a.from_location_id}"
