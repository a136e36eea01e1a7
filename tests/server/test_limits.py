"""Body size and per-device rate limits, through the real app and on their own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from server_stub.app import create_app
from server_stub.limits import DeviceRateLimit, TokenBucket, device_key
from server_stub.masterdata import load_master_data
from server_stub.settings import Settings
from tests.server.helpers import STORE, AsgiClient, Device, demo_master_data
from tests.support.devices import approved_device

# Signatures are required, as by default: a refused size or rate is answered before any signature
# check (so an unsigned flood costs no verification), and a signed device is keyed by its keyid.
SMALL = Settings(max_body_bytes=2_000, max_push_body_bytes=20_000, device_rate_per_s=1.0, device_rate_burst=3)


@pytest.fixture
def small_app(tmp_path: object) -> Iterator[FastAPI]:
    """The service with tight limits, on SQLite."""
    application = create_app(f"sqlite:///{tmp_path}/limits.db", settings=SMALL)
    load_master_data(application.state.services.engine, demo_master_data())
    yield application
    application.state.services.engine.dispose()


@pytest.fixture
def small(small_app: FastAPI) -> Iterator[AsgiClient]:
    with AsgiClient(small_app) as c:
        yield c


def _detail(response: httpx.Response) -> dict[str, str]:
    detail: dict[str, str] = response.json()["detail"]
    return detail


def test_a_declared_body_past_the_limit_is_refused_with_413_before_it_is_read(small: AsgiClient) -> None:
    response = small.post(f"/v1/stores/{STORE}/tasks", content=b"{" + b" " * 3_000 + b"}",
                          headers={"content-type": "application/json", "x-device-id": "HH-A"})
    assert response.status_code == 413
    assert _detail(response)["code"] == "payload_too_large"
    assert "2,000 bytes" in _detail(response)["message"]


def test_a_streamed_body_past_the_limit_is_refused_with_413(small: AsgiClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    async def achunks() -> object:
        for chunk in chunks():
            yield chunk

    response = small.post(f"/v1/stores/{STORE}/tasks", content=achunks(),
                          headers={"content-type": "application/json", "x-device-id": "HH-B"})
    assert response.status_code == 413, response.text
    assert _detail(response)["code"] == "payload_too_large"


def test_a_streamed_push_past_its_limit_is_refused_with_413(small: AsgiClient) -> None:
    async def body() -> object:
        for _ in range(30):
            yield b" " * 1_000

    response = small.post(f"/v1/stores/{STORE}/ops", content=body(),
                          headers={"content-type": "application/json", "x-device-id": "HH-C"})
    assert response.status_code == 413, response.text
    assert "20,000 bytes" in _detail(response)["message"]


def test_a_push_has_a_larger_limit_than_other_routes(small: AsgiClient) -> None:
    device = Device(small, STORE, "HH-D", "U-ASSOC")
    op = device.op("task.release", {"task_id": "T-x" + "x" * 60})
    body = json.dumps({"ops": [op.model_dump(mode="json")] * 1, "device_status": {"app_version": "a" * 32}})
    padded = body[:-1] + " " * (5_000 - len(body)) + "}"
    response = small.post(f"/v1/stores/{STORE}/ops", content=padded.encode(), auth=device.auth,
                          headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


def test_a_content_length_that_is_not_a_number_is_a_400(small: AsgiClient) -> None:
    response = small.post(f"/v1/stores/{STORE}/tasks", content=b"{}",
                          headers={"content-type": "application/json", "content-length": "12abc"})
    assert response.status_code == 400
    assert _detail(response)["code"] == "bad_content_length"


def test_a_device_past_its_burst_gets_429_with_retry_after_and_others_are_not_held(small: AsgiClient) -> None:
    url = f"/v1/stores/{STORE}/tasks"
    engine = small.app.state.services.engine
    hh_e, hh_f = approved_device(engine, STORE, "HH-E"), approved_device(engine, STORE, "HH-F")
    answers = [small.get(url, auth=hh_e).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = small.get(url, auth=hh_e)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert _detail(refused)["code"] == "rate_limited"
    assert "device HH-E" in _detail(refused)["message"] and "retry" in _detail(refused)["message"]
    assert small.get(url, auth=hh_f).status_code == 200
    assert small.get("/healthz", auth=hh_e).status_code == 200
    # Its bucket is the device's, whichever way it names itself: X-Device-Id, or the signature's keyid.
    assert small.get(url, headers={"x-device-id": "HH-E"}).status_code == 429


def test_unsigned_requests_are_limited_too_and_refused_after(small: AsgiClient) -> None:
    url = f"/v1/stores/{STORE}/tasks"
    answers = [small.get(url, headers={"x-device-id": "HH-G"}) for _ in range(4)]
    assert [(a.status_code, _detail(a)["code"]) for a in answers] == [
        (401, "signature_missing"), (401, "signature_missing"), (401, "signature_missing"), (429, "rate_limited")]


def test_the_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=2, now=0.0)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0
    assert bucket.take(10.0) == 0.0 and bucket.tokens == pytest.approx(1.0)  # capped at the burst


def test_a_claimed_device_is_keyed_with_its_address_so_it_cannot_spend_another_clients_budget() -> None:
    def scope(headers: list[tuple[bytes, bytes]], host: str, state: dict[str, object] | None = None) -> dict[str, object]:
        return {"type": "http", "headers": headers, "client": (host, 1), "state": state or {}}

    assert device_key(scope([(b"x-device-id", b"HH-1")], "10.0.0.5")) == ("device:HH-1@10.0.0.5", "device HH-1")
    sig = b'sig1=("@method" "@path");created=1;keyid="S-100/HH-2";alg="ed25519"'
    assert device_key(scope([(b"signature-input", sig)], "10.0.0.6")) == ("device:HH-2@10.0.0.6", "device HH-2")
    assert device_key(scope([(b"x-device-id", b"<script>")], "10.0.0.7"))[0] == "client:10.0.0.7"
    assert device_key(scope([], "10.0.0.8", {"device_id": "HH-9"}))[0] == "device:HH-9"


def test_the_rate_limiter_forgets_the_least_recently_used_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("server_stub.limits.MAX_BUCKETS", 2)
    limiter = DeviceRateLimit(lambda *a: None, rate_per_s=1.0, burst=1, clock=lambda: 0.0)  # type: ignore[arg-type]
    for key in ("a", "b", "a", "c"):
        limiter.wait_for(key)
    assert list(limiter.buckets) == ["a", "c"]


def test_a_limit_without_a_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        DeviceRateLimit(lambda *a: None, rate_per_s=0, burst=1)  # type: ignore[arg-type]
