"""Picking on the handheld in real Chromium: a pick task tapped in My tasks, its stops walked with
wedge scans (a wrong location refused first), the last line declared short, the order staged."""

from __future__ import annotations

import pytest

from tests.e2e.associate_support import WAIT_MS, ean13, query, see, shot, signed_in, tap, wedge
from tests.e2e.conftest import Demo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _pick_task(db: object) -> tuple[str, str, list[tuple[str, str, str, int]]]:
    """An open pickup task with 2+ lines, all of unit GTINs: (task id, title, [(line, location code, EAN, qty)])."""
    tasks = query(db, "SELECT task_id, title FROM tasks WHERE type = 'pick' AND status = 'open'"  # type: ignore[arg-type]
                      " AND assignee_id IS NULL AND title LIKE 'Pick pickup%' ORDER BY task_id DESC")
    for task_id, title in tasks:
        lines = query(db, "SELECT tl.line_id, l.code, (SELECT min(g.gtin) FROM item_gtins g WHERE g.item_id = tl.item_id"  # type: ignore[arg-type]
                          " AND g.units = 1 AND g.gtin LIKE '0%'), tl.qty FROM task_lines tl JOIN locations l"
                          " ON l.location_id = tl.location_id WHERE tl.task_id = ? ORDER BY l.pick_sequence, tl.line_id",
                      task_id)
        if 2 <= len(lines) <= 3 and all(gtin for _l, _c, gtin, _q in lines) and sum(int(q) for *_x, q in lines) <= 8:
            return str(task_id), str(title), [(str(a), str(b), ean13(str(c)), int(d)) for a, b, c, d in lines]
    raise AssertionError("the demo store has no small pickup order of unit GTINs to pick")


def test_a_pick_task_is_walked_by_scans_shorted_and_staged(demo: Demo, browser: object) -> None:
    db = demo.data / "handheld-1.db"
    task_id, title, lines = _pick_task(db)
    page = signed_in(browser, demo.app_url)
    page.get_by_text(title).first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    first_code = lines[0][1]
    see(page, f"Go to {first_code} and scan its label")
    shot(page, "handheld-pick-walk")

    wrong = "loc-STG-1" if first_code != "STG-1" else "loc-DOCK-1"
    wedge(page, wrong)
    see(page, f"Wrong location: go to {first_code}")
    shot(page, "handheld-pick-wrong-location")

    *full, last = lines
    for _line, code, ean, qty in full:
        wedge(page, f"loc-{code}")
        for _ in range(qty):
            wedge(page, ean)
    see(page, f"{full[-1][3]} of {full[-1][3]}")
    _line, code, ean, qty = last
    wedge(page, f"loc-{code}")
    see(page, f"At {code}: take")
    shot(page, "handheld-pick-at-location")
    tap(page, "Short…")
    see(page, "Why short?")
    shot(page, "handheld-pick-short-reasons")
    tap(page, "None on the shelf")
    see(page, "All picked: scan a staging location")

    wedge(page, "loc-STG-1")
    see(page, "staged at STG-1: ready")
    shot(page, "handheld-pick-staged")
    status = query(db, "SELECT o.status FROM customer_orders o JOIN tasks t ON t.ref_id = o.order_id WHERE t.task_id = ?",
                   task_id)
    assert status == [("staged",)]
    ops = [r[0] for r in query(db, "SELECT type FROM outbox WHERE payload LIKE ? ORDER BY seq", f'%"{task_id}"%')]
    assert ops.count("pick.confirm") == sum(q for *_x, q in full) and ops[-2:] == ["pick.short", "order.stage"]
