"""The screens' Camera toggle: reads reach the screen's scan submit on the page's loop, once; it stops cleanly."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

import pytest

from app import bootstrap
from app.services import camera as camera_service
from app.services.camera import CameraService
from app.ui.camera import CameraToggle
from app.ui.patch import Patch
from app.ui.putaway import build_putaway
from app.ui import widgets
from app.ui.widgets import AnswerBanner
from app.viewmodels.putaway import PutawayViewModel
from device.events import ScanEvent
from tests.unit.test_camera_service import EAN, FakeFrames, _frame


class FakePage:
    """What the toggle and the banner use of a page: `run_task` queues coroutines for the test to run."""

    web = True
    platform = None

    def __init__(self) -> None:
        self.tasks: list[tuple[Callable[..., Awaitable[Any]], tuple[Any, ...], str]] = []

    def run_task(self, handler: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self.tasks.append((handler, args, threading.current_thread().name))

    def run_pending(self) -> None:
        """Run what was queued, on this (the 'page') thread, as the page's loop would.

        The coroutines are stepped by hand rather than by `asyncio.run`, which refuses to start when
        an earlier test of the session has left a running loop recorded on this thread.
        """
        tasks, self.tasks = self.tasks, []
        for handler, args, _ in tasks:
            coro = cast(Coroutine[Any, Any, Any], handler(*args))
            try:
                while True:
                    waited = coro.send(None)
                    assert waited is None, f"a page task waited on {waited!r}: the fake page runs no I/O"
            except StopIteration:
                pass


class FakeCamera:
    """A CameraService-like object the test drives by hand."""

    def __init__(self, on_scan: Callable[[ScanEvent], None], on_error: Callable[[str], None]) -> None:
        self.on_scan, self.on_error = on_scan, on_error
        self.running = False
        self.starts = self.stops = 0

    def start(self) -> None:
        self.running, self.starts = True, self.starts + 1

    def stop(self, timeout: float = 2.0) -> None:
        self.running, self.stops = False, self.stops + 1


def _event(text: str) -> ScanEvent:
    """A camera read of `text` as the real service reports it."""
    got: list[ScanEvent] = []
    source = FakeFrames([_frame(text)] * 4)
    service = CameraService(got.append, open_source=lambda: source)
    service.start()
    assert source.drained.wait(20)
    service.stop()
    assert len(got) == 1
    return got[0]


def _fakes(cams: list[FakeCamera]) -> Callable[[Callable[[ScanEvent], None], Callable[[str], None]], FakeCamera]:
    def make(on_scan: Callable[[ScanEvent], None], on_error: Callable[[str], None]) -> FakeCamera:
        cams.append(FakeCamera(on_scan, on_error))
        return cams[-1]
    return make


def _toggle(page: FakePage, factory: Any) -> tuple[CameraToggle, list[str], AnswerBanner]:
    submitted: list[str] = []
    banner = AnswerBanner(page)  # type: ignore[arg-type]

    def submit(text: str, patch: Patch) -> None:
        assert threading.current_thread() is threading.main_thread(), "a read must reach the screen on its loop"
        submitted.append(text)
    return CameraToggle(page, factory, submit, banner), submitted, banner  # type: ignore[arg-type]


def test_a_code_under_the_camera_reaches_the_screens_scan_once_on_the_page_loop_and_stops_cleanly() -> None:
    page = FakePage()
    source = FakeFrames([_frame(EAN)] * 6)
    made: list[CameraService] = []

    def factory(on_scan: Callable[[ScanEvent], None], on_error: Callable[[str], None]) -> CameraService:
        made.append(CameraService(on_scan, open_source=lambda: source, on_error=on_error))
        return made[0]
    toggle, submitted, _ = _toggle(page, factory)
    assert toggle.button.visible

    toggle._toggle()
    assert toggle.on and made[0].running
    assert source.drained.wait(20), "the camera thread did not get through the frames"
    assert submitted == []  # nothing is submitted from the camera thread itself
    assert [threading.main_thread().name] != [name for _, _, name in page.tasks]
    page.run_pending()
    # The event's value (with its AIM identifier, which `device.interpret` reads) and nothing else.
    assert submitted == ["]E0" + EAN]

    toggle._toggle()
    assert not toggle.on and not made[0].running and source.closed.is_set()
    page.run_pending()
    assert len(submitted) == 1


def test_a_read_still_on_its_way_after_stop_is_dropped_and_stop_twice_is_harmless() -> None:
    page = FakePage()
    cams: list[FakeCamera] = []
    toggle, submitted, _ = _toggle(page, _fakes(cams))
    toggle._toggle()
    event = _event(EAN)
    cams[0].on_scan(event)
    cams[0].on_scan(event)
    toggle.stop()  # leaving the screen: the second read was queued but not yet run
    toggle.stop()
    assert (cams[0].starts, cams[0].stops) == (1, 1)
    assert not toggle.on and not cams[0].running
    page.run_pending()
    assert submitted == []


def test_a_camera_error_stops_it_and_says_so_in_the_banner() -> None:
    page = FakePage()
    cams: list[FakeCamera] = []
    toggle, submitted, banner = _toggle(page, _fakes(cams))
    toggle._toggle()
    cams[0].on_error("No camera found. Connect one and tap Camera again.")
    page.run_pending()
    assert banner.text.value == "Camera stopped: No camera found. Connect one and tap Camera again."
    assert not toggle.on and not cams[0].running and submitted == []


def test_without_a_camera_there_is_no_toggle() -> None:
    page = FakePage()
    toggle, _, _ = _toggle(page, None)
    assert not toggle.button.visible
    toggle._toggle()
    assert not toggle.on and page.tasks == []


def test_the_decision_is_made_once_at_start_from_camera_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(camera_service, "camera_available", lambda device=0: False)
    assert bootstrap.camera_scanning() is None
    monkeypatch.setattr(camera_service, "camera_available", lambda device=0: True)
    factory = bootstrap.camera_scanning()
    assert factory is not None
    service = factory(lambda e: None, lambda m: None)
    assert isinstance(service, CameraService) and not service.running


def _putaway_screen(camera: Any) -> Any:
    vm = PutawayViewModel(handle=lambda command, actor: None, awaiting=lambda: [],  # type: ignore[arg-type,return-value]
                          item_by_gtin=lambda gtin: None, actor=lambda: None)  # type: ignore[arg-type,return-value]
    return build_putaway(FakePage(), vm, lambda: None, camera)  # type: ignore[arg-type]


def _buttons(control: Any) -> list[Any]:
    found = [control] if type(control).__name__ == "Button" else []
    for child in getattr(control, "controls", None) or []:
        found += _buttons(child)
    return found


def test_a_screen_shows_the_toggle_only_with_a_camera_and_stops_it_when_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widgets.ScanFeed, "refocus", lambda self: None)  # the screen is on no page here
    assert not any(b.content == "Camera" for b in _buttons(_putaway_screen(None).root))
    cams: list[FakeCamera] = []
    screen = _putaway_screen(_fakes(cams))
    (button,) = [b for b in _buttons(screen.root) if b.content == "Camera"]
    assert button.visible
    button.on_click(None)
    assert cams[0].running
    screen.leave()
    assert not cams[0].running and cams[0].stops == 1
