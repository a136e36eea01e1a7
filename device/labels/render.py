"""Labels as SVG (python-barcode's SVG writer) and PNG (python-barcode's modules drawn with numpy).

python-barcode's PNG writer needs Pillow, which the handheld builds do not carry; the bars come
from python-barcode either way (`Barcode.build()` gives the module pattern), and OpenCV, already
there for the camera, writes the PNG.
"""

from __future__ import annotations

import barcode
import cv2
import numpy as np
from barcode.writer import SVGWriter

from device.errors import LabelError
from device.labels.codes import Label

__all__ = ["modules", "render_png", "render_svg"]


def _barcode(label: Label, writer: SVGWriter | None = None) -> barcode.base.Barcode:
    try:
        return barcode.get(label.symbology, label.data, writer=writer)
    except Exception as exc:  # python-barcode raises its own errors and ValueError alike
        raise LabelError("This label could not be made.", detail=f"{label.symbology}: {exc}") from exc


def modules(label: Label) -> str:
    """The label's bars and spaces as a string of 1s and 0s, one per module."""
    built: list[str] = _barcode(label).build()
    return built[0]


def render_svg(label: Label, *, module_mm: float = 0.33, height_mm: float = 15.0) -> str:
    """The label as an SVG document (bars, then the human-readable text)."""
    code = _barcode(label, SVGWriter())
    svg: bytes = code.render(writer_options={"module_width": module_mm, "module_height": height_mm,
                                             "quiet_zone": 10 * module_mm + 1, "font_size": 8, "text_distance": 4},
                             text=label.text)
    return svg.decode("utf-8")


def render_png(label: Label, *, module_px: int = 3, height_px: int = 120, quiet_modules: int = 10) -> bytes:
    """The label as PNG bytes: caption, bars with quiet zones, human-readable text."""
    pattern = np.frombuffer(modules(label).encode("ascii"), dtype=np.uint8) - ord("0")
    row = np.where(np.repeat(pattern, module_px) == 1, 0, 255).astype(np.uint8)
    quiet = np.full(quiet_modules * module_px, 255, dtype=np.uint8)
    row = np.concatenate([quiet, row, quiet])
    width = row.size
    caption_h = 44 if label.caption else 10
    img = np.full((caption_h + height_px + 40, width), 255, dtype=np.uint8)
    img[caption_h:caption_h + height_px, :] = row
    font = cv2.FONT_HERSHEY_SIMPLEX
    if label.caption:
        cv2.putText(img, label.caption, (quiet.size, 32), font, 0.9, 0, 2, cv2.LINE_AA)
    text = label.text.replace("\x1d", "")
    scale = min(0.6, 0.9 * (width - 2 * quiet.size) / max(cv2.getTextSize(text, font, 1.0, 1)[0][0], 1))
    cv2.putText(img, text, (quiet.size, caption_h + height_px + 28), font, scale, 0, 1, cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise LabelError("The label picture could not be written.")
    return buf.tobytes()
