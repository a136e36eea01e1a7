"""ZPL II for Zebra label printers (203 dpi, 2 x 1 inch labels by default).

Code 128 uses ^BC in automatic mode (the printer picks subsets); GS1-128 uses ^BC mode D, where
the printer reads "(AI)data" and puts FNC1 where GS1 wants it; EAN-13 uses ^BE with 12 digits and
EAN-8 ^B8 with 7 (the printer adds the check digit). Field data is escaped with ^FH so `^`, `~` and `_` in a
caption cannot break the format.
"""

from __future__ import annotations

from collections.abc import Iterable

from device.labels.codes import Label

__all__ = ["to_zpl", "zpl_document"]


def _fh(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch in "^~_" or not (32 <= ord(ch) < 127):
            out.extend(f"_{b:02X}" for b in ch.encode("utf-8"))
        else:
            out.append(ch)
    return "".join(out)


def to_zpl(label: Label, *, width_dots: int = 406, module_dots: int = 2, height_dots: int = 100) -> str:
    """One label as a ZPL format (^XA … ^XZ)."""
    lines = ["^XA", "^CI28", f"^PW{width_dots}", "^LH0,0"]
    if label.caption:
        lines.append(f"^FO20,10^A0N,32,32^FH^FD{_fh(label.caption)}^FS")
    lines.append(f"^FO20,50^BY{module_dots}")
    if label.symbology == "ean13":
        lines.append(f"^BEN,{height_dots},Y,N^FD{label.data[:12]}^FS")
    elif label.symbology == "ean8":
        lines.append(f"^B8N,{height_dots},Y,N^FD{label.data[:7]}^FS")
    elif label.symbology == "gs1_128":
        lines.append(f"^BCN,{height_dots},Y,N,N,D^FH^FD{_fh(label.text)}^FS")
    else:
        lines.append(f"^BCN,{height_dots},Y,N,N,A^FH^FD{_fh(label.data)}^FS")
    lines.append("^XZ")
    return "\n".join(lines) + "\n"


def zpl_document(labels: Iterable[Label], **kwargs: int) -> str:
    """Many labels as one ZPL stream, ready to send to the printer's port 9100."""
    return "".join(to_zpl(label, **kwargs) for label in labels)
