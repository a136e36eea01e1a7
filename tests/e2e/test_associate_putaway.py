"""Receiving then directed putaway on the handheld in real Chromium: a receive task tapped in My tasks
opens its ASN; a damaged unit; an over-receipt approved on the spot by a manager's badge; then the
received units put away: the suggestion and its reason, a wrong shelf refused in red, part put at the
suggestion, the rest elsewhere with a reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.associate_support import WAIT_MS, ean13, query, see, shot, signed_in, tap, wedge
from tests.e2e.conftest import Demo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _receive_task(db: Path) -> tuple[str, str, str, str, int]:
    """The last-expected open receive task Ana may take whose ASN's first line is a unit EAN-13 of
    3 to 9 units: (task title, ASN number, item description, EAN, expected units). The last one, so
    the receiving test (which takes the first) keeps its ASN."""
    rows = query(db, "SELECT t.title, a.number, a.asn_id FROM tasks t JOIN asns a ON a.po_id = t.ref_id"
                     " WHERE t.type = 'receive' AND t.status IN ('open', 'assigned')"
                     " AND (t.assignee_id IS NULL OR t.assignee_id = 'u-assoc-1') AND a.status = 'open'"
                     " ORDER BY a.expected_at DESC, a.number DESC")
    for title, number, asn_id in rows:
        lines = query(db, "SELECT i.description, e.gtin, e.qty FROM expected_lines e JOIN item_gtins g ON g.gtin = e.gtin"
                          " JOIN items i ON i.item_id = g.item_id WHERE e.doc_kind = 'asn' AND e.doc_id = ?"
                          " AND g.units = 1 AND e.gtin LIKE '0%' ORDER BY e.line_id", asn_id)
        for description, gtin, qty in lines:
            if 3 <= int(str(qty)) <= 9:
                return str(title), str(number), str(description), ean13(str(gtin)), int(str(qty))
    raise AssertionError("the demo store has no receive task with a small unit line for Ana")


def test_a_receive_task_then_directed_putaway(demo: Demo, browser: object) -> None:
    db = demo.data / "handheld-1.db"
    title, asn_number, description, ean, expected = _receive_task(db)
    page = signed_in(browser, demo.app_url)
    shot(page, "handheld-my-tasks")
    page.get_by_text(title).first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    see(page, f"Receiving ASN {asn_number}")

    tap(page, "Damaged: off")
    wedge(page, ean)
    see(page, f"+1 {description} damaged, 1 of {expected}")
    tap(page, "Damaged: ON")
    for digit in str(expected - 1):
        tap(page, digit)
    wedge(page, ean)
    see(page, f"{expected} of {expected}")
    wedge(page, ean)  # one more than the ASN: a manager must approve
    see(page, "Manager: scan your badge to approve")
    shot(page, "handheld-receiving-approval")
    wedge(page, "BADGE-2001")
    see(page, f"{expected + 1} of {expected} (over), approved by Chloe Martin")
    shot(page, "handheld-receiving-approved")
    tap(page, "Close receipt")
    see(page, "Discrepancies", exact=True)

    tap(page, "Home")
    tap(page, "Put away")
    see(page, f"{expected} × {description}")
    shot(page, "handheld-putaway-list")
    wedge(page, ean)
    see(page, "then scan the location")
    target = re.search(r"Take \d+ to (\S+),", page.get_by_text("then scan the location").first.inner_text())  # type: ignore[attr-defined]
    assert target is not None
    code = target.group(1)
    shot(page, "handheld-putaway-suggestion")

    shelves = [str(r[0]) for r in query(db, "SELECT code FROM locations WHERE kind = 'shelf' AND code != ?"
                                            " ORDER BY pick_sequence LIMIT 2", code)]
    wedge(page, f"loc-{shelves[0]}")
    see(page, f"Wrong location: scan {code}")
    shot(page, "handheld-putaway-wrong-location")

    tap(page, "2")
    wedge(page, f"loc-{code}")
    see(page, f"Put 2 {description} at {code}")
    wedge(page, ean)
    tap(page, "Put elsewhere")
    see(page, "Why elsewhere?")
    tap(page, "Suggested location is full")
    wedge(page, f"loc-{shelves[1]}")
    see(page, f"Put {expected - 2} {description} at {shelves[1]}")
    shot(page, "handheld-putaway-override")

    moved = query(db, "SELECT type, payload FROM outbox WHERE type = 'putaway.confirm' ORDER BY seq")
    payloads = [json.loads(str(payload)) for _type, payload in moved]
    assert [(p["qty"], p["override_reason"]) for p in payloads] == [(2, None), (expected - 2, "Suggested location is full")]
