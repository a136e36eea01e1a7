"""The answer line every scanning screen shows: words, a colour, and a number that changes per answer.

`kind` is "ok" (green: saved), "error" (red: refused, nothing changed), "info" (grey: what to do next)
or "warn" (amber: saved, but look). `no` goes up with every answer, even a repeated one, so the
screen flashes (or buzzes) once per scan and never misses the second of two identical answers.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("ok", "error", "info", "warn")


@dataclass
class Answer:
    """The last answer to a scan or a tap."""

    text: str = ""
    kind: str = "info"
    no: int = 0

    def say(self, text: str, kind: str = "info") -> None:
        """Replace the answer; `kind` is one of KINDS."""
        if kind not in KINDS:
            raise ValueError(f"unknown answer kind {kind!r}")
        self.text, self.kind = text, kind
        self.no += 1
