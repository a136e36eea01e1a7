"""Errors of the device package: every one carries a `message` an associate can be told.

    DeviceError                      base of everything raised by device/
    ├── ScanError                    a scan that cannot be used as it is
    │   ├── UnreadableScanError      empty, binary junk, control characters, too long
    │   ├── CheckDigitError          a GTIN, SSCC or GLN whose check digit is wrong
    │   ├── MissingSeparatorError    a GS1 string whose group separator was lost
    │   ├── MalformedGs1Error        a GS1 string that breaks the GS1 rules (bad AI, bad date)
    │   ├── NotGs1Error              a barcode that is neither GS1 nor one of our location labels
    │   ├── BadLocationLabelError    a location label that does not follow the store's scheme
    │   ├── EpcError                 an RFID EPC that cannot be decoded
    │   │   └── NotGs1TagError       an RFID tag whose EPC is not a GS1 scheme
    │   └── WrongKindError           a good scan of the wrong kind for the current step
    ├── ReaderError                  a reader (camera, serial port, RFID reader) failed
    └── LabelError                   a label could not be made from the data given

Third-party errors (biip, epcpy, cv2, serial, sllurp) are converted at the boundary with
`raise ... from`, so callers only ever catch `DeviceError` or one of its children.
"""

from __future__ import annotations

__all__ = [
    "BadLocationLabelError",
    "CheckDigitError",
    "DeviceError",
    "EpcError",
    "LabelError",
    "MalformedGs1Error",
    "MissingSeparatorError",
    "NotGs1Error",
    "NotGs1TagError",
    "ReaderError",
    "ScanError",
    "UnreadableScanError",
    "WrongKindError",
]


class DeviceError(Exception):
    """Base of every error raised by device/; `message` is what the associate is told."""

    default_message = "Something went wrong with the scanner."

    def __init__(self, message: str | None = None, *, detail: str = "") -> None:
        self.message = message or self.default_message
        self.detail = detail
        super().__init__(self.message if not detail else f"{self.message} ({detail})")


class ScanError(DeviceError):
    """A scan that cannot be used as it is."""

    default_message = "That scan could not be read. Scan it again."


class UnreadableScanError(ScanError):
    """The scan is empty, binary junk or not text at all."""

    default_message = "That scan could not be read. Scan it again."


class CheckDigitError(ScanError):
    """A GS1 key (GTIN, SSCC, GLN) whose check digit does not match."""

    default_message = "Check digit wrong: the barcode was misread or mistyped. Scan it again."


class MissingSeparatorError(ScanError):
    """A GS1 string that lost its group separator: reading it would invent a lot or serial."""

    default_message = ("This barcode lost a separator on the way from the scanner. "
                       "Scan it with the camera, or type it with (AI) brackets.")


class MalformedGs1Error(ScanError):
    """A GS1 string that breaks the GS1 rules."""

    default_message = "This GS1 barcode is damaged or wrongly printed. Scan another label."


class NotGs1Error(ScanError):
    """A barcode that is neither a GS1 code nor one of the store's location labels."""

    default_message = "Not a product or location barcode. Scan the product's barcode or a location label."


class BadLocationLabelError(ScanError):
    """A location label whose code does not follow the store's scheme."""

    default_message = "This location label is not one of ours. Ask a manager to reprint it."


class EpcError(ScanError):
    """An RFID read whose EPC cannot be decoded."""

    default_message = "This RFID tag could not be read. Try again closer to the tag."


class NotGs1TagError(EpcError):
    """An RFID tag whose EPC is not one of the GS1 schemes."""

    default_message = "This RFID tag is not a GS1 tag; it does not identify a product."


class WrongKindError(ScanError):
    """A good scan of the wrong kind for the current step (an item where a location is wanted)."""

    default_message = "That is not what this step needs."


class ReaderError(DeviceError):
    """A reader (camera, serial port, RFID reader) failed or went away."""

    default_message = "The scanner stopped working. Check that it is connected and try again."


class LabelError(DeviceError):
    """A label could not be made from the data given."""

    default_message = "This label could not be made."
