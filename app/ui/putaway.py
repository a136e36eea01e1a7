"""The directed putaway screen: what waits on the dock, where it goes and why, scan item then location.

Drawing only: decisions are in `app.viewmodels.putaway.PutawayViewModel`. Redraws are targeted
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
from app.viewmodels.putaway import OVERRIDE_REASONS, AwaitingRow, PutawayViewModel


def build_putaway(page: ft.Page, vm: PutawayViewModel, on_home: Callable[[], None],
                  camera: CameraFactory | None = None) -> Screen:
    """Build the putaway screen; `on_home` returns to My tasks."""
    title = ft.Text("Put away", size=22, weight=ft.FontWeight.BOLD, expand=True)
    banner = AnswerBanner(page)
    item = ft.Text(size=18, weight=ft.FontWeight.W_600)
    take = ft.Text(size=15)
    target = ft.Text(size=40, weight=ft.FontWeight.BOLD, color=ft.Colors.BLUE_GREY_900)
    reason = ft.Text(size=15, color=ft.Colors.BLUE_GREY_700)
    override = ft.Text(size=15, color=ft.Colors.AMBER_900, weight=ft.FontWeight.BOLD)
    rows = ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    redraw = Redraw(page, lambda patch: render(patch), lambda: feed.refocus())
    act = redraw.tap

    def on_scan(text: str, patch: Patch) -> None:
        vm.scan(text)
        render(patch)

    def act_reason(text: str) -> None:
        vm.choose_reason(text)
        redraw()
        feed.refocus()

    def make_row(current: Callable[[], AwaitingRow]) -> tuple[ft.Control, Fill[AwaitingRow]]:
        headline = ft.Text(size=17, weight=ft.FontWeight.W_600)
        detail = ft.Text(size=14)

        def select(e: ft.Event[ft.Container]) -> None:
            vm.select(current().key)
            redraw()
            feed.refocus()

        def fill(r: AwaitingRow, patch: Patch) -> None:
            patch.set(headline, value=r.headline)
            patch.set(detail, value=r.detail)
        box = ft.Container(content=ft.Column([headline, detail], spacing=2), padding=12, border_radius=8,
                           bgcolor=ft.Colors.BLUE_GREY_50, on_click=select)
        return box, fill

    feed = ScanFeed(page, on_scan)
    cam = CameraToggle(page, camera, on_scan, banner, feed.refocus)
    pad, redraw_pad = build_numpad(page, lambda: vm.qty, lambda: feed.refocus(), label="units to put away")
    reasons = ft.Column([reason_list(OVERRIDE_REASONS, act_reason, act(vm.cancel_override), "Why elsewhere?")],
                        visible=False)
    listed = Rows(rows, make_row, empty=ft.Text("Nothing waits on the dock", size=16))
    target_card = ft.Container(
        content=ft.Column([ft.Text("Put at", size=14), target, reason, override, item, take], spacing=2),
        padding=14, border_radius=10, bgcolor=ft.Colors.LIGHT_BLUE_50,
    )
    selected_view = ft.Column([
        target_card,
        ft.Row([big_button("Put elsewhere", act(vm.put_elsewhere)),
                big_button("Back to list", act(vm.unselect))], spacing=8),
        reasons,
        pad,
    ], spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def render(patch: Patch) -> None:
        st = vm.state
        banner.show(st.answer, patch)
        selected = st.selected is not None
        patch.set(selected_view, visible=selected)
        patch.set(rows, visible=not selected)
        patch.set(target, value=st.target_code)
        patch.set(reason, value=st.target_reason)
        patch.set(item, value=st.item)
        patch.set(take, value=st.take)
        patch.set(override, value=f"Elsewhere: {st.override_reason}" if st.override_reason else "",
                  visible=bool(st.override_reason))
        patch.set(reasons, visible=st.choosing_reason)
        patch.set(pad, visible=not st.choosing_reason)
        redraw_pad(patch)
        listed.show(st.rows, patch)

    root = ft.Column([
        title_row(title, on_home, feed.holder),
        banner.root,
        cam.row(feed.field),
        selected_view,
        rows,
    ], spacing=10, visible=False, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    return Screen(root=root, render=redraw, on_key=feed.on_key, focus=feed.refocus, leave=cam.stop)
