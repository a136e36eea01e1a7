"""Keyboard-wedge scanners: keystrokes in, scans out, told apart from typing by inter-key timing.

A wedge scanner "types" its data as a burst of keystrokes, a few milliseconds apart, usually
followed by Enter. A person types 80 ms or more apart. `WedgeAssembler.feed(key, t)` takes each
keystroke with its time and returns what it completes: a `ScanEvent` for a burst, `TypedText`
for keys a person typed. `flush(now)` ends a burst that has no suffix (scanners set to send none).

Per scanner, `WedgeConfig` says how it was programmed: prefix and suffix, the character it sends
for the GS1 group separator (a keyboard cannot type ASCII 29; scanners substitute one, often a
character the data never holds), and whether it sends AIM symbology identifiers (`]C1`, `]d2`,
`]Q3`, `]e0`, `]E0`). The key names "Enter" and "Tab" are accepted for "\\n" and "\\t".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from device.events import AIM_IDS, GS, ScanEvent, SourceKind, Symbology, split_aim

__all__ = ["TypedText", "WedgeAssembler", "WedgeConfig"]

_KEY_NAMES = {"enter": "\n", "return": "\n", "numpadenter": "\n", "tab": "\t", "space": " "}


@dataclass(frozen=True, slots=True)
class WedgeConfig:
    """How a wedge scanner is programmed, and the timing that tells it from a person."""

    prefix: str = ""
    suffix: str = "\n"  # "" for scanners that send no terminator: the burst ends on silence
    gs_substitute: str | None = None  # e.g. "~" or "\x1d" when the host passes it through
    aim_ids: bool = False  # the scanner sends AIM identifiers before the data
    max_gap_ms: float = 40.0  # longest pause inside a scanner burst (Bluetooth scanners jitter)
    min_length: int = 4  # shorter bursts are keys a fast person hit together, not a barcode
    silence_ms: float = 120.0  # with no suffix: the pause that ends a burst
    source: str = "wedge"


@dataclass(frozen=True, slots=True)
class TypedText:
    """Keys a person typed (not a scan): the UI puts them in the focused field as usual."""

    text: str
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def _key_char(key: str) -> str:
    if len(key) == 1:
        return key
    return _KEY_NAMES.get(key.lower(), "")


class WedgeAssembler:
    """Assembles keystroke bursts into scans; slow keys come back as `TypedText`."""

    def __init__(self, config: WedgeConfig | None = None, *, epoch: dt.datetime | None = None) -> None:
        self.config = config or WedgeConfig()
        self._epoch = epoch
        self._keys: list[tuple[str, float]] = []  # (char, t in seconds)

    def _when(self, t: float) -> dt.datetime:
        if self._epoch is None:
            return dt.datetime.now(dt.UTC)
        return self._epoch + dt.timedelta(seconds=t)

    def feed(self, key: str, t: float) -> list[ScanEvent | TypedText]:
        """Take one keystroke at time `t` (seconds, monotonic); return the scans or typing it completes."""
        char = _key_char(key)
        if not char:
            return []  # Shift, Alt and the like: the character arrives with the next key
        out: list[ScanEvent | TypedText] = []
        cfg = self.config
        if self._keys and not cfg.suffix and (t - self._keys[-1][1]) * 1000 > cfg.silence_ms:
            out.extend(self.flush(t))
        self._keys.append((char, t))
        if cfg.suffix and self._buffer().endswith(cfg.suffix):
            out.extend(self._complete(len(cfg.suffix)))
        return out

    def flush(self, now: float) -> list[ScanEvent | TypedText]:
        """End whatever is buffered when `silence_ms` has passed since the last key."""
        if not self._keys or (now - self._keys[-1][1]) * 1000 < self.config.silence_ms:
            return []
        if self.config.suffix:
            # Keys with no terminator after a pause: a person typing (or a lost suffix). Give
            # them back as typing; a scan is only ever recognised with its suffix.
            text = self._buffer()
            self._keys.clear()
            return [TypedText(text, self._when(now))]
        return self._complete(0)

    def _buffer(self) -> str:
        return "".join(c for c, _ in self._keys)

    def _complete(self, suffix_len: int) -> list[ScanEvent | TypedText]:
        cfg = self.config
        keys = self._keys[: len(self._keys) - suffix_len] if suffix_len else list(self._keys)
        suffix_keys = self._keys[len(keys):]
        self._keys = []
        # The burst is the run of keys, ending at the suffix, with no gap longer than max_gap.
        times = [t for _, t in keys] + [t for _, t in suffix_keys[:1]]
        start = len(keys) if suffix_keys else max(len(keys) - 1, 0)
        while start > 0 and (times[start] - times[start - 1]) * 1000 <= cfg.max_gap_ms:
            start -= 1
        burst = "".join(c for c, _ in keys[start:])
        typed = "".join(c for c, _ in keys[:start])
        out: list[ScanEvent | TypedText] = []
        at = self._when(keys[-1][1] if keys else (suffix_keys[0][1] if suffix_keys else 0.0))
        if cfg.prefix and burst.startswith(cfg.prefix) and len(burst) - len(cfg.prefix) >= 1:
            burst = burst[len(cfg.prefix):]
        elif cfg.prefix or len(burst) < cfg.min_length:
            typed, burst = typed + burst, ""
        if typed:
            out.append(TypedText(typed + ("\n" if not burst and suffix_len else ""), at))
        if burst:
            out.append(self._event(burst, at))
        return out

    def _event(self, burst: str, at: dt.datetime) -> ScanEvent:
        cfg = self.config
        raw = burst.encode("utf-8", "surrogatepass")
        text = burst
        if cfg.gs_substitute:
            text = text.replace(cfg.gs_substitute, GS)
        aim: str | None = None
        symbology = Symbology.UNKNOWN
        if cfg.aim_ids:
            aim, text = split_aim(text)
            if aim is not None:
                symbology = AIM_IDS[aim]
        return ScanEvent(source=cfg.source, source_kind=SourceKind.WEDGE, symbology=symbology, raw=raw,
                         text=text, at=at, aim=aim)
