"""The approvals, exceptions, devices and figures panels. Drawing only: the view-model decides."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app.ui.manager.charts import bar_chart
from app.viewmodels.manager import THRESHOLDS, ManagerViewModel
from app.viewmodels.manager_rows import ApprovalRow, ExceptionRow

Redraw = Callable[[], None]


def _card(*controls: ft.Control, colour: str = ft.Colors.WHITE) -> ft.Container:
    return ft.Container(ft.Row(list(controls), spacing=12, vertical_alignment=ft.CrossAxisAlignment.CENTER),
                        padding=ft.Padding.symmetric(horizontal=12, vertical=10), border_radius=8, bgcolor=colour,
                        border=ft.Border.all(1, ft.Colors.BLUE_GREY_100))


def _lines(headline: str, detail: str) -> ft.Column:
    return ft.Column([ft.Text(headline, size=16, weight=ft.FontWeight.W_600),
                      ft.Text(detail, size=13, color=ft.Colors.BLUE_GREY_700)], spacing=2, expand=True)


def _heading(text: str) -> ft.Text:
    return ft.Text(text, size=22, weight=ft.FontWeight.BOLD)


def _offline_note(vm: ManagerViewModel, what: str) -> list[ft.Control]:
    if vm.state.online or vm.state.figures is not None:
        return []
    return [ft.Text(f"{what} come from the store service, which this tablet cannot reach.", size=15,
                    color=ft.Colors.ORANGE_900)]


def approvals_panel(vm: ManagerViewModel, redraw: Redraw) -> ft.Control:
    """Counts past tolerance, over-receipts and overrides, each with approve and reject."""
    note = ft.TextField(label="Note for the decision (optional)", width=420, dense=True)

    def decide(row: ApprovalRow, approve: bool) -> None:
        if vm.decide(row.key, approve=approve, note=note.value or ""):
            note.value = ""
        redraw()

    rows: list[ft.Control] = [
        _card(ft.Container(ft.Text(r.kind, size=13, weight=ft.FontWeight.W_600), width=150), _lines(r.headline, r.detail),
              ft.Button("Approve", icon=ft.Icons.CHECK, on_click=lambda e, row=r: decide(row, True)),
              ft.OutlinedButton("Reject", icon=ft.Icons.CLOSE, on_click=lambda e, row=r: decide(row, False)))
        for r in vm.state.approvals
    ]
    empty: list[ft.Control] = [ft.Text("Nothing waiting for you", size=16)] if vm.state.online else []
    return ft.Column([_heading(f"Approvals ({len(vm.state.approvals)})"), *_offline_note(vm, "Approvals"), note,
                      ft.Column(rows or empty, spacing=6, scroll=ft.ScrollMode.AUTO, expand=True)],
                     spacing=12, expand=True)


def exceptions_panel(vm: ManagerViewModel, redraw: Redraw) -> ft.Control:
    """Exceptions grouped by kind, stock waiting on the dock, each resolvable with a note."""
    note = ft.TextField(label="What was done (needed to resolve)", width=420, dense=True)
    threshold = ft.Dropdown(label="Not put away after", width=200, value=str(vm.state.threshold_minutes),
                            options=[ft.DropdownOption(key=str(m), text=f"{m} min" if m < 60 else f"{m // 60} h")
                                     for m in THRESHOLDS])

    def on_threshold(e: object) -> None:
        vm.set_threshold(int(threshold.value or 60))
        redraw()

    threshold.on_select = on_threshold

    def resolve(row: ExceptionRow) -> None:
        if row.exception_id is not None and vm.resolve(row.exception_id, note.value or ""):
            note.value = ""
        redraw()

    controls: list[ft.Control] = []
    group = None
    for r in vm.state.exceptions:
        if r.group != group:
            group = r.group
            count = sum(1 for x in vm.state.exceptions if x.group == group)
            controls.append(ft.Text(f"{group} ({count})", size=17, weight=ft.FontWeight.BOLD, color=ft.Colors.BLUE_GREY_800))
        action: ft.Control = (ft.OutlinedButton("Resolve", on_click=lambda e, row=r: resolve(row))
                              if r.exception_id else ft.Text("put it away", size=13, italic=True))
        controls.append(_card(_lines(r.headline, r.detail), action,
                              colour=ft.Colors.WHITE if r.exception_id else ft.Colors.AMBER_50))
    empty: list[ft.Control] = [ft.Text("No open exceptions", size=16)] if vm.state.online else []
    return ft.Column([_heading(f"Exceptions ({sum(1 for r in vm.state.exceptions if r.exception_id)} open)"),
                      *_offline_note(vm, "Exceptions"), ft.Row([note, threshold], spacing=12),
                      ft.Column(controls or empty, spacing=6, scroll=ft.ScrollMode.AUTO, expand=True)],
                     spacing=12, expand=True)


def devices_panel(vm: ManagerViewModel) -> ft.Control:
    """Every device: last sync, what waits, what was refused, how old the oldest waiting change is."""
    def cell(text: str, bold: bool = False) -> ft.DataCell:
        return ft.DataCell(ft.Text(text, size=15, weight=ft.FontWeight.W_600 if bold else None))

    table = ft.DataTable(
        columns=[ft.DataColumn(label=ft.Text(h, weight=ft.FontWeight.BOLD)) for h in
                 ("Device", "Last sync", "Waiting", "Refused", "Oldest waiting", "Lag", "Last user")],
        rows=[
            ft.DataRow(
                cells=[cell(d.device_id, True), cell(d.last_sync), cell(str(d.pending)), cell(str(d.parked)),
                       cell(d.oldest_pending), cell(d.lag), cell(d.who)],
                color=ft.Colors.AMBER_50 if d.attention else None,
            )
            for d in vm.state.devices
        ],
        heading_row_color=ft.Colors.BLUE_GREY_50, column_spacing=36,
    )
    return ft.Column([_heading(f"Devices ({len(vm.state.devices)})"), *_offline_note(vm, "Devices"),
                      ft.Text("Highlighted: refused changes, a queue that is not draining, or no sync for 15 minutes.",
                              size=13, color=ft.Colors.BLUE_GREY_700),
                      ft.Column([table], scroll=ft.ScrollMode.AUTO, expand=True)], spacing=12, expand=True)


def figures_panel(vm: ManagerViewModel) -> ft.Control:
    """Four figures as tiles, and bar charts where a picture helps."""
    f = vm.state.figures
    if f is None:
        return ft.Column([_heading("Store figures"), *_offline_note(vm, "Figures")], spacing=12)
    tiles = ft.Row([
        ft.Container(ft.Column([ft.Text(t.label, size=14, color=ft.Colors.BLUE_GREY_700),
                                ft.Text(t.value, size=28, weight=ft.FontWeight.BOLD),
                                ft.Text(t.caption, size=12, color=ft.Colors.BLUE_GREY_700)], spacing=2),
                     padding=12, border_radius=8, bgcolor=ft.Colors.WHITE, border=ft.Border.all(1, ft.Colors.BLUE_GREY_100),
                     expand=True, height=124)
        for t in f.tiles
    ], spacing=12)
    charts = ft.Row([
        bar_chart(f.putaway_bars, title="Time from receipt to putaway", unit="units"),
        bar_chart(f.lag_bars, title="Oldest change waiting, per device", unit="minutes", colour=ft.Colors.ORANGE_600),
    ], spacing=12, vertical_alignment=ft.CrossAxisAlignment.START)
    return ft.Column([ft.Row([_heading("Store figures"), ft.Text(f.window, size=14, color=ft.Colors.BLUE_GREY_700)],
                             vertical_alignment=ft.CrossAxisAlignment.CENTER),
                      tiles, charts], spacing=12, scroll=ft.ScrollMode.AUTO, expand=True)
