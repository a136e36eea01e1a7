"""Labels: location labels and item/shelf labels as SVG, PNG, a printable sheet, and ZPL.

    location_label("A-03-02-1")       Code 128 carrying `loc-A-03-02-1` (see device.locations)
    item_label("04006381333931")      EAN-13 for a GTIN-13/12 (leading zero), else GS1-128 (01)
    gs1_label("(01)…(10)…")           GS1-128 from the raw element string (FNC1 as python-barcode's \\xf1)
    render_svg / render_png           python-barcode's SVG; PNG drawn from python-barcode's modules
    to_zpl / zpl_document             ZPL II for Zebra label printers
    render_sheet                      an HTML page of labels, laid out for A4, that prints as it shows
"""

from device.labels.codes import Label, gs1_label, item_label, location_label
from device.labels.render import render_png, render_svg
from device.labels.sheet import render_sheet
from device.labels.zpl import to_zpl, zpl_document

__all__ = ["Label", "gs1_label", "item_label", "location_label", "render_png", "render_sheet", "render_svg",
           "to_zpl", "zpl_document"]
