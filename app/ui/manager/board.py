"""The task board panel: filters, a new-task form, and one row per task with assign, priority and cancel.

Drawing only: every decision is in `app.viewmodels.manager.ManagerViewModel`.
"""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app.ui.manager.keyed import KeyedRows, put
from app.viewmodels.manager import ANYONE, ManagerViewModel
from app.viewmodels.manager_rows import STATUS_LABELS, TYPE_LABELS, TaskRow

Redraw = Callable[[], None]


def _options(pairs: list[tuple[str, str]]) -> list[ft.DropdownOption]:
    return [ft.DropdownOption(key=k, text=t) for k, t in pairs]


def _people(vm: ManagerViewModel, *, everyone: str | None) -> list[tuple[str, str]]:
    first = [("", everyone)] if everyone else []
    return [*first, (ANYONE, "Anyone (unassigned)"), *[(p.user_id, p.name) for p in vm.state.people if p.role == "associate"],
            *[(p.user_id, f"{p.name} (manager)") for p in vm.state.people if p.role != "associate"]]


class BoardPanel:
    """The board's controls; `render()` sets them from the view-model's state.

    Built once: a refresh changes values in place and a task's row lives as long as the task is
    listed (`KeyedRows`), so a tap that lands while a refresh redraws reaches the control tapped.
    """

    def __init__(self, page: ft.Page, vm: ManagerViewModel, redraw: Redraw) -> None:
        self.page, self.vm, self.redraw = page, vm, redraw
        self._people: list[tuple[str, str]] | None = None
        self.type_filter: ft.Dropdown = ft.Dropdown(label="Type", width=150, value="",
                                       options=_options([("", "All types"), *TYPE_LABELS.items()]),
                                       on_select=lambda e: self._filter("type", self.type_filter.value))
        self.status_filter: ft.Dropdown = ft.Dropdown(label="Status", width=170, value="active",
                                         options=_options([("active", "Not finished"), ("", "All"), *STATUS_LABELS.items()]),
                                         on_select=lambda e: self._filter("status", self.status_filter.value))
        self.assignee_filter: ft.Dropdown = ft.Dropdown(label="Assignee", width=220, value="",
                                           on_select=lambda e: self._filter("assignee", self.assignee_filter.value))
        self.title = ft.TextField(label="New task", hint_text="e.g. Count aisle 3", width=300, dense=True,
                                  on_submit=lambda e: self._create(), on_change=lambda e: None)
        # on_change keeps the typed text on the Python side, so a background redraw never wipes it.
        self.new_type = ft.Dropdown(label="Type", width=140, value="count", options=_options(list(TYPE_LABELS.items())))
        self.new_priority = ft.Dropdown(label="Priority", width=110, value="3",
                                        options=_options([(str(p), f"P{p}") for p in range(1, 6)]))
        self.new_assignee = ft.Dropdown(label="For", width=220, value=ANYONE)
        self.count = ft.Text(size=13, color=ft.Colors.BLUE_GREY_700)
        self.rows = ft.Column(spacing=6, scroll=ft.ScrollMode.AUTO, expand=True)
        self.tasks = KeyedRows(self.rows, self._row, key=lambda r: r.task_id,
                               empty=ft.Text("No tasks match these filters", size=16))
        self.root = ft.Column([
            ft.Row([ft.Text("Task board", size=22, weight=ft.FontWeight.BOLD), self.count],
                   vertical_alignment=ft.CrossAxisAlignment.CENTER),
            ft.Row([self.type_filter, self.status_filter, self.assignee_filter], spacing=12),
            ft.Container(
                ft.Row([self.title, self.new_type, self.new_priority, self.new_assignee,
                        ft.Button("Create task", icon=ft.Icons.ADD, on_click=lambda e: self._create())],
                       spacing=10, wrap=True),
                padding=10, bgcolor=ft.Colors.BLUE_50, border_radius=8,
            ),
            self.rows,
        ], spacing=12, expand=True)

    def render(self) -> None:
        """Redraw the filters' choices and the rows."""
        st = self.vm.state
        people = _people(self.vm, everyone=None)
        if people != self._people:  # kept while the same: an open menu is not rebuilt under a tap
            self._people = people
            self.assignee_filter.options = _options(_people(self.vm, everyone="Everyone"))
            self.new_assignee.options = _options(people)
        put(self.count, value=f"{len(st.board)} shown of {st.board_total}")
        self.tasks.show(st.board)

    def _filter(self, name: str, value: str | None) -> None:
        self.vm.set_filter(name, value or None)
        self.redraw()

    def _create(self) -> None:
        saved = self.vm.create_task(type=self.new_type.value or "count", title=self.title.value or "",
                                    priority=int(self.new_priority.value or 3), assignee_id=self.new_assignee.value)
        if saved:
            self.title.value = ""
        self.redraw()

    def _row(self, current: Callable[[], TaskRow]) -> tuple[ft.Control, Callable[[TaskRow], None]]:
        """One task's row, built once; `fill` sets its values, and its taps act on `current()`."""
        type_label = ft.Text(size=13, weight=ft.FontWeight.W_600)
        title = ft.Text(size=16, weight=ft.FontWeight.W_600, max_lines=1, overflow=ft.TextOverflow.ELLIPSIS)
        detail = ft.Text(size=13)
        assignee = ft.Text(size=15, weight=ft.FontWeight.W_600, max_lines=1, overflow=ft.TextOverflow.ELLIPSIS)
        give = ft.OutlinedButton("Assign", on_click=lambda e: self._ask_assign(current()))
        priority = ft.Dropdown(width=96, dense=True, label="Priority",
                               options=_options([(str(p), f"P{p}") for p in range(1, 6)]))
        # The choice comes with the event: a refresh drawn between the client's new value and
        # this event has put the service's older value back into `priority.value`.
        priority.on_select = lambda e: self._reprioritise(current(), e.data if isinstance(e.data, str) else priority.value)
        cancel = ft.OutlinedButton("Cancel", on_click=lambda e: self._ask_cancel(current()))
        root = ft.Container(
            ft.Row([
                ft.Container(type_label, width=80),
                ft.Column([title, detail], spacing=2, expand=True),
                ft.Column([ft.Text("Assigned to", size=12, color=ft.Colors.BLUE_GREY_700), assignee], spacing=0, width=150),
                give, priority, cancel,
            ], spacing=12, vertical_alignment=ft.CrossAxisAlignment.CENTER),
            padding=ft.Padding.symmetric(horizontal=12, vertical=8), border_radius=8,
            border=ft.Border.all(1, ft.Colors.BLUE_GREY_100),
        )

        def fill(r: TaskRow) -> None:
            put(type_label, value=r.type_label)
            put(title, value=r.title)
            put(detail, value=f"{r.status_label} · {r.detail}",
                color=ft.Colors.ORANGE_900 if r.unsent else ft.Colors.BLUE_GREY_700)
            put(assignee, value=r.assignee)
            put(give, disabled=r.closed)
            put(priority, value=str(r.priority), disabled=r.closed)
            put(cancel, disabled=r.closed, tooltip=f"Cancel {r.title}")
            put(root, bgcolor=ft.Colors.AMBER_100 if r.priority <= 2 and not r.closed else ft.Colors.WHITE)
        return root, fill

    def _reprioritise(self, r: TaskRow, value: str | None) -> None:
        if value and value.isdigit() and int(value) != r.priority:
            self.vm.reprioritise(r.task_id, int(value))
        self.redraw()

    def _ask_assign(self, r: TaskRow) -> None:
        def give(user_id: str) -> None:
            if self.vm.assign(r.task_id, user_id):
                self.page.pop_dialog()
            self.redraw()

        choices: list[ft.Control] = [ft.Button(name, width=300, on_click=lambda e, uid=uid: give(uid))
                   for uid, name in _people(self.vm, everyone=None) if uid != (r.assignee_id or ANYONE)]
        self.page.show_dialog(ft.AlertDialog(
            title=ft.Text(f"Assign {r.title} to"),
            content=ft.Column(choices, spacing=8, scroll=ft.ScrollMode.AUTO, height=420, width=320),
            actions=[ft.TextButton("Keep as it is", on_click=lambda e: self.page.pop_dialog())],
        ))

    def _ask_cancel(self, r: TaskRow) -> None:
        reason = ft.TextField(label="Why cancel it?", autofocus=True, width=420)

        def confirm(e: object) -> None:
            if self.vm.cancel(r.task_id, reason.value or ""):
                self.page.pop_dialog()
            self.redraw()

        self.page.show_dialog(ft.AlertDialog(
            title=ft.Text(f"Cancel {r.title}?"), content=reason,
            actions=[ft.TextButton("Keep it", on_click=lambda e: self.page.pop_dialog()),
                     ft.Button("Cancel task", on_click=confirm)],
        ))
