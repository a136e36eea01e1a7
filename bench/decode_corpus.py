"""The synthetic camera corpus of `bench.decode`: scenes of one code (or none) held for a few frames.

Every scene is drawn from a seeded `random.Random`: a symbol made by zxing-cpp's writer (EAN-13,
UPC-A, Code 128, GS1-128, GS1 DataMatrix, QR) at 2-4 px per module, put on a label on a textured
background, then degraded in one way (clean, blur, noise, low contrast, tilt 0-45 degrees,
perspective). A camera held on a code gives several frames of it: each frame of a scene has its own
sensor noise and a one- or two-pixel shake. Some scenes show no code at all.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

__all__ = ["CONDITIONS", "KINDS", "Scene", "canonical", "make_scenes"]

KINDS = ("ean13", "upca", "code128", "gs1-128", "gs1-datamatrix", "qr")
CONDITIONS = ("clean", "blur", "noise", "low-contrast", "tilt", "perspective")
F = zxingcpp.BarcodeFormat


@dataclass(frozen=True)
class Scene:
    """One held code (or none): its frames, what it says, and how it was made."""

    kind: str
    condition: str
    size: tuple[int, int]
    expected: str | None  # canonical() of the content; None for a scene with no code
    frames: list[np.ndarray]
    tilt: float = 0.0


def canonical(text: str) -> str:
    """Content compared across decoders: GS dropped, GTINs as 14 digits."""
    t = text.replace("\x1d", "")
    if t.isdigit() and len(t) in (8, 12, 13):
        return t.zfill(14)
    return t


def _check(payload: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return payload + str((10 - total % 10) % 10)


def _content(kind: str, rng: random.Random) -> tuple[str, zxingcpp.Barcode]:
    if kind == "ean13":
        text = _check("".join(rng.choice("0123456789") for _ in range(12)))
        return text, zxingcpp.create_barcode(text, F.EAN13)
    if kind == "upca":
        text = _check("0" + "".join(rng.choice("0123456789") for _ in range(10)))
        return text, zxingcpp.create_barcode(text, F.UPCA)
    if kind == "code128":
        text = f"loc-{rng.choice('ABCDEF')}-{rng.randint(1, 20):02d}-{rng.randint(1, 30):02d}-{rng.randint(1, 4)}"
        return text, zxingcpp.create_barcode(text, F.Code128)
    gtin = _check("0" + "".join(rng.choice("0123456789") for _ in range(12)))
    lot = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(rng.randint(3, 8)))
    if kind == "gs1-128":
        hri = f"(01){gtin}(17){rng.randint(26, 30)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}(10){lot}"
        bc = zxingcpp.create_barcode(hri, F.Code128, gs1=True)
        return bc.bytes.decode("latin-1"), bc
    if kind == "gs1-datamatrix":
        hri = f"(01){gtin}(17){rng.randint(26, 30)}1231(10){lot}(21){rng.randint(1, 10**9)}"
        bc = zxingcpp.create_barcode(hri, F.DataMatrix, gs1=True, forceSquare=True)
        return bc.bytes.decode("latin-1"), bc
    text = f"https://store.example/i/{gtin}/{lot}"
    return text, zxingcpp.create_barcode(text, F.QRCode)


def _symbol_image(bc: zxingcpp.Barcode, module_px: int) -> np.ndarray:
    img = np.array(zxingcpp.write_barcode_to_image(bc, scale=module_px, add_quiet_zones=True))
    if bc.format in (F.EAN13, F.UPCA, F.Code128):  # linear: zxing's writer gives a 1-module-high row
        img = cv2.resize(img, (img.shape[1], max(img.shape[0], 40 * module_px)), interpolation=cv2.INTER_NEAREST)
    return img


def _background(rng: random.Random, w: int, h: int) -> np.ndarray:
    small = np.random.default_rng(rng.randint(0, 2**31)).integers(60, 200, size=(h // 40 + 2, w // 40 + 2))
    bg = cv2.resize(small.astype(np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    return bg.astype(np.float32)


def _place(rng: random.Random, size: tuple[int, int], symbol: np.ndarray, condition: str) -> tuple[np.ndarray, float]:
    w, h = size
    canvas = _background(rng, w, h)
    sym = symbol.astype(np.float32)
    if condition == "low-contrast":
        sym = 120 + sym * (rng.uniform(50, 70) / 255.0)
    tilt = rng.uniform(5, 45) if condition == "tilt" else rng.uniform(-2, 2)
    sh, sw = sym.shape
    scale = min(1.0, 0.9 * min(w / (sw * 1.1), h / (sh * 1.1)))
    if condition == "tilt":  # a tilted symbol must still fit in the frame
        rad = np.deg2rad(abs(tilt))
        span_w = sw * np.cos(rad) + sh * np.sin(rad)
        span_h = sw * np.sin(rad) + sh * np.cos(rad)
        scale = min(scale, 0.95 * min(w / span_w, h / span_h))
    cx = rng.uniform(0.5 * w - 0.15 * w, 0.5 * w + 0.15 * w)
    cy = rng.uniform(0.5 * h - 0.12 * h, 0.5 * h + 0.12 * h)
    m = cv2.getRotationMatrix2D((sw / 2, sh / 2), tilt, scale)
    m[0, 2] += cx - sw / 2
    m[1, 2] += cy - sh / 2
    if condition == "perspective":
        src = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
        dst = cv2.transform(src[None], m)[0]
        jitter = 0.12 * min(sw, sh) * scale + 0.04 * sw * scale
        dst = dst + np.float32([[rng.uniform(-jitter, jitter), rng.uniform(-jitter, jitter)] for _ in range(4)])
        p = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
        warped = cv2.warpPerspective(sym, p, (w, h), flags=cv2.INTER_LINEAR, borderValue=-1)
        mask = cv2.warpPerspective(np.ones_like(sym), p, (w, h), flags=cv2.INTER_LINEAR)
    else:
        warped = cv2.warpAffine(sym, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=-1)
        mask = cv2.warpAffine(np.ones_like(sym), m, (w, h), flags=cv2.INTER_LINEAR)
    canvas = canvas * (1 - mask) + warped * mask
    if condition == "blur":
        canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(1.0, 1.8))
    return canvas, tilt


def _frames(rng: random.Random, base: np.ndarray, condition: str, n: int) -> list[np.ndarray]:
    out = []
    nrng = np.random.default_rng(rng.randint(0, 2**31))
    sigma = rng.uniform(12, 22) if condition == "noise" else 3.0
    for _ in range(n):
        dx, dy = rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)
        shaken = cv2.warpAffine(base, np.float32([[1, 0, dx], [0, 1, dy]]), (base.shape[1], base.shape[0]),
                                borderMode=cv2.BORDER_REPLICATE)
        noisy = shaken + nrng.normal(0, sigma, size=base.shape).astype(np.float32)
        out.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return out


def make_scenes(seed: int, sizes: tuple[tuple[int, int], ...], per_cell: int, frames_per_scene: int,
                empty_share: float = 0.08) -> Iterator[Scene]:
    """Every (size, kind, condition) cell `per_cell` times, plus scenes with no code, shuffled."""
    rng = random.Random(seed)
    cells = [(s, k, c) for s in sizes for k in KINDS for c in CONDITIONS for _ in range(per_cell)]
    n_empty = max(1, round(len(cells) * empty_share / (1 - empty_share)))
    cells += [(sizes[i % len(sizes)], "none", "clean") for i in range(n_empty)]
    rng.shuffle(cells)
    for size, kind, condition in cells:
        if kind == "none":
            base = _background(rng, *size)
            yield Scene(kind, condition, size, None, _frames(rng, base, condition, frames_per_scene))
            continue
        content, bc = _content(kind, rng)
        module_px = rng.choice((2, 3, 3, 4)) if size[0] >= 1280 else rng.choice((2, 2, 3))
        symbol = _symbol_image(bc, module_px)
        base, tilt = _place(rng, size, symbol, condition)
        yield Scene(kind, condition, size, canonical(content), _frames(rng, base, condition, frames_per_scene), tilt)
