"""The cycle count screen: scan the location, scan what is there (or type how many), submit.

Drawing only: decisions are in `app.viewmodels.counting.CountViewModel`. Blind: no expected figure.
Redraws are targeted (`app.ui.patch`): a scan sends only the controls whose values changed.
"""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app.ui.camera import CameraFactory, CameraToggle
from app.ui.numpad import build_numpad
from app.ui.patch import Fill, Patch, Redraw, Rows
from app.ui.screen import Screen
from app.ui.widgets import AnswerBanner, ScanFeed, big_button, title_row
from app.viewmodels.counting import CountViewModel, Tally

STEP_WORDS = {"location": "Scan the location label", "items": "Counting", "approval": "Manager approval",
              "done": "Done"}


def _tally_row(current: Callable[[], Tally]) -> tuple[ft.Control, Fill[Tally]]:
    description = ft.Text(size=16, expand=True)
    qty = ft.Text(size=22, weight=ft.FontWeight.BOLD)

    def fill(t: Tally, patch: Patch) -> None:
        patch.set(description, value=t.description)
        patch.set(qty, value=str(t.qty))
    return ft.Row([description, qty]), fill


def build_counting(page: ft.Page, vm: CountViewModel, on_home: Callable[[], None],
                   camera: CameraFactory | None = None) -> Screen:
    """Build the count screen; `on_home` returns to My tasks."""
    title = ft.Text(size=22, weight=ft.FontWeight.BOLD, expand=True)
    banner = AnswerBanner(page)
    step = ft.Text(size=15, color=ft.Colors.BLUE_GREY_700)
    location = ft.Text(size=40, weight=ft.FontWeight.BOLD, color=ft.Colors.BLUE_GREY_900)
    left = ft.Text(size=14)
    tallies = ft.Column(spacing=4)
    tally_rows = Rows(tallies, _tally_row, empty=ft.Text("Nothing scanned here yet", size=15))

    redraw = Redraw(page, lambda patch: render(patch), lambda: feed.refocus())
    act = redraw.tap

    def on_scan(text: str, patch: Patch) -> None:
        vm.scan(text)
        render(patch)

    feed = ScanFeed(page, on_scan)
    cam = CameraToggle(page, camera, on_scan, banner, feed.refocus)
    pad, redraw_pad = build_numpad(page, lambda: vm.qty, lambda: feed.refocus(), label="units per next scan")
    counting_view = ft.Column([
        tallies,
        ft.Row([big_button("Submit count", act(vm.submit), primary=True),
                big_button("Undo last", act(vm.undo))], spacing=8),
        pad,
    ], spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    approval_view = ft.Column([
        ft.Text("Ask a manager to scan their badge", size=18, weight=ft.FontWeight.BOLD),
        big_button("Cancel: leave it for later", act(vm.cancel_approval)),
    ], spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def render(patch: Patch) -> None:
        st = vm.state
        patch.set(title, value=st.title or "Cycle count")
        banner.show(st.answer, patch)
        counting = st.step == "items"
        stops = f"{st.stops_left} location{'s' if st.stops_left != 1 else ''} left" if st.stops_left else ""
        step_words = ("Recount: " if st.recount else "") + STEP_WORDS.get(st.step, st.step)
        # The location big while the associate looks for it; once its label is scanned the title says
        # where they are, the card shrinks to one line and the room goes to the tallies and the number
        # pad, so that the screen fits a handheld's 800 px.
        patch.set(step, value=f"{step_words} · {stops}" if counting and stops else step_words)
        patch.set(location, value=st.location_code or "All counted", visible=not counting)
        patch.set(left, value=stops, visible=not counting)
        patch.set(counting_view, visible=st.step == "items")
        patch.set(approval_view, visible=st.step == "approval")
        tally_rows.show(st.tallies, patch)
        redraw_pad(patch)

    card = ft.Container(content=ft.Column([step, location, left], spacing=2), padding=14, border_radius=10,
                        bgcolor=ft.Colors.LIGHT_BLUE_50)
    root = ft.Column([
        title_row(title, on_home, feed.holder),
        banner.root,
        card,
        cam.row(feed.field),
        approval_view,
        counting_view,
    ], spacing=10, visible=False, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    return Screen(root=root, render=redraw, on_key=feed.on_key, focus=feed.refocus, leave=cam.stop)
