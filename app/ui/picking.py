"""The picking screen: the next stop in big letters, scan its location then the item; short; stage.

Drawing only: decisions are in `app.viewmodels.picking.PickViewModel`. Redraws are targeted
(`app.ui.patch`): a scan sends only the controls whose values changed.
"""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app.ui.camera import CameraFactory, CameraToggle
from app.ui.numpad import build_numpad
from app.ui.patch import Fill, Patch, Redraw, Rows
from app.ui.screen import Screen
from app.ui.widgets import AnswerBanner, ScanFeed, big_button, reason_list, title_row
from app.viewmodels.picking import SHORT_REASONS, PickViewModel, StopView

STEP_WORDS = {"location": "Go to", "item": "Take", "stage": "All picked: scan a staging lane",
              "done": "Order ready"}


def _stop_row(current: Callable[[], StopView]) -> tuple[ft.Control, Fill[StopView]]:
    code = ft.Text(size=14, weight=ft.FontWeight.BOLD, width=96)
    what = ft.Text(size=14, expand=True)
    progress = ft.Text(size=14)

    def fill(s: StopView, patch: Patch) -> None:
        patch.set(code, value=s.location_code)
        patch.set(what, value=s.what)
        if s.done and s.short:
            patch.set(progress, value=f"{s.short} short", color=ft.Colors.ORANGE_900)
        else:
            patch.set(progress, value="done" if s.done else s.progress.split(" picked")[0],
                      color=ft.Colors.GREEN_800 if s.done else None)
    return ft.Row([code, what, progress]), fill


def build_picking(page: ft.Page, vm: PickViewModel, on_home: Callable[[], None],
                  camera: CameraFactory | None = None) -> Screen:
    """Build the picking screen; `on_home` returns to My tasks."""
    title = ft.Text(size=20, weight=ft.FontWeight.BOLD, expand=True)
    banner = AnswerBanner(page)
    step = ft.Text(size=15, color=ft.Colors.BLUE_GREY_700)
    location = ft.Text(size=40, weight=ft.FontWeight.BOLD, color=ft.Colors.BLUE_GREY_900)
    item = ft.Text(size=18, weight=ft.FontWeight.W_600)
    progress = ft.Text(size=15)
    stops = ft.Column(spacing=4)
    stop_rows = Rows(stops, _stop_row)

    redraw = Redraw(page, lambda patch: render(patch), lambda: feed.refocus())
    act = redraw.tap

    def on_scan(text: str, patch: Patch) -> None:
        vm.scan(text)
        render(patch)

    def on_reason(text: str) -> None:
        vm.choose_short_reason(text)
        redraw()
        feed.refocus()

    feed = ScanFeed(page, on_scan)
    cam = CameraToggle(page, camera, on_scan, banner, feed.refocus)
    pad, redraw_pad = build_numpad(page, lambda: vm.qty, lambda: feed.refocus(), label="units per scan (or short)")
    reasons = ft.Column([reason_list(SHORT_REASONS, on_reason, act(vm.cancel_short), "Why short?")], visible=False)
    line_view = ft.Column([
        ft.Row([big_button("Short…", act(vm.short), danger=True)], spacing=8),
        reasons,
        pad,
    ], spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def render(patch: Patch) -> None:
        st = vm.state
        patch.set(title, value=st.title or "Pick")
        banner.show(st.answer, patch)
        patch.set(step, value=STEP_WORDS.get(st.step, st.step))
        patch.set(location, value=st.location_code or ("Staging" if st.step == "stage" else "Done"))
        patch.set(item, value=st.item)
        patch.set(progress, value=(f"{st.progress} · {st.lines_left} line{'s' if st.lines_left != 1 else ''} left"
                                   if st.progress else ""))
        patch.set(line_view, visible=st.step in ("location", "item"))
        patch.set(reasons, visible=st.choosing_reason)
        patch.set(pad, visible=st.step == "item" and not st.choosing_reason)
        stop_rows.show(st.stops, patch)
        redraw_pad(patch)

    card = ft.Container(content=ft.Column([step, location, item, progress], spacing=2), padding=14,
                        border_radius=10, bgcolor=ft.Colors.LIGHT_BLUE_50)
    root = ft.Column([
        title_row(title, on_home, feed.holder),
        banner.root,
        card,
        cam.row(feed.field),
        line_view,
        ft.Text("Walk", size=16, weight=ft.FontWeight.BOLD),
        stops,
    ], spacing=10, visible=False, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    return Screen(root=root, render=redraw, on_key=feed.on_key, focus=feed.refocus, leave=cam.stop)
