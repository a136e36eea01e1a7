"""Bar charts for the figures panel, drawn with flet-charts (its controls are in the stock web client)."""

from __future__ import annotations

import flet as ft
import flet_charts as fch  # type: ignore[import-untyped]  # ships no py.typed

from app.viewmodels.manager_rows import Bar


def bar_chart(bars: list[Bar], *, title: str, unit: str, colour: str = ft.Colors.BLUE_600, height: int = 220) -> ft.Control:
    """A titled bar chart of `bars`; an empty list says there is nothing to show."""
    if not bars or not any(b.value for b in bars):
        body: ft.Control = ft.Container(ft.Text("Nothing to show yet", size=14, color=ft.Colors.BLUE_GREY_600),
                                        height=height, alignment=ft.Alignment.CENTER)
    else:
        top = _nice_top(max(b.value for b in bars))
        body = fch.BarChart(
            groups=[
                fch.BarChartGroup(x=i, rods=[fch.BarChartRod(from_y=0, to_y=b.value, width=28, color=colour,
                                                             tooltip=f"{b.label}: {b.text}",
                                                             border_radius=ft.BorderRadius.only(top_left=4, top_right=4))])
                for i, b in enumerate(bars)
            ],
            bottom_axis=fch.ChartAxis(
                labels=[fch.ChartAxisLabel(value=i, label=ft.Text(b.label, size=12)) for i, b in enumerate(bars)],
                label_size=28,
            ),
            left_axis=fch.ChartAxis(label_size=40, title=ft.Text(unit, size=12), title_size=18,
                                    labels=[fch.ChartAxisLabel(value=top * i / 4, label=ft.Text(f"{top * i / 4:g}", size=11))
                                            for i in range(5)]),
            horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.BLUE_GREY_100, width=1, interval=top / 4),
            min_y=0,
            max_y=top,
            interactive=True,
            height=height,
            expand=True,
        )
    return ft.Container(
        content=ft.Column([ft.Text(title, size=16, weight=ft.FontWeight.W_600), body], spacing=8),
        padding=12, border_radius=8, bgcolor=ft.Colors.WHITE, border=ft.Border.all(1, ft.Colors.BLUE_GREY_100),
        expand=True,
    )


def _nice_top(value: float) -> float:
    """A round top for the axis above `value`: 4, 8, 20, 40, 80, 200, ... (quarters read as whole numbers)."""
    top = 4.0
    while top < value * 1.1:
        top *= 2 if str(int(top))[0] in "24" else 2.5
    return top
