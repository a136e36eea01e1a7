"""A printable sheet of labels: one HTML page, A4, a grid of SVG labels that prints as it shows."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from device.labels.codes import Label
from device.labels.render import render_svg

__all__ = ["render_sheet"]

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def render_sheet(labels: Iterable[Label], *, title: str = "Labels", columns: int = 3) -> str:
    """An HTML document with every label as inline SVG, laid out in `columns` for A4."""
    cells = []
    for label in labels:
        svg = _PROLOGUE.sub("", render_svg(label), count=1)
        caption = f'<div class="cap">{html.escape(label.caption)}</div>' if label.caption else ""
        cells.append(f'<div class="label">{caption}{svg}</div>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
@page {{ size: A4; margin: 10mm; }}
body {{ font-family: sans-serif; margin: 0; }}
h1 {{ font-size: 14pt; }}
.grid {{ display: grid; grid-template-columns: repeat({columns}, 1fr); gap: 4mm; }}
.label {{ border: 0.2mm dashed #aaa; padding: 2mm; break-inside: avoid; text-align: center; }}
.label svg {{ max-width: 100%; height: auto; }}
.cap {{ font-size: 16pt; font-weight: bold; }}
</style></head>
<body><h1>{html.escape(title)}</h1><div class="grid">
{chr(10).join(cells)}
</div></body></html>
"""
