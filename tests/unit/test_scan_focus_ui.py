"""The scan feed and its focus holder without a browser: a scan reaches the screen once, the field is
sent (cleared) only when it may hold typed keys, and the focus is parked only where it can land."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flet as ft
import pytest

from app.ui import widgets
from app.ui.patch import Patch
from app.ui.widgets import ScanFeed, ScanFocus
from tests.unit.test_camera_ui import FakePage


@dataclass
class Key:
    """The fields of a page key event the feed reads."""

    key: str
    shift: bool = False
    ctrl: bool = False
    alt: bool = False
    meta: bool = False


class RecordingPatch(Patch):
    """A patch that remembers every control marked on it (the feed's patches are made inside it)."""

    marked: list[Any] = []

    def mark(self, control: ft.BaseControl) -> None:
        RecordingPatch.marked.append(control)
        super().mark(control)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    RecordingPatch.marked = []
    monkeypatch.setattr(widgets, "Patch", RecordingPatch)
    return RecordingPatch.marked


def _scan(feed: ScanFeed, code: str) -> None:
    for ch in code:
        feed.on_key(Key(ch))  # type: ignore[arg-type]
    feed.on_key(Key("Enter"))  # type: ignore[arg-type]


def test_a_wedge_scan_reaches_the_screen_once_and_leaves_an_unfocused_field_alone(recorded: list[Any]) -> None:
    got: list[str] = []
    feed = ScanFeed(FakePage(), lambda text, patch: got.append(text))  # type: ignore[arg-type]
    _scan(feed, "4006381333931")
    assert got == ["4006381333931"]
    assert feed.field not in recorded  # nothing was typed into it: nothing to send


def test_the_field_is_cleared_after_a_scan_while_it_has_or_had_the_focus(recorded: list[Any]) -> None:
    feed = ScanFeed(FakePage(), lambda text, patch: None)  # type: ignore[arg-type]
    feed._focus(None)  # type: ignore[arg-type]  # tapped to type by hand: the burst's keys land in it too
    _scan(feed, "4006381333931")
    assert recorded.count(feed.field) == 1
    _scan(feed, "4006381333931")
    assert recorded.count(feed.field) == 2  # still focused: cleared after every scan
    feed._blur(None)  # type: ignore[arg-type]
    _scan(feed, "4006381333931")
    assert recorded.count(feed.field) == 3  # the last clear before the blur may have raced typing
    _scan(feed, "4006381333931")
    assert recorded.count(feed.field) == 3  # no focus since: nothing more to clear


def test_the_focus_is_parked_only_where_it_can_land() -> None:
    page = FakePage()
    holder = ScanFocus(page)  # type: ignore[arg-type]
    holder.park()
    assert page.tasks == []  # on no page: no widget to focus
    column = ft.Column([holder.control], visible=False)
    assert not widgets._showing(holder.control)
    column.visible = True
    assert not widgets._showing(holder.control)  # still not on a page


def test_the_holder_is_announced_as_ready_and_takes_no_space() -> None:
    holder = ScanFocus(FakePage())  # type: ignore[arg-type]
    content = holder.control.content
    assert isinstance(content, ft.Semantics) and content.label == widgets.READY_LABEL
    box = content.content
    assert isinstance(box, ft.Container) and (box.width, box.height) == (1, 1)
