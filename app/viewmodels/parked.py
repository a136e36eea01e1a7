"""The "needs attention" list: ops the service refused, with its reason; fix and resend, or dismiss.

A refused op is never sent again as it was (see `edge_sync.parked`). Where the op carries a figure a
person can check again (units received, put away, counted, picked, short) or a location, the
associate may correct that one field (the figure on the number pad, the location by scanning its
label) and send the corrected copy as a new op. Anything else can only be dismissed with a reason;
so can a fixable one. No flet here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.domain.context import Actor
from app.domain.errors import DomainError
from app.viewmodels.answer import Answer
from app.viewmodels.numpad import NumberEntry
from app.viewmodels.scans import NotUsable, read
from device import LocationScan
from edge_sync.parked import ParkedOp

TYPE_WORDS = {
    "receipt.receive": "Received units", "receipt.close": "Closed receipt", "putaway.confirm": "Put away",
    "count.record": "Count", "pick.confirm": "Picked units", "pick.short": "Short pick",
    "order.stage": "Staged order", "task.create": "New task", "task.assign": "Task assigned",
    "task.reprioritise": "Task priority", "task.cancel": "Task cancelled", "task.claim": "Task taken",
    "task.release": "Task released", "task.complete": "Task done",
}
FIXABLE: dict[str, tuple[str, str]] = {
    # op type -> (payload field, "qty" or "location"): what a person on the floor can check again.
    "receipt.receive": ("qty", "qty"),
    "putaway.confirm": ("to_location_id", "location"),
    "count.record": ("counted_qty", "qty"),
    "pick.confirm": ("qty", "qty"),
    "pick.short": ("short_qty", "qty"),
    "order.stage": ("staging_location_id", "location"),
}
DISMISS_REASONS = ("Entered by mistake", "Already fixed another way", "Manager told me to")


@dataclass(frozen=True, slots=True)
class ParkedRow:
    """One refused op, in words."""

    seq: int
    headline: str
    reason: str
    when: str
    fix: str
    """What can be corrected ("quantity", "location") or "" when it can only be dismissed."""


@dataclass
class ParkedState:
    """Everything the needs-attention screen draws."""

    rows: list[ParkedRow] = field(default_factory=list)
    selected: int | None = None
    fix_kind: str = ""
    fix_value: str = ""
    """The corrected location's code, once scanned."""
    choosing_reason: bool = False
    answer: Answer = field(default_factory=Answer)


