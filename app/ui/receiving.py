"""The Receiving screen in Flet: pick an ASN, scan items in, set the quantity, close.

Drawing only: decisions are in `app.viewmodels.receiving.ReceivingViewModel`, and scans come in
through `app.ui.widgets.ScanFeed` (page key events; see `app.viewmodels.scan_input` for why not a
self-clearing text field). Between scans the focus rests on the feed's holder (`ScanFocus`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from app.ui.camera import CameraFactory, CameraToggle
from app.ui.patch import Fill, Patch, Rows
from app.ui.widgets import AnswerBanner, ScanFeed
from app.viewmodels.answer import Answer
from app.viewmodels.receiving import AsnChoice, LineView, ReceivingViewModel

LINES_AFTER_S = 0.05
"""How long after a scan's answer the receipt's lines are read back and sent: long enough for the
answer's frame to be painted first (its patch reaches the page and is painted within ~30 ms, p95, on
a shared 2-core machine; bench/RESULTS.md, scan feedback), short enough to pass unseen."""


@dataclass
class ReceivingScreen:
    """The screen's root control and what the shell calls: draw it, and feed it page keys."""

    root: ft.Column
    render: Callable[[], None]
    on_key: Callable[[ft.KeyboardEvent], None]
    focus: Callable[[], None]
    leave: Callable[[], None]


def _line_row(current: Callable[[], LineView]) -> tuple[ft.Control, Fill[LineView]]:
    description = ft.Text(size=15, expand=True)
    progress = ft.Text(size=15, weight=ft.FontWeight.BOLD)

    def fill(ln: LineView, patch: Patch) -> None:
        patch.set(description, value=ln.description)
        patch.set(progress, value=ln.progress,
                  color=ft.Colors.ORANGE_900 if ln.over else ft.Colors.GREEN_800 if ln.done else None)
    return ft.Row([description, progress]), fill


