"""Where codes may be in a frame: dense strong-gradient areas, each fitted with a rotated rectangle.

Bars and modules make dense, strong edges; a shelf's texture and sensor noise make weak or sparse
ones. On a half-size frame: gradient magnitude, a box blur, a threshold, a closing that merges the
bars of one symbol, then `cv2.minAreaRect` on each blob gives a centre, size and angle. The angle
lets the decoder deskew the crop (a tilted 1D code straightened before the scan lines cross it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["Region", "crop_region", "find_regions"]

Gray = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Region:
    """A rotated rectangle in frame coordinates that may hold a code."""

    cx: float
    cy: float
    width: float  # along the angle
    height: float
    angle: float  # degrees, as cv2.minAreaRect gives it
    score: float
    linear: bool  # elongated: probably a 1D code, worth rotate-and-retry

    @property
    def pixels(self) -> int:
        """Pixels of the crop this region gives (with its margin)."""
        return int((self.width * 1.3 + 24) * (self.height * 1.3 + 24))

    def contains_any(self, points: tuple[tuple[float, float], ...]) -> bool:
        """True if any of the points lies inside the rectangle (with a small margin)."""
        box = cv2.boxPoints(((self.cx, self.cy), (self.width + 16, self.height + 16), self.angle))
        contour = box.reshape(-1, 1, 2).astype(np.float32)
        return any(cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0 for x, y in points)


def find_regions(gray: Gray, *, max_regions: int = 6) -> list[Region]:
    """Candidate code regions in a grayscale frame, best first."""
    h, w = gray.shape
    f = 2 if max(h, w) > 700 else 1
    small = cv2.resize(gray, (w // f, h // f), interpolation=cv2.INTER_AREA) if f > 1 else gray
    gx = cv2.Sobel(small, cv2.CV_16S, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_16S, 0, 1, ksize=3)
    mag = cv2.convertScaleAbs(cv2.addWeighted(cv2.convertScaleAbs(gx), 0.5, cv2.convertScaleAbs(gy), 0.5, 0))
    mag = cv2.blur(mag, (7, 7))
    thr = max(25.0, float(mag.mean() + 2.0 * mag.std()))
    _, mask = cv2.threshold(mag, thr, 255, cv2.THRESH_BINARY)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    square = np.ones((3, 3), dtype=np.uint8)
    mask = cv2.erode(mask, square, iterations=2)
    mask = cv2.dilate(mask, square, iterations=3)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    regions: list[Region] = []
    min_area = 300 / (f * f) * 4
    for c in contours:
        area = cv2.contourArea(c)
        if area < min_area:
            continue
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(c)
        if min(rw, rh) < 6:
            continue
        if rw < rh:  # keep width as the long side, angle along it
            rw, rh, angle = rh, rw, angle + 90.0
        score = area * float(mag[int(min(cy, mag.shape[0] - 1)), int(min(cx, mag.shape[1] - 1))] + 1)
        regions.append(Region(cx * f, cy * f, rw * f, rh * f, angle, score, linear=rw > 1.6 * rh))
    regions.sort(key=lambda r: r.score, reverse=True)
    return regions[:max_regions]


def crop_region(gray: Gray, region: Region, *, extra_angle: float = 0.0) -> tuple[Gray, npt.NDArray[np.float64]]:
    """The region cut out upright (deskewed, with a quiet-zone margin) and contrast-stretched.

    Returns the crop and the 2x3 matrix that maps crop coordinates back to the frame.
    """
    out_w = int(region.width * 1.3 + 24)
    out_h = int(region.height * 1.3 + 24)
    angle = region.angle + extra_angle
    if abs(extra_angle) > 0:  # a turned crop needs room for the turned symbol
        rad = math.radians(abs(extra_angle))
        out_w, out_h = (int(out_w * math.cos(rad) + out_h * math.sin(rad)),
                        int(out_w * math.sin(rad) + out_h * math.cos(rad)))
    out_w, out_h = max(out_w, 16), max(out_h, 16)
    m = cv2.getRotationMatrix2D((region.cx, region.cy), angle, 1.0)
    m[0, 2] += out_w / 2 - region.cx
    m[1, 2] += out_h / 2 - region.cy
    crop = cv2.warpAffine(gray, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    crop = cv2.normalize(crop, np.empty_like(crop), 0, 255, cv2.NORM_MINMAX)
    back = cv2.invertAffineTransform(m)
    return np.ascontiguousarray(crop, dtype=np.uint8), back.astype(np.float64)
