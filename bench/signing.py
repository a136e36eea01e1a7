"""What signing every request costs: sign, verify, and a request end to end, beside an unsigned one.

    python -m bench.signing [--n 1000] [--quick]

Figures, each a median and p99 over `n` requests, all in the same run:
- sign: RequestSigner.sign on a push of 100 ops (digest of the body, Ed25519 signature);
- verify (crypto): the library's verification of that request alone;
- verify (service): SignatureGuard.verify on a SQLite service database: enrolment lookup,
  signature, digest, window, and the nonce committed to request_nonces;
- push (service): the service's side of a signed one-op push in process (check, then apply), with
  the nonce committed alone first (the reference) or written in the batch's own transaction;
- request: GET /balances of one key over loopback HTTP (uvicorn in a thread), signed against
  a service requiring signatures, and unsigned against the same service with them switched off:
  the reference. A read records its nonce in a write transaction of its own;
- push: POST /ops of one new putaway op, signed and unsigned the same way: a push writes its
  nonce in the batch's own transaction, so signing it should cost the crypto and the enrolment
  read, not a second write transaction.
Then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from http_message_signatures import HTTPMessageVerifier, MappingKeyResolver, algorithms

from bench.support import free_port
from edge_sync.contract import (
    SCHEMA_VERSION,
    ItemRecord,
    LocationKind,
    LocationRecord,
    MasterData,
    Op,
    OpType,
    PushRequest,
    Role,
    UserRecord,
)
from edge_sync.keys import public_key_text
from edge_sync.signature_profile import COVERED_COMPONENTS, TAG, EnrolmentRequest
from edge_sync.signing import RequestSigner
from server_stub import devices
from server_stub.app import create_app
from server_stub.db import write_transaction
from server_stub.masterdata import load_master_data
from server_stub.settings import Settings
from server_stub.signatures import SignatureGuard, SignedMessage, _Fields
from server_stub.txn import utcnow

STORE = "S-BENCH"


def _stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {"p50_ms": round(statistics.median(ms), 4), "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 4)}


def _timed(n: int, fn: Callable[[int], object]) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out


def _push_body() -> bytes:
    op = ('{"op_id": "%s", "store_id": "S-BENCH", "device_id": "HH-1", "seq": %d, "type": "putaway.confirm", '
          '"schema_version": 1, "user_id": "U-1", "session_id": "s-1", "occurred_at": "2025-03-03T09:00:00Z", '
          '"clock_offset_ms": 0, "payload": {"item_id": "I-1", "from_location_id": "DOCK", "to_location_id": "A-01", "qty": 1}}')
    return ('{"ops": [' + ", ".join(op % (uuid.uuid4(), i + 1) for i in range(100)) + '], "device_status": null}').encode()


def _small_store() -> MasterData:
    return MasterData(
        store_id=STORE,
        items=[ItemRecord(item_id="I-1", sku="SKU-1", gtins=["00000000000001"], description="item 1")],
        locations=[LocationRecord(location_id="DOCK", code="DOCK", zone="D", kind=LocationKind.DOCK),
                   LocationRecord(location_id="A-01", code="A-01", zone="A", kind=LocationKind.SHELF, capacity=10**6)],
        users=[UserRecord(user_id="U-1", name="Bench", role=Role.ASSOCIATE)],
    )


def _one_op_push(seq: int) -> bytes:
    op = Op(op_id=uuid.uuid4(), store_id=STORE, device_id="HH-1", seq=seq, type=OpType.PUTAWAY_CONFIRM,
            schema_version=SCHEMA_VERSION, user_id="U-1", session_id="s-1", occurred_at=dt.datetime.now(dt.UTC),
            payload={"item_id": "I-1", "from_location_id": "DOCK", "to_location_id": "A-01", "qty": 1})
    return PushRequest(ops=[op]).model_dump_json().encode()


def _enrol(app: FastAPI, key: Ed25519PrivateKey) -> None:
    request = EnrolmentRequest(store_id=STORE, device_id="HH-1", public_key=public_key_text(key))
    with write_transaction(app.state.services.engine) as conn:
        devices.request_enrolment(conn, request, utcnow())
        devices.approve(conn, STORE, "HH-1", by="bench", now=utcnow())


def _push_service(app: FastAPI, signer: RequestSigner, n: int) -> tuple[list[float], list[float]]:
    """The service's side of a signed one-op push, in process, two ways alternated on one database:
    the nonce committed in a transaction of its own before the batch (as every request did before),
    and the nonce written in the batch's own transaction (as a push does now)."""
    guard: SignatureGuard = app.state.signature_guard
    ingestor = app.state.services.ingestor
    load_master_data(app.state.services.engine, _small_store())
    alone: list[float] = []
    in_tx: list[float] = []
    seq = 0
    for _ in range(n):
        for out in (alone, in_tx):
            seq += 1
            body = _one_op_push(seq)
            request = httpx.Request("POST", f"http://svc/v1/stores/{STORE}/ops", content=body)
            signer.sign(request)
            message = SignedMessage(method="POST", url=str(request.url), headers=_Fields(request.headers.items()))
            start = time.perf_counter()
            device, nonce = guard.check(message, body, STORE)
            if out is alone:
                nonce.keep_alone()
                report = ingestor.push(STORE, PushRequest.model_validate_json(body), device_id=device.device_id)
            else:
                report = ingestor.push(STORE, PushRequest.model_validate_json(body), device_id=device.device_id,
                                       nonce=nonce)
            out.append(time.perf_counter() - start)
            assert report.results[0].status.value == "applied", report.results[0]
    return alone, in_tx


