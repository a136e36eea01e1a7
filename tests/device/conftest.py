"""Fixtures of the device tests: the recorded captures under captures/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CAPTURES = Path(__file__).parent / "captures"


def load_capture(name: str) -> dict[str, Any]:
    """One capture file as a dict."""
    data: dict[str, Any] = json.loads((CAPTURES / name).read_text())
    return data


def wedge_captures() -> list[str]:
    """The names of the keyboard-wedge captures, one per scanner model."""
    return sorted(p.name for p in CAPTURES.glob("wedge-*.json"))