class ParkedViewModel:
    """Lists refused ops and resolves them one by one."""

    def __init__(
        self,
        *,
        list_parked: Callable[[], list[ParkedOp]],
        dismiss: Callable[[int, str, Actor], None],
        resend: Callable[[int, dict[str, Any], Actor], int],
        location_by_code: Callable[[str], tuple[str, str]],
        actor: Callable[[], Actor | None],
        name_of: Callable[[str, str], str | None] = lambda kind, key: None,
    ) -> None:
        self._list = list_parked
        self._name_of = name_of
        self._dismiss = dismiss
        self._resend = resend
        self._location_by_code = location_by_code
        self._actor = actor
        self._ops: dict[int, ParkedOp] = {}
        self._location_id: str | None = None
        self.qty = NumberEntry()
        self.state = ParkedState()

    def load(self) -> None:
        """Refresh the list; say so when nothing needs attention."""
        self._ops = {op.seq: op for op in self._list()}
        self.state.rows = [_row(op, self._name_of) for op in self._ops.values()]
        if self.state.selected not in self._ops:
            self._unselect()
        if not self._ops:
            self.state.answer.say("Nothing needs attention", "ok")

    def select(self, seq: int) -> None:
        """Open one refused op: its reason, and what can be corrected."""
        op = self._ops.get(seq)
        if op is None:
            self.state.answer.say("That one was resolved already", "info")
            self.load()
            return
        st = self.state
        st.selected, st.choosing_reason, st.fix_value = seq, False, ""
        self._location_id = None
        fix = FIXABLE.get(op.type)
        st.fix_kind = fix[1] if fix else ""
        if fix and fix[1] == "qty":
            self.qty = NumberEntry(preset=int(op.payload.get(fix[0]) or 0))
            st.answer.say("Type the right figure on the pad, then Send again", "info")
        elif fix:
            st.answer.say("Scan the right location label, then Send again", "info")
        else:
            st.answer.say("This one cannot be corrected here: dismiss it with a reason", "info")

    def scan(self, text: str) -> None:
        """A location scan sets the corrected location of the op being fixed."""
        st = self.state
        if st.selected is None or st.fix_kind != "location":
            st.answer.say("Open a refused op whose location can be corrected first", "error")
            return
        try:
            scanned = read(text)
        except NotUsable as exc:
            st.answer.say(exc.message, "error")
            return
        if not isinstance(scanned, LocationScan):
            st.answer.say("That is a product barcode: scan the location label", "error")
            return
        try:
            self._location_id, st.fix_value = self._location_by_code(scanned.code)
        except DomainError as exc:
            st.answer.say(exc.message, "error")
            return
        st.answer.say(f"Location {st.fix_value}: press Send again", "info")

    def send_again(self) -> None:
        """Send the corrected copy as a new op."""
        st, actor = self.state, self._actor()
        op = self._ops.get(st.selected or -1)
        fix = FIXABLE.get(op.type) if op is not None else None
        if op is None or fix is None or actor is None:
            st.answer.say("Nothing to send: open a refused op that can be corrected", "error")
            return
        payload = dict(op.payload)
        if fix[1] == "qty":
            if self.qty.value == payload.get(fix[0]):
                st.answer.say("Same figure as before: correct it, or dismiss the op", "error")
                return
            payload[fix[0]] = self.qty.value
        else:
            if self._location_id is None:
                st.answer.say("Scan the right location first", "error")
                return
            payload[fix[0]] = self._location_id
        try:
            self._resend(op.seq, payload, actor)
        except DomainError as exc:
            st.answer.say(exc.message, "error")
            return
        self._unselect()
        self.load()
        st.answer.say("Corrected and queued to send again", "ok")

    def dismiss(self) -> None:
        """Start dismissing the open op: a reason is picked next."""
        if self.state.selected is None:
            return
        self.state.choosing_reason = True

    def choose_reason(self, reason: str) -> None:
        """Dismiss the open op with this reason."""
        st, actor = self.state, self._actor()
        st.choosing_reason = False
        if st.selected is None or actor is None:
            return
        try:
            self._dismiss(st.selected, reason, actor)
        except DomainError as exc:
            st.answer.say(exc.message, "error")
            return
        self._unselect()
        self.load()
        if self._ops:
            st.answer.say("Dismissed", "ok")

    def back(self) -> None:
        """Close the open op without changing it."""
        self._unselect()

    def _unselect(self) -> None:
        st = self.state
        st.selected, st.fix_kind, st.fix_value, st.choosing_reason = None, "", "", False
        self._location_id = None


_WHERE = (("to_location_id", "to"), ("location_id", "at"), ("staging_location_id", "at"))


def _row(op: ParkedOp, name_of: Callable[[str, str], str | None] = lambda kind, key: None) -> ParkedRow:
    """The op in words: what, how many of which item, where ("Put away 1 · Blue mug to F-01-02-3")."""
    p = op.payload
    what = TYPE_WORDS.get(op.type, op.type)
    bits = [str(p[k]) for k in ("qty", "counted_qty", "short_qty") if k in p]
    if p.get("item_id"):
        bits.append(name_of("item", str(p["item_id"])) or str(p["item_id"]))
    else:
        for key in ("gtin", "order_id", "task_id", "receipt_id"):
            if p.get(key):
                bits.append(str(p[key]))
                break
    where = ""
    for key, word in _WHERE:
        if p.get(key):
            code = name_of("location", str(p[key])) or str(p[key])
            where = f" {word} {code}"
            break
    fix = FIXABLE.get(op.type)
    return ParkedRow(op.seq, f"{what} {' · '.join(bits)}".strip() + where, op.reason or "refused, no reason given",
                     _when(op.occurred_at), {"qty": "quantity", "location": "location"}[fix[1]] if fix else "")


def _when(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%d %b %H:%M")
