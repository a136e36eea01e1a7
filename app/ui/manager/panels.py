"""The approvals, exceptions, devices and figures panels. Drawing only: the view-model decides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from app.ui.manager.charts import bar_chart
from app.ui.manager.keyed import KeyedRows, put
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


class ApprovalsPanel:
    """Counts past tolerance, over-receipts and overrides, each with approve and reject.

    Built once; `render()` changes values in place and keeps each approval's row by its key, so a
    tap that lands while a refresh redraws still reaches the button tapped (see `keyed`).
    """

    def __init__(self, vm: ManagerViewModel, redraw: Redraw) -> None:
        self.vm, self.redraw = vm, redraw
        # on_change keeps the typed note on the Python side, so a background redraw never wipes it.
        self.note = ft.TextField(label="Note for the decision (optional)", width=420, dense=True, on_change=lambda e: None)
        self.heading = _heading("Approvals")
        self.offline = ft.Column(spacing=0)
        column = ft.Column(spacing=6, scroll=ft.ScrollMode.AUTO, expand=True)
        self.empty = ft.Text("Nothing waiting for you", size=16)
        self.rows = KeyedRows(column, self._row, key=lambda r: r.key, empty=self.empty)
        self.root = ft.Column([self.heading, self.offline, self.note, column], spacing=12, expand=True)

    def render(self) -> None:
        """Set the panel from the view-model's state."""
        st = self.vm.state
        put(self.heading, value=f"Approvals ({len(st.approvals)})")
        _set_offline(self.offline, self.vm, "Approvals")
        put(self.empty, visible=st.online)
        self.rows.show(st.approvals)

    def _row(self, current: Callable[[], ApprovalRow]) -> tuple[ft.Control, Callable[[ApprovalRow], None]]:
        kind, headline, detail = ft.Text(size=13, weight=ft.FontWeight.W_600), _headline(), _detail()

        def fill(r: ApprovalRow) -> None:
            put(kind, value=r.kind)
            put(headline, value=r.headline)
            put(detail, value=r.detail)
        return _card(ft.Container(kind, width=150), ft.Column([headline, detail], spacing=2, expand=True),
                     ft.Button("Approve", icon=ft.Icons.CHECK, on_click=lambda e: self._decide(current(), True)),
                     ft.OutlinedButton("Reject", icon=ft.Icons.CLOSE, on_click=lambda e: self._decide(current(), False))), fill

    def _decide(self, row: ApprovalRow, approve: bool) -> None:
        if self.vm.decide(row.key, approve=approve, note=self.note.value or ""):
            self.note.value = ""
        self.redraw()


@dataclass(frozen=True, slots=True)
class _Line:
    """A line of the exceptions panel: a group's heading, or an exception (or stock waiting) in it."""

    key: str
    heading: str = ""
    row: ExceptionRow | None = None


class ExceptionsPanel:
    """Exceptions grouped by kind, stock waiting on the dock, each resolvable with a note.

    Built once; rows are kept by exception id, as the approvals' are (see `keyed`)."""

    def __init__(self, vm: ManagerViewModel, redraw: Redraw) -> None:
        self.vm, self.redraw = vm, redraw
        self.note = ft.TextField(label="What was done (needed to resolve)", width=420, dense=True, on_change=lambda e: None)
        self.threshold = ft.Dropdown(label="Not put away after", width=200, value=str(vm.state.threshold_minutes),
                                     options=[ft.DropdownOption(key=str(m), text=f"{m} min" if m < 60 else f"{m // 60} h")
                                              for m in THRESHOLDS])
        self.threshold.on_select = lambda e: self._threshold(e.data if isinstance(e.data, str) else self.threshold.value)
        self.heading = _heading("Exceptions")
        self.offline = ft.Column(spacing=0)
        column = ft.Column(spacing=6, scroll=ft.ScrollMode.AUTO, expand=True)
        self.empty = ft.Text("No open exceptions", size=16)
        self.rows = KeyedRows(column, self._line, key=lambda line: line.key, empty=self.empty)
        self.root = ft.Column([self.heading, self.offline, ft.Row([self.note, self.threshold], spacing=12), column],
                              spacing=12, expand=True)

    def render(self) -> None:
        """Set the panel from the view-model's state."""
        st = self.vm.state
        put(self.heading, value=f"Exceptions ({sum(1 for r in st.exceptions if r.exception_id)} open)")
        put(self.threshold, value=str(st.threshold_minutes))
        _set_offline(self.offline, self.vm, "Exceptions")
        put(self.empty, visible=st.online)
        lines: list[_Line] = []
        group = None
        for r in st.exceptions:
            if r.group != group:
                group = r.group
                count = sum(1 for x in st.exceptions if x.group == r.group)
                lines.append(_Line(f"group:{r.group}", heading=f"{r.group} ({count})"))
            key = f"exception:{r.exception_id}" if r.exception_id else f"waiting:{r.headline}:{r.detail}"
            lines.append(_Line(key, row=r))
        self.rows.show(lines)

    def _line(self, current: Callable[[], _Line]) -> tuple[ft.Control, Callable[[_Line], None]]:
        first = current()
        if first.row is None:
            heading = ft.Text(size=17, weight=ft.FontWeight.BOLD, color=ft.Colors.BLUE_GREY_800)
            return heading, lambda line: put(heading, value=line.heading)
        headline, detail = _headline(), _detail()
        # The key says which kind a line is, so a kept line never turns from one into the other.
        action: ft.Control = (ft.OutlinedButton("Resolve", on_click=lambda e: self._resolve(current().row))
                              if first.row.exception_id else ft.Text("put it away", size=13, italic=True))
        card = _card(ft.Column([headline, detail], spacing=2, expand=True), action,
                     colour=ft.Colors.WHITE if first.row.exception_id else ft.Colors.AMBER_50)

        def fill(line: _Line) -> None:
            if line.row is not None:
                put(headline, value=line.row.headline)
                put(detail, value=line.row.detail)
        return card, fill

    def _threshold(self, value: str | None) -> None:
        if value and value.isdigit():
            self.vm.set_threshold(int(value))
        self.redraw()

    def _resolve(self, row: ExceptionRow | None) -> None:
        if row is not None and row.exception_id is not None and self.vm.resolve(row.exception_id, self.note.value or ""):
            self.note.value = ""
        self.redraw()


def _headline() -> ft.Text:
    return ft.Text(size=16, weight=ft.FontWeight.W_600)


def _detail() -> ft.Text:
    return ft.Text(size=13, color=ft.Colors.BLUE_GREY_700)


def _set_offline(column: ft.Column, vm: ManagerViewModel, what: str) -> None:
    wanted = _offline_note(vm, what)
    now = [str(getattr(c, "value", "")) for c in column.controls]
    if now != [str(getattr(c, "value", "")) for c in wanted]:
        column.controls = wanted


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
