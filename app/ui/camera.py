"""The "Camera" toggle every scanning screen shares: a camera read goes down the same path as a wedge scan.

Whether there is a camera, and how to open one, is decided once at start (`app.bootstrap.camera_scanning`)
and handed in as a `CameraFactory`; with none, the toggle is never shown and the screen is as before.
This module knows nothing of OpenCV: the factory's camera decodes frames on its own thread and calls
back there, and each read is handed to the page's loop (`page.run_task`) before it reaches the
screen's `submit(text, patch)`, the same submit its wedge scans go through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import flet as ft

from app.ui.patch import Patch
from app.ui.widgets import AnswerBanner
from device.events import ScanEvent


class Camera(Protocol):
    """What the toggle needs of a camera (`app.services.camera.CameraService` is one)."""

    @property
    def running(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...


CameraFactory = Callable[[Callable[[ScanEvent], None], Callable[[str], None]], Camera]
"""`factory(on_scan, on_error)` makes a stopped camera; both callbacks may run on the camera's thread."""


class CameraToggle:
    """A "Camera" button (shown only with a camera) that starts and stops one; reads become scans."""

    def __init__(self, page: ft.Page, camera: CameraFactory | None, submit: Callable[[str, Patch], None],
                 banner: AnswerBanner, refocus: Callable[[], None] = lambda: None) -> None:
        self._page = page
        self._submit = submit
        self._banner = banner
        self._refocus = refocus
        self._camera = camera(self._read, self._failed) if camera is not None else None
        self._on = False
        self.button = ft.Button(content="Camera", icon=ft.Icons.CAMERA_ALT_OUTLINED, height=56,
                                visible=self._camera is not None, on_click=lambda e: self._toggle())

    def row(self, field: ft.Control) -> ft.Row:
        """The scan field's row: the field, and the toggle beside it only when there is a camera."""
        return ft.Row([field, self.button] if self._camera is not None else [field])

    @property
    def on(self) -> bool:
        """Whether the camera was started here and not stopped since."""
        return self._on

    def _toggle(self) -> None:
        patch = Patch(self._page)
        if self._on:
            self.stop(patch)
        else:
            self.start(patch)
        patch.send()
        self._refocus()

    def start(self, patch: Patch) -> None:
        """Start the camera (no-op without one)."""
        if self._camera is None or self._on:
            return
        self._on = True
        self._camera.start()
        self._draw(patch)

    def stop(self, patch: Patch | None = None) -> None:
        """Stop the camera if it is on (leaving the screen, signing out, a second tap)."""
        if self._camera is None or not self._on:
            return
        self._on = False
        self._camera.stop()
        if patch is not None:
            self._draw(patch)
        else:
            self._draw_now()

    def _draw(self, patch: Patch) -> None:
        patch.set(self.button, content="Camera: ON" if self._on else "Camera",
                  bgcolor=ft.Colors.BLUE_700 if self._on else None, color=ft.Colors.WHITE if self._on else None)

    def _draw_now(self) -> None:
        patch = Patch(self._page)
        self._draw(patch)
        patch.send()

    # Camera thread: hand everything to the page's loop.
    def _read(self, event: ScanEvent) -> None:
        self._page.run_task(self._deliver, event.value)

    def _failed(self, message: str) -> None:
        self._page.run_task(self._report, message)

    # Page loop.
    async def _deliver(self, text: str) -> None:
        if not self._on:
            return  # a read that was on its way when the camera was stopped
        patch = Patch(self._page)
        self._submit(text, patch)
        patch.send()

    async def _report(self, message: str) -> None:
        if self._camera is None or not self._on:
            return
        self._on = False
        self._camera.stop()
        patch = Patch(self._page)
        self._draw(patch)
        self._banner.note(f"Camera stopped: {message}", "error", patch)
        patch.send()
