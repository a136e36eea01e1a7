"""Receiving on the handheld in real Chromium: scans typed as back-to-back wedge bursts, all counted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.conftest import Demo, open_app, screenshot

WAIT_MS = 45_000
"""How long a step may take: the app answers in well under a second, but a loaded 2-core CI
machine can stall the browser for many seconds."""

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SCANS = 20


def _asn_with_units(db: Path, units: int) -> tuple[str, list[str]]:
    """The first open ASN (in the screen's order) whose known EAN-13 lines carry `units` units, and
    `units` EAN-13 scans spread over its lines without passing any line's expected quantity."""
    with sqlite3.connect(db) as conn:
        asns = conn.execute("SELECT asn_id, number FROM asns WHERE status = 'open' ORDER BY expected_at, number").fetchall()
        for asn_id, number in asns:
            lines = conn.execute(
                "SELECT gtin, qty FROM expected_lines WHERE doc_kind = 'asn' AND doc_id = ? AND item_id IS NOT NULL"
                " AND gtin LIKE '0%' ORDER BY line_id", (asn_id,)).fetchall()
            left = {gtin: int(qty) for gtin, qty in lines}
            scans: list[str] = []
            while len(scans) < units and any(left.values()):
                for gtin in list(left):
                    if left[gtin] and len(scans) < units:
                        scans.append(gtin[1:])  # the EAN-13 a label carries
                        left[gtin] -= 1
            if len(scans) == units:
                return number, scans
    raise AssertionError(f"no open ASN with {units} units of EAN-13 items in {db}")


def _received(db: Path, asn_number: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(l.received_qty), 0) FROM receipt_lines l JOIN receipts r ON r.receipt_id = l.receipt_id"
            " JOIN asns a ON a.asn_id = r.asn_id WHERE a.number = ?", (asn_number,)).fetchone()
        return int(row[0])


def test_twenty_back_to_back_wedge_scans_are_all_received(demo: Demo, browser: object) -> None:
    db = demo.data / "handheld-1.db"
    asn_number, codes = _asn_with_units(db, SCANS + 1)
    scans, by_hand = codes[:SCANS], codes[SCANS]
    page = open_app(browser, demo.app_url)
    badge = page.get_by_role("textbox", name="Badge")  # type: ignore[attr-defined]
    badge.wait_for(timeout=WAIT_MS)
    badge.fill("BADGE-1001")
    badge.press("Enter")
    page.get_by_role("button", name="Receive", exact=True).click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text("Receive: pick a delivery").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    screenshot(page, "handheld-receiving-pick")

    page.get_by_text(asn_number, exact=False).first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text(f"Receiving ASN {asn_number}").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    screenshot(page, "handheld-receiving-open")

    # A keyboard-wedge scanner: each code a burst of keys 5 ms apart, Enter, and the next at once.
    for code in scans:
        page.keyboard.type(code, delay=5)  # type: ignore[attr-defined]
        page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.get_by_text(f"· {SCANS} scans").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    assert _received(db, asn_number) == SCANS
    page.get_by_text("+1 ").first.wait_for(timeout=5_000)  # type: ignore[attr-defined]
    screenshot(page, "handheld-receiving-scanned")

    # Typed by hand into the focused field: the field and the page both see the keys; read once.
    page.get_by_role("textbox", name="Barcode").click()  # type: ignore[attr-defined]
    page.keyboard.type(by_hand, delay=60)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.get_by_text(f"· {SCANS + 1} scans").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    assert _received(db, asn_number) == SCANS + 1

    page.keyboard.type("loc-A-03-02-1", delay=5)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.get_by_text("That is a location label").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    screenshot(page, "handheld-receiving-wrong-scan")
    assert _received(db, asn_number) == SCANS + 1

    page.get_by_role("button", name="Close receipt").click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text("Discrepancies", exact=True).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    screenshot(page, "handheld-receiving-closed")
