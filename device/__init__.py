"""Scanning for Backroom: every reader yields `ScanEvent`s, and `interpret` says what a scan means.

    from device import ScanEvent, interpret, require, ScanKind
    scan = interpret(event)                  # ItemScan | SsccScan | LocationScan | GlnScan | AssetScan
    require(scan, ScanKind.LOCATION)         # or WrongKindError("That is a product barcode. Scan ...")

Modules (each imported on its own; this package's top level loads no OpenCV and no decoder):

    events          ScanEvent, Symbology, SourceKind, AIM identifiers
    errors          the exception tree; every error has a `message` for the associate
    interpret       interpret(): GS1 (biip), EPC (epcpy), the store's location labels
    interpretation  the result types and require()
    gs1, epc        the GS1 and EPC layers under interpret()
    locations       the location label scheme: Code 128 carrying `loc-<code>` (see its docstring)
    decode          decode_frame(frame) and the budgeted FrameDecoder (zxing-cpp, then pyzbar)
    scanners        Scanner protocol and FakeScanner; wedge, serial, camera, rfid
    dedupe          double-scan suppression per source; RFID dedupe by EPC
    labels          location and item labels: SVG, PNG, printable sheet, ZPL

device/ imports nothing of app/, edge_sync/ or server_stub/ (an import-linter contract).
"""

from device.errors import DeviceError, ScanError
from device.events import ScanEvent, SourceKind, Symbology
from device.interpret import interpret
from device.interpretation import (AssetScan, GlnScan, Interpretation, ItemScan, LocationScan, ScanKind, SsccScan,
                                   require)

__all__ = ["AssetScan", "DeviceError", "GlnScan", "Interpretation", "ItemScan", "LocationScan", "ScanError",
           "ScanEvent", "ScanKind", "SourceKind", "SsccScan", "Symbology", "interpret", "require"]
