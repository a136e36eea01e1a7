"""Keyboard-wedge scanners: bursts become scans, typing stays typing, replayed per scanner model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.errors import MissingSeparatorError, ScanError
from device.events import ScanEvent, SourceKind, Symbology
from device.interpret import interpret
from device.interpretation import ItemScan, LocationScan
from device.scanners.wedge import TypedText, WedgeAssembler, WedgeConfig
from tests.device.conftest import load_capture, wedge_captures


def _replay(capture: dict, assembler: WedgeAssembler) -> list[ScanEvent | TypedText]:
    out: list[ScanEvent | TypedText] = []
    for key, t in capture["keys"]:
        out.extend(assembler.feed(key, t))
    out.extend(assembler.flush(capture["keys"][-1][1] + 10))
    return out


@pytest.mark.parametrize("name", wedge_captures())
def test_each_scanner_model_replays_to_its_scans_and_the_typing_between_them(name: str) -> None:
    capture = load_capture(name)
    out = _replay(capture, WedgeAssembler(WedgeConfig(**capture["config"])))
    scans = [o for o in out if isinstance(o, ScanEvent)]
    typed = [o.text for o in out if isinstance(o, TypedText)]
    assert [(s.aim, s.text) for s in scans] == [(e["aim"], e["text"]) for e in capture["scans"]]
    assert typed == capture["typed"]
    assert all(s.source_kind is SourceKind.WEDGE for s in scans)


@pytest.mark.parametrize("name", wedge_captures())
def test_each_model_s_scans_are_understood_or_refused_clearly(name: str) -> None:
    capture = load_capture(name)
    scans = [o for o in _replay(capture, WedgeAssembler(WedgeConfig(**capture["config"]))) if isinstance(o, ScanEvent)]
    kinds = []
    for scan in scans:
        try:
            kinds.append(type(interpret(scan)).__name__)
        except MissingSeparatorError:
            kinds.append("lost-separator")
    sends_gs = capture["config"].get("gs_substitute") is not None
    # The GS1-128 with lot then serial: read when the scanner substitutes GS, refused when GS is lost.
    assert kinds[1] == ("ItemScan" if sends_gs else "lost-separator")
    assert kinds[0] == "ItemScan" and kinds[2] == "LocationScan"


def test_aim_identifiers_set_the_symbology() -> None:
    w = WedgeAssembler(WedgeConfig(aim_ids=True))
    out = [e for i, c in enumerate("]E04006381333931\n") for e in w.feed(c, i * 0.003)]
    assert len(out) == 1 and isinstance(out[0], ScanEvent)
    assert (out[0].symbology, out[0].aim, out[0].text) == (Symbology.EAN13, "]E0", "4006381333931")


def test_the_gs_substitute_becomes_a_group_separator() -> None:
    w = WedgeAssembler(WedgeConfig(aim_ids=True, gs_substitute="~"))
    out = [e for i, c in enumerate("]C1010950600013435210ABC~21X\n") for e in w.feed(c, i * 0.002)]
    scan = interpret(out[0])  # type: ignore[arg-type]
    assert isinstance(scan, ItemScan) and (scan.lot, scan.serial) == ("ABC", "X")


def test_fast_typing_of_a_few_keys_is_not_a_scan() -> None:
    w = WedgeAssembler()
    out = [e for i, c in enumerate("12\n") for e in w.feed(c, i * 0.01)]
    assert out == [TypedText("12\n", out[0].at)]  # type: ignore[union-attr]


def test_slow_typing_of_a_barcode_number_is_typing_not_a_scan() -> None:
    w = WedgeAssembler()
    out = [e for i, c in enumerate("4006381333931\n") for e in w.feed(c, i * 0.15)]
    assert all(isinstance(o, TypedText) for o in out) and "".join(o.text for o in out) == "4006381333931\n"  # type: ignore[union-attr]


def test_typing_just_before_a_burst_is_split_from_the_scan() -> None:
    w = WedgeAssembler()
    keys = [("3", 0.0), ("x", 0.3)] + [(c, 0.8 + i * 0.002) for i, c in enumerate("loc-A-03-02-1\n")]
    out = [e for k, t in keys for e in w.feed(k, t)]
    assert [type(o).__name__ for o in out] == ["TypedText", "ScanEvent"]
    assert out[0].text == "3x" and isinstance(interpret(out[1]), LocationScan)  # type: ignore[union-attr,arg-type]


def test_a_scanner_without_suffix_ends_its_burst_on_silence() -> None:
    w = WedgeAssembler(WedgeConfig(suffix=""))
    assert all(not w.feed(c, i * 0.004) for i, c in enumerate("4006381333931"))
    assert w.flush(0.06) == []  # not silent long enough yet
    [scan] = w.flush(1.0)
    assert isinstance(scan, ScanEvent) and scan.text == "4006381333931"


def test_a_configured_prefix_is_required_and_stripped() -> None:
    w = WedgeAssembler(WedgeConfig(prefix="#"))
    out = [e for i, c in enumerate("#12345670\n") for e in w.feed(c, i * 0.002)]
    assert isinstance(out[0], ScanEvent) and out[0].text == "12345670"
    out = [e for i, c in enumerate("12345670\n") for e in w.feed(c, 5 + i * 0.002)]
    assert isinstance(out[0], TypedText)


def test_key_names_and_modifier_keys_are_handled() -> None:
    w = WedgeAssembler()
    keys = ["Shift", "L", "o", "c", "-", "Shift", "A", "-", "0", "3", "-", "0", "2", "-", "1", "Enter"]
    out = [e for i, k in enumerate(keys) for e in w.feed(k, i * 0.002)]
    assert isinstance(out[0], ScanEvent) and out[0].text == "Loc-A-03-02-1"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=6), st.floats(min_value=0, max_value=0.5)), max_size=60),
       st.booleans(), st.sampled_from(["\n", "", "\t"]))
def test_any_keystroke_stream_yields_only_events_and_typing(keys: list[tuple[str, float]], aim: bool, suffix: str) -> None:
    w = WedgeAssembler(WedgeConfig(aim_ids=aim, suffix=suffix, gs_substitute="~"))
    t = 0.0
    for key, gap in keys:
        t += gap
        for out in w.feed(key, t):
            assert isinstance(out, (ScanEvent, TypedText))
            if isinstance(out, ScanEvent):
                try:
                    interpret(out)
                except ScanError as err:
                    assert err.message
    for out in w.flush(t + 5):
        assert isinstance(out, (ScanEvent, TypedText))
