"""What a scan is, for the scanning screens: an item, a location, or a refusal in words. No flet here."""

from __future__ import annotations

from device import ItemScan, LocationScan, ScanError, interpret

Scanned = ItemScan | LocationScan


class NotUsable(Exception):
    """A scan no scanning screen can use (an SSCC, an asset tag, a bad code): `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read(text: str) -> Scanned:
    """An item or a location from a scan; NotUsable with the scanner layer's own words otherwise."""
    try:
        scan = interpret(text)
    except ScanError as exc:
        raise NotUsable(exc.message) from exc
    if isinstance(scan, (ItemScan, LocationScan)):
        return scan
    raise NotUsable("That code is not an item or a location label: scan the item or the shelf label")
