"""The manager's tablet in real Chromium at 1280x800: sign in, walk every panel, create and assign a task."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Demo, open_app, screenshot

WAIT_MS = 45_000
"""How long a step may take on a loaded 2-core CI machine."""
DOCS = ROOT / "docs" / "screenshots"
TABLET = {"width": 1280, "height": 800}

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def shot(page: object, name: str) -> Path:
    """A screenshot kept as an artefact and in docs/screenshots/ for the README.

    Taken once with WAIT_MS to spare (a loaded machine can take longer than Playwright's default
    30 s to paint the canvas), then through the shared helper that lets the canvas settle."""
    page.screenshot(timeout=WAIT_MS)  # type: ignore[attr-defined]
    path = screenshot(page, name)
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / f"{name}.png")
    return path


def _service_task(demo: Demo, title: str) -> tuple[str, str | None] | None:
    """The task's status and assignee in the service's own database (its API takes signed requests only)."""
    with sqlite3.connect(demo.data / "server.db") as conn:
        row = conn.execute("SELECT status, assignee_id FROM tasks WHERE title = ?", (title,)).fetchone()
    return None if row is None else (str(row[0]), row[1])


def test_an_associate_badge_does_not_open_the_tablet(demo: Demo, browser: object) -> None:
    page = open_app(browser, demo.app_url + "manager", **TABLET)
    badge = page.get_by_role("textbox", name="Manager badge")  # type: ignore[attr-defined]
    badge.wait_for(timeout=WAIT_MS)
    badge.fill("BADGE-1001")
    badge.press("Enter")
    page.get_by_text("needs a manager's badge", exact=False).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    shot(page, "tablet-sign-in-refused")
    page.context.close()  # type: ignore[attr-defined]


def test_a_manager_walks_the_panels_and_creates_and_assigns_a_task(demo: Demo, browser: object) -> None:
    page = open_app(browser, demo.app_url + "manager", **TABLET)
    badge = page.get_by_role("textbox", name="Manager badge")  # type: ignore[attr-defined]
    badge.wait_for(timeout=WAIT_MS)
    badge.fill("BADGE-2001")
    badge.press("Enter")
    page.get_by_text("Live from the store service", exact=False).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text("shown of", exact=False).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    shot(page, "tablet-board")

    # Create a task for anyone, then give it to someone from its row.
    title = f"Count aisle 3 {int(time.time()) % 100000}"
    field = page.get_by_role("textbox", name="New task")  # type: ignore[attr-defined]
    field.fill(title)
    field.press("Enter")  # Enter in the title field creates the task, as the Create task button does
    page.get_by_text("Task created", exact=False).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text(title).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    with sqlite3.connect(demo.data / "tablet-1.db") as conn:
        [(op_type,)] = conn.execute("SELECT type FROM outbox WHERE json_extract(payload, '$.title') = ?", (title,)).fetchall()
    assert op_type == "task.create"  # through the tablet's own outbox

    _open_assign_dialog(page, title)
    name = "Ana Costa"  # the demo store's first associate (BADGE-1001)
    page.get_by_role("button", name=name).click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text(f"Task assigned to {name}", exact=False).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    shot(page, "tablet-board-assigned")

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task = _service_task(demo, title)
        if task is not None and task[1] is not None:
            break
        time.sleep(1)
    assert task is not None and task[0] == "assigned", task  # the tablet's outbox reached the service

    # Make it urgent from its row's priority menu: the choice goes through the tablet's outbox.
    _choose_priority(page, title, "P1")
    page.get_by_text("Priority set to 1", exact=False).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    with sqlite3.connect(demo.data / "tablet-1.db") as conn:
        changes = conn.execute("SELECT json_extract(o.payload, '$.priority') FROM outbox o JOIN outbox c"
                               " ON json_extract(c.payload, '$.task_id') = json_extract(o.payload, '$.task_id')"
                               " WHERE o.type = 'task.reprioritise' AND c.type = 'task.create'"
                               " AND json_extract(c.payload, '$.title') = ?", (title,)).fetchall()
    assert changes == [(1,)]

    # Each panel is read from the service with Mia's session on the tablet (a manager's session is
    # what the service asks of store-wide reads): the data is there, live, and nothing was refused.
    for panel, marker, name_ in (("Approvals", "Approvals (", "tablet-approvals"),
                                 ("Exceptions", "Exceptions (", "tablet-exceptions"),
                                 ("Devices", "Devices (", "tablet-devices"),
                                 ("Figures", "Store figures", "tablet-figures")):
        page.get_by_role("button", name=panel).first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]
        page.get_by_text(marker, exact=False).first.wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
        if panel == "Devices":  # the service's device board lists the tablet, which has pushed its task
            page.get_by_text("tablet-1", exact=True).first.wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
        shot(page, name_)
        assert page.get_by_text("Live from the store service", exact=False).count() == 1  # type: ignore[attr-defined]
        assert page.get_by_text("refused to answer", exact=False).count() == 0  # type: ignore[attr-defined]
        assert page.get_by_text("session has ended", exact=False).count() == 0  # type: ignore[attr-defined]
    page.get_by_text("Count accuracy").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text("Pick fill rate").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]


def _open_assign_dialog(page: object, title: str, attempts: int = 3) -> None:
    """Tap Assign on the row of the task titled `title` until its dialog opens.

    The board's rows are kept across redraws (app/ui/manager/keyed.py), but the accessibility tree
    is rebuilt after every change and every 15 s refresh: an element found a moment ago may be gone
    before the click lands (Playwright: "not attached to the DOM"), so the row is found again.
    """
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(1, attempts + 1):
        try:
            page.get_by_text(title).first.scroll_into_view_if_needed(timeout=WAIT_MS)  # type: ignore[attr-defined]
            buttons = page.get_by_role("button", name="Assign", exact=True)  # type: ignore[attr-defined]
            buttons.nth(_row_index(page, title)).click(timeout=WAIT_MS)
            page.get_by_text(f"Assign {title} to").wait_for(timeout=WAIT_MS // 3)  # type: ignore[attr-defined]
            return
        except (PlaywrightError, AssertionError):
            if attempt == attempts:
                raise


def _choose_priority(page: object, title: str, choice: str) -> None:
    """Open the priority menu on the row of the task titled `title` and choose `choice` ("P1").

    The menu's button has no name in the accessibility tree: it sits right of the row's Assign
    button (12 px apart, 96 px wide), so it is tapped there; its choices are buttons named "P1"...
    """
    page.get_by_text(title).first.scroll_into_view_if_needed(timeout=WAIT_MS)  # type: ignore[attr-defined]
    assign = page.get_by_role("button", name="Assign", exact=True).nth(_row_index(page, title))  # type: ignore[attr-defined]
    box = assign.bounding_box()
    assert box is not None, f"the Assign button of {title} is not on screen"
    page.mouse.click(box["x"] + box["width"] + 12 + 48, box["y"] + box["height"] / 2)  # type: ignore[attr-defined]
    page.get_by_role("button", name=choice, exact=True).first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]


def _row_index(page: object, title: str) -> int:
    """Which of the board's Assign buttons sits on the same row as the task titled `title`."""
    box = page.get_by_text(title).first.bounding_box()  # type: ignore[attr-defined]
    assert box is not None, f"{title} is not on screen"
    buttons = page.get_by_role("button", name="Assign", exact=True)  # type: ignore[attr-defined]
    gaps = []
    for i in range(buttons.count()):
        other = buttons.nth(i).bounding_box()
        gaps.append(abs((other["y"] + other["height"] / 2) - (box["y"] + box["height"] / 2)) if other else 1e9)
    assert gaps, "no Assign buttons on the board"
    return min(range(len(gaps)), key=gaps.__getitem__)
