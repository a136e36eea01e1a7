"""Needs attention, in real Chromium against the demo's service: two putaways the service refuses
(a shelf this handheld knows and the service does not) are listed with the service's reason; one is
corrected by scanning a known shelf and sent again, and the service applies it; the other is
dismissed with a reason. Nothing is left needing attention."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.associate_support import WAIT_MS, query, see, shot, signed_in, tap, wedge
from tests.e2e.conftest import Demo
from tests.e2e.test_associate_putaway import _receive_task
from tests.e2e.test_receiving_web import SCANS, _asn_with_units

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UNKNOWN_CODE = "F-99-99-9"
"""A shelf added to this handheld's copy of the store only: the service has never heard of it."""
UNKNOWN_ID = f"loc-{UNKNOWN_CODE}"


def _delivery(db: Path) -> tuple[str, str, str, str]:
    """An open ASN the other associate tests do not receive into, and a unit EAN-13 line of it
    expecting at least 2 units: (ASN number, item id, description, EAN-13), first in the screen's order."""
    taken = {_asn_with_units(db, SCANS + 1)[0]}
    taken |= {str(n) for (n,) in query(db, "SELECT a.number FROM tasks t JOIN asns a ON a.po_id = t.ref_id"
                                           " WHERE t.title = ?", _receive_task(db)[0])}
    for asn_id, number in query(db, "SELECT asn_id, number FROM asns WHERE status = 'open' AND asn_id NOT IN"
                                    " (SELECT asn_id FROM receipts WHERE asn_id IS NOT NULL) ORDER BY expected_at, number"):
        if number in taken:
            continue
        for item_id, description, gtin in query(
                db, "SELECT i.item_id, i.description, e.gtin FROM expected_lines e JOIN item_gtins g ON g.gtin = e.gtin"
                    " JOIN items i ON i.item_id = g.item_id WHERE e.doc_kind = 'asn' AND e.doc_id = ? AND g.units = 1"
                    " AND e.gtin LIKE '0%' AND e.qty >= 2 ORDER BY e.line_id", asn_id):
            return str(number), str(item_id), str(description), str(gtin)[1:]
    raise AssertionError(f"no open ASN left for the needs-attention test in {db}")


def _add_unknown_shelf(db: Path) -> None:
    """Give the handheld a shelf the service does not know (as a label set up on the device only)."""
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute("INSERT OR IGNORE INTO locations (location_id, code, zone, kind, pick_sequence, capacity)"
                     " VALUES (?, ?, 'F', 'shelf', 99999, 0)", (UNKNOWN_ID, UNKNOWN_CODE))


def _service_putaways(server: Path, item_id: str) -> list[tuple[str, str, str | None]]:
    """(status, to_location_id, reason) of the handheld's putaways of `item_id`, in the service's order."""
    rows = query(server, "SELECT status, payload, reason FROM ops WHERE device_id = 'handheld-1'"
                         " AND type = 'putaway.confirm' ORDER BY seq")
    out = []
    for status, payload, reason in rows:
        p = json.loads(str(payload))
        if p["item_id"] == item_id:
            out.append((str(status), str(p["to_location_id"]), None if reason is None else str(reason)))
    return out


def _until(check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.5)


def test_refused_putaways_are_corrected_and_sent_again_or_dismissed(demo: Demo, browser: object) -> None:
    hh, server = demo.data / "handheld-1.db", demo.data / "server.db"
    asn_number, item_id, description, ean = _delivery(hh)
    _add_unknown_shelf(hh)
    [(known,)] = query(hh, "SELECT code FROM locations WHERE kind = 'shelf' AND code != ? ORDER BY pick_sequence LIMIT 1",
                       UNKNOWN_CODE)

    # Two units received and the receipt closed, then put away one by one on the shelf only this handheld knows.
    page = signed_in(browser, demo.app_url)
    tap(page, "Receive")
    page.get_by_text(asn_number, exact=False).first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    see(page, f"Receiving ASN {asn_number}")
    wedge(page, ean)
    wedge(page, ean)
    see(page, f"+1 {description}, 2 of")
    tap(page, "Close receipt")  # its units go to the dock, to be put away (the rest of the ASN is short)
    see(page, "Discrepancies", exact=True)
    tap(page, "Home")
    tap(page, "Put away")
    for _ in range(2):
        wedge(page, ean)
        see(page, "then scan the location")
        tap(page, "1")
        tap(page, "Put elsewhere")
        tap(page, "Suggested location is full")
        wedge(page, UNKNOWN_ID)
        see(page, f"Put 1 {description} at {UNKNOWN_CODE}")

    # The service refuses both with its reason; the handheld parks them and says so at home.
    _until(lambda: [s for s, _, _ in _service_putaways(server, item_id)] == ["rejected", "rejected"],
           "the service to refuse both putaways")
    tap(page, "Home")
    see(page, "Needs attention (2)")
    page.get_by_text("Needs attention (2)").first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    reason = f"location {UNKNOWN_ID} is not known in store"
    see(page, reason)
    assert page.get_by_text(reason, exact=False).count() == 2  # type: ignore[attr-defined]
    shot(page, "handheld-needs-attention")

    # The first: the right shelf scanned, and sent again as a new op.
    page.get_by_text(f"Put away 1 · {description} to {UNKNOWN_CODE}").first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    see(page, f"Refused: {reason}")
    see(page, "Scan the right location label, then Send again")
    wedge(page, f"loc-{known}")
    see(page, f"Location {known}: press Send again")
    shot(page, "handheld-needs-attention-corrected")
    tap(page, "Send again")

    # The second: dismissed with a reason.
    page.get_by_text(f"Put away 1 · {description} to {UNKNOWN_CODE}").first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    see(page, f"Refused: {reason}")
    tap(page, "Dismiss")
    see(page, "Why dismiss it?")
    tap(page, "Entered by mistake")
    see(page, "Nothing needs attention")

    # On the service: the corrected copy applied at the known shelf, after the two refusals.
    _until(lambda: len(_service_putaways(server, item_id)) == 3, "the corrected putaway to reach the service")
    refused_1, refused_2, corrected = _service_putaways(server, item_id)
    assert refused_1[:2] == refused_2[:2] == ("rejected", UNKNOWN_ID)
    assert refused_1[2] is not None and reason in refused_1[2]
    [(known_id,)] = query(hh, "SELECT location_id FROM locations WHERE code = ?", known)
    assert corrected == ("applied", str(known_id), None)
    # On the handheld: one resent, one dismissed, nothing parked.
    states = [str(s) for (s,) in query(hh, "SELECT state FROM outbox WHERE type = 'putaway.confirm'"
                                           " AND json_extract(payload, '$.to_location_id') = ? ORDER BY seq", UNKNOWN_ID)]
    assert states == ["resent", "dismissed"]
    assert query(hh, "SELECT count(*) FROM outbox WHERE state = 'parked'") == [(0,)]
    page.context.close()  # type: ignore[attr-defined]
