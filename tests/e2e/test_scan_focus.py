"""Where the focus rests between scans, in real Chromium: a tapped button is never pressed again by the
Enter that ends the next wedge scan, and typing a code by hand still works.

The screens park the focus on a holder that edits nothing after every tap and submit
(app.ui.widgets.ScanFocus); `wedge()` waits for that before it types.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.associate_support import WAIT_MS, ean13, query, see, signed_in, tap, wait_ready, wedge
from tests.e2e.conftest import Demo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UNITS = 5


def _quiet_asn(db: Path) -> tuple[str, str]:
    """An open ASN nobody has started receiving (the tests before this one have theirs open or closed),
    and the EAN-13 of a line expecting at least `UNITS` units (the scans below receive 5)."""
    asns = query(db, "SELECT asn_id, number FROM asns WHERE status = 'open' AND asn_id NOT IN"
                     " (SELECT asn_id FROM receipts WHERE asn_id IS NOT NULL) ORDER BY expected_at, number")
    for asn_id, number in asns:
        lines = query(db, "SELECT gtin FROM expected_lines WHERE doc_kind = 'asn' AND doc_id = ? AND qty >= ?"
                          " AND item_id IS NOT NULL AND gtin LIKE '0%' ORDER BY line_id", asn_id, UNITS)
        if lines:
            return str(number), ean13(str(lines[0][0]))
    raise AssertionError(f"the demo store in {db} has no unstarted open ASN with a line of "
                         f"{UNITS} EAN-13 units")


def _received(db: Path, asn_number: str) -> tuple[int, int]:
    """(received, damaged) units on the ASN's receipt."""
    row = query(db, "SELECT coalesce(sum(l.received_qty), 0), coalesce(sum(l.damaged_qty), 0) FROM receipt_lines l"
                    " JOIN receipts r ON r.receipt_id = l.receipt_id JOIN asns a ON a.asn_id = r.asn_id"
                    " WHERE a.number = ?", asn_number)[0]
    return int(str(row[0])), int(str(row[1]))


def test_a_tapped_button_is_not_pressed_again_by_the_next_scan(demo: Demo, browser: object) -> None:
    db = demo.data / "handheld-1.db"
    asn_number, code = _quiet_asn(db)
    page = signed_in(browser, demo.app_url)
    tap(page, "Receive")
    page.get_by_text(asn_number, exact=False).first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    see(page, f"Receiving ASN {asn_number}")

    wedge(page, code)
    see(page, "· 1 scans")

    # Tap "Damaged", then scan at once: had the button kept the focus, the scan's Enter would switch
    # it back off and the unit would be counted as good.
    tap(page, "Damaged: off")
    see(page, "Damaged: ON", exact=True)
    wedge(page, code)
    see(page, "· 2 scans")
    page.wait_for_timeout(1_000)  # type: ignore[attr-defined]  # room for a repeated press to show
    assert page.get_by_role("button", name="Damaged: ON", exact=True).count() == 1  # type: ignore[attr-defined]
    assert _received(db, asn_number) == (2, 1)

    # The same with the quantity pad: "+" tapped once means 2 units for the next scan, not 3.
    tap(page, "Damaged: ON")
    see(page, "Damaged: off", exact=True)
    tap(page, "+")
    see(page, "×2", exact=True)
    wedge(page, code)
    see(page, "· 3 scans")
    page.wait_for_timeout(1_000)  # type: ignore[attr-defined]
    assert _received(db, asn_number) == (4, 1), "one tap of + and one scan: 2 good units, nothing more"

    # By hand: tap the field, type, Enter; read once, and the focus is parked again afterwards.
    page.get_by_role("textbox", name="Barcode").click(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.keyboard.type(code, delay=60)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    see(page, "· 4 scans")
    wait_ready(page)
    page.wait_for_timeout(1_500)  # type: ignore[attr-defined]
    assert _received(db, asn_number)[0] == 5

    tap(page, "Close receipt")
    see(page, "Discrepancies", exact=True)
