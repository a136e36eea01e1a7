"""Scan input from page key events: recorded wedge bursts back to back, and slow typing by hand."""

from __future__ import annotations

import pytest

from app.viewmodels.scan_input import FIELD_QUIET_S, ScanInput, Submitted, key_char

# Key labels as Flet reports them for a wedge scanner's burst (4 ms apart) and its Enter.
EAN_1 = "4006381333931"
EAN_2 = "5012345678900"


def burst(text: str, t0: float, gap: float = 0.004) -> list[tuple[str, float, bool]]:
    """The key-downs a scanner sends for `text` then Enter: (label, t, shift)."""
    keys = [(c.upper() if c.isalpha() else c, t0 + i * gap, c.isupper()) for i, c in enumerate(text)]
    return keys + [("Enter", t0 + len(text) * gap, False)]


def feed(inp: ScanInput, keys: list[tuple[str, float, bool]]) -> list[Submitted]:
    out = []
    for label, t, shift in keys:
        got = inp.key(label, t, shift=shift)
        if got is not None:
            out.append(got)
    return out


def test_twenty_bursts_back_to_back_read_as_twenty_scans() -> None:
    inp = ScanInput()
    keys = []
    t = 0.0
    for i in range(20):
        code = EAN_1 if i % 2 == 0 else EAN_2
        keys += burst(code, t)
        t = keys[-1][1] + 0.001  # the next burst starts a millisecond after the Enter
    got = feed(inp, keys)
    assert [s.text for s in got] == [EAN_1 if i % 2 == 0 else EAN_2 for i in range(20)]
    assert {s.via for s in got} == {"keys"} and inp.pending == ""


def test_a_location_label_keeps_its_dashes_and_shift_gives_the_case() -> None:
    inp = ScanInput()
    assert [s.text for s in feed(inp, burst("loc-A-03-02-1", 0.0))] == ["loc-A-03-02-1"]
    # Paths that lose Shift give lower case, which location labels accept.
    unshifted = [(label, t, False) for label, t, _ in burst("loc-A-03-02-1", 1.0)]
    assert [s.text for s in feed(inp, unshifted)] == ["loc-a-03-02-1"]


def test_slow_typing_by_hand_with_a_correction_is_one_entry_on_enter() -> None:
    inp = ScanInput()
    keys = [(c, i * 0.4, False) for i, c in enumerate("40063813339")] + [("5", 4.4, False), ("Backspace", 4.9, False)]
    keys += [("3", 5.3, False), ("1", 5.8, False), ("Shift Left", 6.0, False), ("Enter", 6.3, False)]
    assert feed(inp, keys) == [Submitted(EAN_1, "keys")]


@pytest.mark.parametrize(("label", "shift", "char"), [
    ("7", False, "7"), ("Numpad 7", False, "7"), ("Clear", False, "5"), ("A", False, "a"), ("A", True, "A"),
    ("-", False, "-"), ("Minus", False, "-"), ("Numpad Subtract", False, "-"), ("Shift Left", True, ""),
    ("Arrow Down", False, ""), ("Tab", False, ""),
])
def test_key_labels_map_to_the_characters_barcodes_hold(label: str, shift: bool, char: str) -> None:
    assert key_char(label, shift=shift) == char


def test_shortcuts_escape_and_a_bare_enter_give_nothing() -> None:
    inp = ScanInput()
    assert inp.key("Enter", 0.0) is None
    inp.key("C", 0.1, ctrl=True)
    assert inp.pending == ""
    inp.key("4", 0.2)
    inp.key("Escape", 0.3)
    assert inp.key("Enter", 0.4) is None


def test_a_stray_key_long_before_a_scan_does_not_prefix_it() -> None:
    inp = ScanInput()
    inp.key("9", 0.0)
    assert [s.text for s in feed(inp, burst(EAN_1, 60.0))] == [EAN_1]


def test_the_field_submit_is_dropped_when_the_page_read_the_same_keys() -> None:
    inp = ScanInput()
    assert [s.text for s in feed(inp, burst(EAN_1, 0.0))] == [EAN_1]
    assert inp.typed(EAN_1, 0.06) is None  # the same Enter, seen by the focused field too


def test_the_field_submit_counts_when_no_keys_reached_the_page() -> None:
    inp = ScanInput()
    assert inp.typed("  4006381333931 ", 5.0) == Submitted(EAN_1, "field")
    feed(inp, burst(EAN_2, 10.0))
    assert inp.typed("12345670", 10.0 + FIELD_QUIET_S + 0.5) == Submitted("12345670", "field")
    assert inp.typed("   ", 20.0) is None
