"""The op fingerprint is stored, so its bytes must never change: the fast path equals json.dumps.
And the answers built by hand are the ones pydantic builds."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from typing import Any

from edge_sync.contract import SCHEMA_VERSION, Op, OpResult, OpStatus, OpType
from server_stub.ingest import _effective_at, answer_of_ours, canonical_json, fingerprint, utc_iso


def reference_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def random_value(rnd: random.Random, depth: int = 0) -> Any:
    alphabet = [chr(c) for c in range(0x250)] + ["\u2028", "\u2029", "\ufeff", "\U0001f600", "\U0010ffff", "\x7f"]

    def text() -> str:
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 10)))

    roll = rnd.random()
    if depth < 3 and roll < 0.15:
        return {text(): random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))}
    if depth < 3 and roll < 0.25:
        return [random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    if roll < 0.4:
        return rnd.choice([True, False, None])
    if roll < 0.6:
        return rnd.choice([0, -1, 2**62, -(2**63), 2**63, 2**70, rnd.randint(-(10**9), 10**9)])
    if roll < 0.7:
        return rnd.choice([0.1, 1e16, 1e-7, 3.0, -0.0])
    return text()


def test_canonical_json_is_byte_for_byte_what_json_dumps_writes() -> None:
    rnd = random.Random(20240601)
    for _ in range(5_000):
        value = {str(random_value(rnd)): random_value(rnd) for _ in range(rnd.randint(0, 6))}
        assert canonical_json(value) == reference_json(value), value


def test_the_fingerprint_is_the_sha256_of_the_sorted_compact_envelope() -> None:
    rnd = random.Random(7)
    for n in range(200):
        payload = {"item_id": f"I-{n}", "qty": n, "note": random_value(rnd), "nested": {"b": [1, "é"], "a": None}}
        op = Op(
            op_id=uuid.uuid4(), store_id="S-1", device_id="HH-1", seq=n + 1, type=OpType.PUTAWAY_CONFIRM,
            schema_version=SCHEMA_VERSION, user_id="U-1", session_id="s", clock_offset_ms=-n,
            occurred_at=dt.datetime(2024, 6, 1, 12, 0, n % 60, tzinfo=dt.timezone(dt.timedelta(hours=2))), payload=payload,
        )
        envelope = {
            "op_id": str(op.op_id), "store_id": op.store_id, "device_id": op.device_id, "seq": op.seq,
            "type": op.type.value, "schema_version": op.schema_version, "user_id": op.user_id,
            "session_id": op.session_id, "occurred_at": op.occurred_at.astimezone(dt.UTC).isoformat(),
            "clock_offset_ms": op.clock_offset_ms, "payload": op.payload,
        }
        assert fingerprint(op) == hashlib.sha256(reference_json(envelope)).hexdigest()


def test_an_answer_built_by_hand_is_the_one_model_construct_builds() -> None:
    op_id, now = uuid.uuid4(), dt.datetime.now(dt.UTC)
    ours = answer_of_ours(op_id, 7, OpStatus.APPLIED, {"moved": 3}, now)
    theirs = OpResult.model_construct(op_id=op_id, seq=7, status=OpStatus.APPLIED, reason=None, expected_seq=None,
                                      result={"moved": 3}, server_time=now)
    assert ours == theirs
    assert ours.model_fields_set == theirs.model_fields_set
    assert ours.model_dump_json() == theirs.model_dump_json()
    assert OpResult.model_validate_json(ours.model_dump_json()) == theirs


def test_when_an_op_took_effect_is_its_device_time_corrected_in_utc() -> None:
    def op(at: str, offset_ms: int) -> Op:
        return Op.model_validate({
            "op_id": str(uuid.uuid4()), "store_id": "S", "device_id": "D", "seq": 1, "type": "putaway.confirm",
            "schema_version": 1, "user_id": "U", "session_id": "s", "occurred_at": at, "clock_offset_ms": offset_ms,
            "payload": {},
        })

    utc = op("2026-03-29T01:30:05.5Z", 0)
    # No offset, already UTC: the very object, whose stored text is then converted once for both columns.
    assert _effective_at(utc) is utc.occurred_at
    assert _effective_at(op("2026-03-29T03:30:05+02:00", 0)) == dt.datetime(2026, 3, 29, 1, 30, 5, tzinfo=dt.UTC)
    assert _effective_at(op("2026-03-29T03:30:05+02:00", 0)).utcoffset() == dt.timedelta(0)
    assert _effective_at(op("2026-03-29T01:30:05Z", -1500)) == dt.datetime(2026, 3, 29, 1, 30, 3, 500000, tzinfo=dt.UTC)
    assert utc_iso(op("2026-03-29T03:30:05+02:00", 0).occurred_at) == "2026-03-29T01:30:05+00:00"
    assert utc_iso(utc.occurred_at) == "2026-03-29T01:30:05.500000+00:00"