def build_receiving(page: ft.Page, vm: ReceivingViewModel, on_back: Callable[[], None],
                    camera: CameraFactory | None = None) -> ReceivingScreen:
    """Build the Receiving screen's controls; `on_back` returns to the home screen."""
    title = ft.Text(size=20, weight=ft.FontWeight.BOLD, expand=True)
    banner = AnswerBanner(page)
    damaged_text = ft.Text("Damaged: off", size=18, weight=ft.FontWeight.BOLD)
    damaged = ft.Button(content=damaged_text, height=52, expand=True)
    approval = ft.Container(padding=12, border_radius=8, bgcolor=ft.Colors.AMBER_100)
    totals = ft.Text(size=18, weight=ft.FontWeight.W_600, visible=False)
    qty = ft.Text(size=28, weight=ft.FontWeight.BOLD, text_align=ft.TextAlign.CENTER)
    lines = ft.Column(spacing=4, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    asns = ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    closed_lines = ft.Column(spacing=4)
    closed = ft.Column([ft.Text("Discrepancies", size=18, weight=ft.FontWeight.BOLD), closed_lines], spacing=4)
    pick_view = ft.Column(spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    receipt_view = ft.Column(spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH, visible=False)
    line_rows = Rows(lines, _line_row)
    closed_rows = Rows(closed_lines, _closed_row)

    def make_asn(current: Callable[[], AsnChoice]) -> tuple[ft.Control, Fill[AsnChoice]]:
        headline = ft.Text(size=17, weight=ft.FontWeight.W_600)
        detail = ft.Text(size=14)

        def fill(a: AsnChoice, patch: Patch) -> None:
            patch.set(headline, value=a.headline)
            patch.set(detail, value=a.detail)
        box = ft.Container(content=ft.Column([headline, detail], spacing=2), padding=12, border_radius=8,
                           bgcolor=ft.Colors.BLUE_GREY_50, on_click=lambda e: open_asn(current().asn_id))
        return box, fill

    asn_rows = Rows(asns, make_asn, empty=ft.Text("No deliveries to receive on this handheld", size=16))

    def render(patch: Patch) -> None:
        st = vm.state
        in_receipt = st.receipt_id is not None
        patch.set(pick_view, visible=not in_receipt)
        patch.set(receipt_view, visible=in_receipt)
        patch.set(title, value=st.title if in_receipt else "Receive: pick a delivery")
        banner.show(Answer(st.message, st.message_kind, st.answer_no), patch)
        patch.set(damaged_text, value="Damaged: ON" if st.damaged else "Damaged: off")
        patch.set(damaged, bgcolor=ft.Colors.RED_700 if st.damaged else None,
                  color=ft.Colors.WHITE if st.damaged else None)
        patch.set(approval, visible=bool(st.approval_for))
        patch.set(totals, value=st.totals, visible=in_receipt)
        patch.set(qty, value=f"×{st.qty}")
        line_rows.show(st.lines, patch)
        patch.set(closed, visible=bool(st.closed_summary))
        closed_rows.show(st.closed_summary, patch)
        asn_rows.show(st.asns, patch)
        patch.together(answer)

    def redraw() -> None:
        patch = Patch(page)
        render(patch)
        patch.send()

    def submit(text: str, patch: Patch) -> None:
        # The answer and the running count go out first; the receipt's lines are read back after the
        # answer has been painted, in their own small patch: the associate never waits on that read,
        # and the answer's frame lays out and paints only the answer.
        vm.scan(text, read_lines=False)
        render(patch)
        if vm.lines_stale:
            page.run_task(read_lines)

    async def read_lines() -> None:
        await asyncio.sleep(LINES_AFTER_S)
        if vm.lines_stale:
            vm.refresh_lines()
            redraw()

    def open_asn(asn_id: str) -> None:
        feed.clear()
        vm.open_asn(asn_id)
        redraw()
        refocus()

    def on_key(e: ft.KeyboardEvent) -> None:
        if vm.state.receipt_id is None:
            return
        feed.on_key(e)

    def refocus() -> None:
        # A tapped button keeps the focus and a scan's Enter would press it again: park it on the holder.
        feed.refocus()

    def act(fn: Callable[[], None]) -> Callable[[ft.Event[ft.Button]], None]:
        def handler(e: ft.Event[ft.Button]) -> None:
            fn()
            redraw()
            refocus()
        return handler

    def digit(d: int) -> ft.Button:
        return ft.Button(str(d), on_click=act(lambda: vm.press_digit(d)), height=52, expand=True,
                         style=ft.ButtonStyle(text_style=ft.TextStyle(size=22)))

    def leave() -> None:
        vm.back()
        on_back()

    feed = ScanFeed(page, submit, text_size=20)
    cam = CameraToggle(page, camera, lambda text, patch: submit(text, patch) if vm.state.receipt_id else None,
                       banner, refocus)  # as with page keys: a scan counts only inside a receipt
    damaged.on_click = act(vm.toggle_damaged)
    approval.content = ft.Column([
        ft.Text("Manager: scan your badge to approve", size=18, weight=ft.FontWeight.BOLD),
        ft.Button("Cancel: do not receive", on_click=act(vm.cancel_approval), height=48),
    ], spacing=6)
    big = ft.ButtonStyle(text_style=ft.TextStyle(size=24))
    receipt_view.controls = [
        approval,
        cam.row(feed.field),
        ft.Row([damaged]),
        ft.Row([
            ft.Button("−", on_click=act(lambda: vm.set_qty(vm.state.qty - 1)), height=52, style=big),
            ft.Column([ft.Text("next scan", size=13), qty], spacing=0, expand=True,
                      horizontal_alignment=ft.CrossAxisAlignment.CENTER),
            ft.Button("+", on_click=act(lambda: vm.set_qty(vm.state.qty + 1)), height=52, style=big),
            ft.Button("1×", on_click=act(vm.clear_qty), height=52),
        ], spacing=6),
        ft.Row([digit(d) for d in (1, 2, 3, 4, 5)], spacing=6),
        ft.Row([digit(d) for d in (6, 7, 8, 9, 0)], spacing=6),
        ft.Row([
            ft.Button("Close receipt", on_click=act(vm.close), height=52, expand=True,
                      bgcolor=ft.Colors.BLUE_GREY_800, color=ft.Colors.WHITE),
            ft.Button("Later", on_click=act(vm.back), height=52),
        ]),
        lines,
    ]
    pick_view.controls = [closed, asns]
    # The answer and, in a receipt, the running count under it: one patch, so they are painted together.
    answer = ft.Column([banner.root, totals], spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    root = ft.Column([
        ft.Row([title, feed.holder.control, ft.Button("Home", on_click=lambda e: leave())],
               alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
        answer,
        pick_view,
        receipt_view,
    ], spacing=10, visible=False, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    return ReceivingScreen(root=root, render=redraw, on_key=on_key, focus=refocus, leave=cam.stop)


def _closed_row(current: Callable[[], str]) -> tuple[ft.Control, Fill[str]]:
    text = ft.Text(size=15)

    def fill(line: str, patch: Patch) -> None:
        patch.set(text, value=line)
    return text, fill