@contextlib.contextmanager
def _serve(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def run(n: int, workdir: Path) -> dict[str, object]:
    """Measure and return every figure."""
    key = Ed25519PrivateKey.generate()
    signer = RequestSigner(STORE, "HH-1", key)
    body = _push_body()
    url = f"http://svc/v1/stores/{STORE}/ops"

    def new_request(_: int) -> httpx.Request:
        return httpx.Request("POST", url, content=body, headers={"content-type": "application/json"})

    requests = [new_request(i) for i in range(n)]
    sign = _timed(n, lambda i: signer.sign(requests[i]))

    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=MappingKeyResolver(
        public_keys={signer.key_id: key.public_key()}, private_keys={}))
    crypto = _timed(n, lambda i: verifier.verify(requests[i], expect_tag=TAG, require_components=COVERED_COMPONENTS,
                                                 body=body))

    signed_app = create_app(f"sqlite:///{workdir / 'signed.db'}")
    _enrol(signed_app, key)
    guard: SignatureGuard = signed_app.state.signature_guard
    messages = [SignedMessage(method="POST", url=str(r.url), headers=_Fields(r.headers.items())) for r in requests]
    service = _timed(n, lambda i: guard.verify(messages[i], body, STORE))
    nonce_alone, nonce_in_tx = _push_service(signed_app, signer, n)

    open_app = create_app(f"sqlite:///{workdir / 'open.db'}", settings=Settings(require_signatures=False))
    for app in (signed_app, open_app):
        load_master_data(app.state.services.engine, _small_store())
    path = f"/v1/stores/{STORE}/balances"
    params = {"item_id": "I-1", "location_id": "A-01"}
    with _serve(signed_app) as signed_url, _serve(open_app) as open_url, \
            httpx.Client(base_url=signed_url, auth=signer) as signed_http, httpx.Client(base_url=open_url) as open_http:
        for http in (signed_http, open_http):  # warm both up
            for _ in range(20):
                assert http.get(path, params=params).status_code == 200
        # Alternate the two, so that load on a shared machine falls on both alike.
        signed_rt: list[float] = []
        open_rt: list[float] = []
        for _ in range(n):
            for http, out in ((signed_http, signed_rt), (open_http, open_rt)):
                start = time.perf_counter()
                response = http.get(path, params=params)
                out.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
        push_signed: list[float] = []
        push_open: list[float] = []
        ops_path = f"/v1/stores/{STORE}/ops"
        headers = {"content-type": "application/json"}
        for seq in range(1, n + 1):
            # HH-1's first 2n seqs on the signed service went to the in-process pushes above.
            for http, out, first in ((signed_http, push_signed, 2 * n), (open_http, push_open, 0)):
                one_op = _one_op_push(first + seq)
                start = time.perf_counter()
                response = http.post(ops_path, content=one_op, headers=headers)
                out.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
                assert response.json()["results"][0]["status"] == "applied", response.text
    for app in (signed_app, open_app):
        app.state.services.engine.dispose()
    request_signed, request_open = _stats(signed_rt), _stats(open_rt)
    return {
        "n": n, "body_bytes": len(body),
        "sign": _stats(sign), "verify_crypto": _stats(crypto), "verify_service": _stats(service),
        "request_signed": request_signed, "request_unsigned": request_open,
        "added_p50_ms": round(request_signed["p50_ms"] - request_open["p50_ms"], 4),
        "push_service_nonce_alone": _stats(nonce_alone), "push_service_nonce_in_tx": _stats(nonce_in_tx),
        "push_signed": _stats(push_signed), "push_unsigned": _stats(push_open),
        "push_added_p50_ms": round(_stats(push_signed)["p50_ms"] - _stats(push_open)["p50_ms"], 4),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures and their reference, then one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.signing", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="requests per figure (default 1000)")
    parser.add_argument("--quick", action="store_true", help="200 requests per figure")
    args = parser.parse_args(argv)
    n = 200 if args.quick else args.n
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(n, Path(tmp))
    print(f"signed requests, {n} each, push body {figures['body_bytes']} bytes (100 ops)")
    for name in ("sign", "verify_crypto", "verify_service", "push_service_nonce_alone", "push_service_nonce_in_tx",
                 "request_signed", "request_unsigned", "push_signed", "push_unsigned"):
        f = figures[name]
        assert isinstance(f, dict)
        print(f"  {name:25} p50 {f['p50_ms']:8.3f} ms   p99 {f['p99_ms']:8.3f} ms")
    print(f"  reference: request_unsigned; signing adds {figures['added_p50_ms']:.3f} ms at the median")
    print(f"  reference: push_unsigned (one op); signing adds {figures['push_added_p50_ms']:.3f} ms at the median")
    alone_p50 = figures["push_service_nonce_alone"]["p50_ms"]  # type: ignore[index]
    in_tx_p50 = figures["push_service_nonce_in_tx"]["p50_ms"]  # type: ignore[index]
    print(f"  reference: push_service_nonce_alone; the nonce in the batch's transaction saves {alone_p50 - in_tx_p50:.3f} ms"
          " at the median")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
