"""The manager tablet keeps the control a manager taps through the periodic refresh.

Flet delivers a tap to the control the client drew, by its id: when a background refresh has
replaced that control in between, the tap finds nothing and is dropped. These tests build the real
tablet (app.ui.manager) on a fake page, with the view-model on a fake service (httpx.MockTransport)
and a fake bus, and deliver taps as Flet does: to the control with the tapped id that is on the page
now, or to nothing. What reaches the browser is checked by tests/e2e/test_manager_tablet.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from types import SimpleNamespace
from typing import Any

import flet as ft
import pytest

import app.ui.manager as tablet_ui
from app.domain.commands import AssignTask, ReprioritiseTask
from app.ui.manager import build_manager
from app.viewmodels.manager import ManagerViewModel
from tests.unit.test_manager_viewmodel import FakeBus, FakeService, task
from tests.unit.test_manager_viewmodel import bus, clock, ended, service, vm  # noqa: F401  (fixtures)


class FakePage:
    """What the tablet uses of `ft.Page`: its controls, dialogs, updates, and one background task."""

    def __init__(self) -> None:
        self.controls: list[ft.Control] = []
        self.dialogs: list[ft.Control] = []
        self.updates = 0
        self.tasks: list[Callable[[], Awaitable[None]]] = []
        self.title = ""
        self.padding: object = None
        self.bgcolor: object = None

    def add(self, *controls: ft.Control) -> None:
        self.controls.extend(controls)

    def update(self, *controls: ft.Control) -> None:
        self.updates += 1

    def run_task(self, handler: Callable[[], Awaitable[None]]) -> None:
        self.tasks.append(handler)

    def show_dialog(self, dialog: ft.Control) -> None:
        self.dialogs.append(dialog)

    def pop_dialog(self) -> None:
        self.dialogs.pop()


def _walk(value: Any, seen: set[int] | None = None) -> Iterator[ft.BaseControl]:
    """Every control under `value`, as Flet's session looks for a live control (dataclass fields, lists)."""
    seen = set() if seen is None else seen
    if id(value) in seen or value is None:
        return
    if isinstance(value, ft.BaseControl):
        seen.add(id(value))
        yield value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        seen.add(id(value))
        for f in dataclasses.fields(value):
            if f.name != "_parent" and not f.metadata.get("skip", False):
                yield from _walk(getattr(value, f.name, None), seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(item, seen)


def _on_page(page: FakePage) -> Iterator[ft.BaseControl]:
    yield from _walk([page.controls, page.dialogs])


def tap(page: FakePage, control: ft.BaseControl, event: str = "click", data: object = None) -> bool:
    """Deliver an event the client sent for `control` as Flet does: to the control on the page with its id."""
    live = next((c for c in _on_page(page) if c._i == control._i), None)
    if live is None:
        return False  # Flet: "Control with ID … not found", the tap is dropped
    handler = getattr(live, f"on_{event}")
    handler(SimpleNamespace(control=live, data=data, name=event))
    return True


def _texts(control: ft.BaseControl) -> list[str]:
    return [str(c.value) for c in _walk(control) if isinstance(c, ft.Text) and c.value]


def _row_of(page: FakePage, title: str) -> ft.Row:
    """The board row showing the task titled `title`."""
    for c in _on_page(page):
        if isinstance(c, ft.Row) and title in _texts(c) and any(
                isinstance(b, ft.OutlinedButton) and b.content == "Assign" for b in c.controls):
            return c
    raise AssertionError(f"no row for {title} on the board; texts: {_texts(ft.Column(page.controls))}")


def _button(controls: Any, label: str) -> ft.BaseControl:
    for c in _walk(controls):
        if isinstance(c, (ft.Button, ft.OutlinedButton, ft.TextButton)) and c.content == label and c.visible is not False:
            return c
    raise AssertionError(f"no button {label!r}")


def _open_tablet(vm: ManagerViewModel) -> FakePage:
    page = FakePage()
    build_manager(page, vm)  # type: ignore[arg-type]
    badge = next(c for c in _on_page(page) if isinstance(c, ft.TextField) and c.label == "Manager badge")
    badge.value = "BADGE-2001"
    assert tap(page, badge, "submit")
    return page


def background_refresh(page: FakePage, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the tablet's periodic refresh run once, as the page loop would, then stop it."""
    monkeypatch.setattr(tablet_ui, "REFRESH_S", 0.0)
    [keep_fresh] = page.tasks
    before = page.updates

    async def once() -> None:
        running = asyncio.ensure_future(keep_fresh())
        deadline = time.monotonic() + 10
        while page.updates == before and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        running.cancel()

    # On a thread of its own: an earlier end-to-end test can leave a loop recorded on this one.
    runner = threading.Thread(target=lambda: asyncio.run(once()))
    runner.start()
    runner.join(15)
    assert page.updates > before, "the periodic refresh did not redraw"


def test_assign_tapped_while_a_refresh_redrew_the_board_opens_for_the_task_tapped(
        vm: ManagerViewModel, service: FakeService, bus: FakeBus, monkeypatch: pytest.MonkeyPatch) -> None:
    page = _open_tablet(vm)
    assign = _button(_row_of(page, "T-2"), "Assign")
    # Between drawing the row and the tap: another device made an urgent task, which goes on top.
    service.tasks.insert(0, task("T-0", priority=1, title="Urgent recount"))
    background_refresh(page, monkeypatch)
    assert "Urgent recount" in _texts(ft.Column(page.controls))

    assert tap(page, assign), "the tap on Assign was dropped: the refresh replaced the button"
    [dialog] = page.dialogs
    assert "Assign T-2 to" in _texts(dialog)
    assert tap(page, _button(page.dialogs, "Ben Ode"))
    assert [c for c in bus.handled if isinstance(c, AssignTask)][-1].task_id == "T-2"
    assert [c for c in bus.handled if isinstance(c, AssignTask)][-1].assignee_id == "U-BEN"


def test_a_priority_chosen_while_a_refresh_redrew_the_board_is_the_one_applied(
        vm: ManagerViewModel, bus: FakeBus, monkeypatch: pytest.MonkeyPatch) -> None:
    page = _open_tablet(vm)
    [priority] = [c for c in _walk(_row_of(page, "T-2")) if isinstance(c, ft.Dropdown)]
    priority.value = "1"  # the client sends the new value first, then the select event
    background_refresh(page, monkeypatch)  # the service still says P3 for T-2
    assert tap(page, priority, "select", "1"), "the choice was dropped: the refresh replaced the dropdown"
    [change] = [c for c in bus.handled if isinstance(c, ReprioritiseTask)]
    assert (change.task_id, change.priority) == ("T-2", 1)


def test_approve_tapped_while_a_refresh_redrew_the_approvals_decides_that_approval(
        vm: ManagerViewModel, service: FakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    page = _open_tablet(vm)
    assert tap(page, _button(page.controls, "Approvals (2)"))
    approve = _button(page.controls, "Approve")  # the count on I-4 at A-02, listed first
    background_refresh(page, monkeypatch)
    assert tap(page, approve), "the tap on Approve was dropped: the refresh replaced the button"
    assert vm.state.message == "Approved: count AP-1"
    assert service.approvals == []


def test_a_refresh_fetched_before_a_change_does_not_draw_over_it(vm: ManagerViewModel, service: FakeService) -> None:
    vm.submit_badge("BADGE-2001")
    fetched = vm.fetch()  # a background refresh, still on its way when the manager acts
    assert vm.assign("T-2", "U-BEN")
    assert not vm.apply(fetched)
    [row] = [r for r in vm.state.board if r.task_id == "T-2"]
    assert row.unsent  # still shown as this tablet's change, waiting to send
    assert vm.apply(vm.fetch())
