"""Writes the capture fixtures of tests/device/captures/ (run once; the JSON files are committed).

These are not recordings from physical scanners: no scanner was attached where they were made.
They reproduce, per model, the behaviour those scanners document and that the field notes record:
inter-key timing of the HID keyboard emulation (USB fast, Bluetooth with jitter and an occasional
stall), AIM identifiers, the character substituted for GS, prefix and suffix, and how a person's
typing looks next to them. Serial frames and RFID bursts likewise. Replace them with real captures
when a device is at hand; the tests read any file of the same shape.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
GS = "\x1d"

MODELS = {
    # USB HID, factory settings: Enter suffix, no AIM, ~1-2 ms per key.
    "zebra-ds2208-usb": dict(config=dict(suffix="\n"), key_ms=(0.8, 2.0), stall=None),
    # USB HID programmed with AIM ids and GS sent as "~" (a common substitute).
    "honeywell-1950g-aim": dict(config=dict(suffix="\n", aim_ids=True, gs_substitute="~"), key_ms=(3.0, 6.0), stall=None),
    # Bluetooth HID: keys arrive in radio packets, 5-25 ms apart, with a 30 ms stall now and then.
    "socket-s700-bluetooth": dict(config=dict(suffix="\n", max_gap_ms=40.0), key_ms=(5.0, 25.0), stall=30.0),
    # Prefix and Tab suffix, as some stores program them.
    "datalogic-qd2590-prefix": dict(config=dict(prefix="#", suffix="\t", aim_ids=True, gs_substitute="|"), key_ms=(2.0, 4.0), stall=None),
}

SCANS = [
    ("]E0", "4006381333931", "4006381333931"),
    ("]C1", f"0109506000134352172712311{0}ABC123{GS}21XYZ789".replace("1710", "17").replace("1{0}", "10"), None),
    ("]C0", "loc-BR-02-05-3", "loc-BR-02-05-3"),
    ("]d2", f"0109506000134352{GS}", None),
    ("]Q3", f"0100614141000012{GS}10LOT7", None),
    ("]E4", "12345670", "12345670"),
]


def _scan_keys(rng: random.Random, model: dict, aim: str, data: str, t: float) -> tuple[list[list], float, dict]:
    cfg = model["config"]
    sub = cfg.get("gs_substitute")
    body = data.rstrip(GS)
    wire = (aim if cfg.get("aim_ids") else "") + body.replace(GS, sub or "")  # no key types GS
    keys = []
    for ch in cfg.get("prefix", "") + wire + cfg["suffix"]:
        keys.append([{"\n": "Enter", "\t": "Tab"}.get(ch, ch), round(t, 4)])
        lo, hi = model["key_ms"]
        gap = rng.uniform(lo, hi)
        if model["stall"] and rng.random() < 0.05:
            gap = model["stall"]
        t += gap / 1000
    expected = {"text": body if (sub or GS not in body) else body.replace(GS, ""),
                "aim": aim if cfg.get("aim_ids") else None}
    if not sub and GS in body:
        expected["text"] = body.replace(GS, "")  # a keyboard cannot type GS: it is simply lost
    return keys, t, expected


def wedge() -> None:
    for name, model in MODELS.items():
        rng = random.Random(name)
        t, keys, expected, typed = 1.0, [], [], []
        for i, (aim, data, _) in enumerate(SCANS):
            k, t, e = _scan_keys(rng, model, aim, data, t)
            keys += k
            expected.append(e)
            t += rng.uniform(0.4, 1.2)  # back to back, as an associate works a cart
            if i == 2:  # a person types a quantity and presses Enter between scans
                for ch in "12":
                    keys.append([ch, round(t, 4)])
                    t += rng.uniform(0.11, 0.3)
                keys.append(["Enter", round(t, 4)])
                typed.append("12\n")
                t += 0.5
        (HERE / f"wedge-{name}.json").write_text(json.dumps(
            {"model": name, "config": model["config"], "keys": keys, "scans": expected, "typed": typed}, indent=1))


def serial() -> None:
    frames = [b"]E04006381333931\r", b"]C10109506000134352172712311 0ABC123\x1d21XYZ789\r".replace(b"1 0", b"10"),
              b"]C0loc-A-03-02-1\r", b"]E4123", b"45670\r\n", b"\x00\xff\xfe garbage without suffix"]
    chunks = [list(f) for f in frames]
    (HERE / "serial-honeywell-cdc.json").write_text(json.dumps({
        "model": "honeywell-1950g-usb-cdc", "suffix": "\r", "chunks": chunks,
        "expected": [["]E0", "4006381333931"], ["]C1", "010950600013435217271231" + "10ABC123\x1d21XYZ789"],
                     ["]C0", "loc-A-03-02-1"], ["]E4", "12345670"]]}, indent=1))


def rfid() -> None:
    rng = random.Random(7)
    shelf = ["3014257BF7194E4000001A85", "3014257BF7194E4000001A86", "3014257BF7194E4000001A87",
             "3614257BF6B7A659B2C2BF100000000000000000000000000000", "3114257BF4499602D2000000",
             "3214257BF460720000000190", "3314257BF40C0E4000000190", "E2801160600002054B6A5E33"]
    reads, t = [], 1000.0
    for _ in range(12):  # 12 inventory rounds over 1.2 s; each tag seen on one or both antennas
        for epc in shelf:
            for antenna in (1, 2):
                if rng.random() < 0.7:
                    reads.append({"epc": epc, "t": round(t, 3), "antenna": antenna, "rssi": round(rng.uniform(-70, -45), 1)})
                    t += 0.004
        t += 0.05
    reads.append({"epc": "not-hex!", "t": round(t, 3), "antenna": 1, "rssi": None})
    (HERE / "rfid-shelf-burst.json").write_text(json.dumps({"reader": "impinj-r700-llrp", "reads": reads,
                                                            "distinct": shelf}, indent=1))


if __name__ == "__main__":
    wedge()
    serial()
    rfid()
