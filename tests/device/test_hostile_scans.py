"""Hostile and damaged scans: control characters, overlong reads, look-alike characters. Each
becomes a ScanError an associate can act on, never an exception the UI does not expect."""

from __future__ import annotations

import pytest

from device import interpret
from device.errors import BadLocationLabelError, EpcError, NotGs1Error, ScanError, UnreadableScanError
from device.events import ScanEvent, SourceKind, Symbology

LOOKALIKES = [
    ("loc-\u0410-03-02-1", BadLocationLabelError, "cyrillic capital letter a"),  # Cyrillic A in a location label
    ("\uff14\uff10\uff10\uff16\uff13\uff18\uff11\uff13\uff13\uff13\uff19\uff13\uff11", NotGs1Error, "fullwidth digit four"),
    ("\u017ftg-12", BadLocationLabelError, "long s"),  # upper() would make it STG-12
    ("\u212a-01-01-1", BadLocationLabelError, "kelvin sign"),
    ("400638133393\u0661", NotGs1Error, "arabic-indic digit one"),
    ("]C10109506000134352\u0391BC", NotGs1Error, "greek capital letter alpha"),
]


@pytest.mark.parametrize(("text", "error", "named"), LOOKALIKES)
def test_a_look_alike_character_is_refused_and_named(text: str, error: type[ScanError], named: str) -> None:
    with pytest.raises(error) as err:
        interpret(text)
    assert "only looks like a plain letter or digit" in err.value.message
    assert named in err.value.message


@pytest.mark.parametrize("text", [
    "4006381333931\u200b",  # zero width space
    "]C1\u202e0109506000134352",  # right-to-left override
    "loc-A-03-02-1\x85",  # C1 next line
    "loc-A-03-02-1\x00",
    "40063813\x1b[2J33931",  # a terminal escape
    "\ufeff4006381333931",  # a byte order mark
])
def test_hidden_characters_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(UnreadableScanError) as err:
        interpret(text)
    assert err.value.message.startswith("That scan had hidden characters in it.")


def test_an_overlong_read_says_it_is_too_long() -> None:
    with pytest.raises(UnreadableScanError) as err:
        interpret("0" * 5000, source_kind=SourceKind.WEDGE)
    assert "too long" in err.value.message and "5000 characters" in err.value.message


@pytest.mark.parametrize("epc", ["3074257BF7194E40\x0000001A85", "30" * 200, "3074257BF7194E4000001A8\u0665"])
def test_a_damaged_rfid_read_is_an_epc_error(epc: str) -> None:
    event = ScanEvent("rfid:dock-1", SourceKind.RFID, Symbology.EPC, epc.encode("utf-8"), epc)
    with pytest.raises(EpcError) as err:
        interpret(event)
    assert err.value.message


def test_plain_codes_still_read() -> None:
    assert interpret("loc-A-03-02-1").kind.value == "location"
    assert interpret("4006381333931").kind.value == "item"
    assert interpret("  4006381333931\r\n").kind.value == "item"


def test_an_accented_word_is_not_a_barcode_rather_than_a_look_alike() -> None:
    with pytest.raises(NotGs1Error) as err:
        interpret("caf\u00e9")
    assert err.value.message == NotGs1Error.default_message
