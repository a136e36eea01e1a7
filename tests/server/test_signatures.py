"""Signed requests: every refusal answers 401/403 with a code a device can act on, and changes nothing."""

from __future__ import annotations

import argparse
import datetime as dt
import threading
from collections.abc import Callable, Generator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from edge_sync.signing import RequestSigner, enrol, enrolment_status
from server_stub import devices
from server_stub import tables as t
from server_stub.commands import devices as devices_command
from server_stub.db import write_transaction
from server_stub.txn import utcnow
from tests.server.helpers import STORE, AsgiClient, Device, LiveServer
from tests.support.devices import approved_device, enrol_key

PUTAWAY = "putaway.confirm"


def _putaway_body(device: Device) -> dict[str, Any]:
    op = device.op(PUTAWAY, {"item_id": "I-1", "from_location_id": "DOCK", "to_location_id": "A-01", "qty": 1})
    return {"ops": [op.model_dump(mode="json")]}


def _counts(app: FastAPI) -> dict[str, int]:
    with app.state.services.engine.connect() as conn:
        return {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in (("ops", t.ops), ("ledger", t.ledger), ("nonces", t.request_nonces),
                                    ("devices", t.devices))}


class _Then(httpx.Auth):
    """Sign with `signer`, then change the request the way an attacker or a broken proxy would."""

    requires_request_body = True

    def __init__(self, signer: RequestSigner, change: Callable[[httpx.Request], httpx.Request]) -> None:
        self.signer = signer
        self.change = change

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.signer.sign(request)
        yield self.change(request)


class _Replay(httpx.Auth):
    """Signs the first request; sends every later one with that first signature again."""

    requires_request_body = True

    def __init__(self, signer: RequestSigner) -> None:
        self.signer = signer
        self.headers: dict[str, str] | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.headers is None:
            self.signer.sign(request)
            self.headers = {k: request.headers[k] for k in ("idempotency-key", "content-digest", "signature-input", "signature")}
        else:
            request.headers.update(self.headers)
        yield request


def _tamper_body(request: httpx.Request) -> httpx.Request:
    body = request.content.replace(b'"qty":1', b'"qty":9')
    assert body != request.content
    headers = {k: v for k, v in request.headers.items() if k != "content-length"}
    return httpx.Request(request.method, request.url, headers=headers, content=body)


def _refused(client: AsgiClient, app: FastAPI, handheld: Device, auth: httpx.Auth | None, status: int, code: str,
             store: str = STORE) -> dict[str, Any]:
    before = _counts(app)
    response = client.post(f"/v1/stores/{store}/ops", json=_putaway_body(handheld), auth=auth)
    assert response.status_code == status, response.text
    detail: dict[str, Any] = response.json()["detail"]
    assert detail["code"] == code and detail["message"]
    assert _counts(app) == before, "a refused request changed the database"
    return detail


def test_a_signed_push_from_an_approved_device_is_applied(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    response = client.post(f"/v1/stores/{STORE}/ops", json=_putaway_body(handheld), auth=handheld.auth)
    assert response.status_code == 200 and response.json()["results"][0]["status"] == "applied"
    assert _counts(app)["nonces"] >= 1


def test_an_unsigned_request_is_refused_with_401(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    detail = _refused(client, app, handheld, None, 401, "signature_missing")
    assert "enrolled" in detail["message"]
    assert client.get(f"/v1/stores/{STORE}/balances", auth=None).status_code == 401


def test_a_signature_by_another_key_than_the_enrolled_one_is_refused(client: AsgiClient, handheld: Device,
                                                                      app: FastAPI) -> None:
    handheld.auth  # enrolled with its own key
    impostor = RequestSigner(STORE, handheld.device_id, Ed25519PrivateKey.generate())
    _refused(client, app, handheld, impostor, 401, "signature_invalid")


def test_a_changed_path_breaks_the_signature(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    signer = handheld.auth
    assert isinstance(signer, RequestSigner)
    moved = _Then(signer, lambda r: httpx.Request(r.method, str(r.url).replace("/ops", "/ops?x=1"),
                                                  headers=r.headers, content=r.content))
    _refused(client, app, handheld, moved, 401, "signature_invalid")


def test_a_tampered_body_is_refused_as_a_digest_mismatch(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    signer = handheld.auth
    assert isinstance(signer, RequestSigner)
    detail = _refused(client, app, handheld, _Then(signer, _tamper_body), 401, "digest_mismatch")
    assert "changed" in detail["message"]


def test_a_signature_created_outside_the_window_is_refused(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    key = Ed25519PrivateKey.generate()
    enrol_key(app.state.services.engine, STORE, "HH-CLOCK", key)
    window = app.state.services.settings.signature_window_s
    for skew in (-window - 60, window + 60):
        off = RequestSigner(STORE, "HH-CLOCK", key,
                            clock=lambda s=skew: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=s))  # type: ignore[misc]
        _refused(client, app, handheld, off, 401, "signature_expired")
    within = RequestSigner(STORE, "HH-CLOCK", key, clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=window - 30))
    assert client.get(f"/v1/stores/{STORE}/balances", auth=within).status_code == 200


def test_a_replayed_nonce_is_refused_and_the_first_request_counts_once(client: AsgiClient, handheld: Device,
                                                                       app: FastAPI) -> None:
    signer = handheld.auth
    assert isinstance(signer, RequestSigner)
    replay = _Replay(signer)
    body = _putaway_body(handheld)
    first = client.post(f"/v1/stores/{STORE}/ops", json=body, auth=replay)
    assert first.status_code == 200, first.text
    before = _counts(app)
    again = client.post(f"/v1/stores/{STORE}/ops", json=body, auth=replay)
    assert again.status_code == 401 and again.json()["detail"]["code"] == "nonce_replayed"
    assert _counts(app) == before


def test_an_unknown_device_is_refused(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    stranger = RequestSigner(STORE, "HH-STRANGER", Ed25519PrivateKey.generate())
    detail = _refused(client, app, handheld, stranger, 401, "device_unknown")
    assert "HH-STRANGER" in detail["message"]


def test_a_device_not_yet_approved_is_refused(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    key = Ed25519PrivateKey.generate()
    enrol_key(app.state.services.engine, STORE, "HH-NEW", key, approve=False)
    detail = _refused(client, app, handheld, RequestSigner(STORE, "HH-NEW", key), 403, "device_not_approved")
    assert "manager" in detail["message"]


def test_a_revoked_device_is_refused(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    signer = handheld.auth
    with write_transaction(app.state.services.engine) as conn:
        devices.revoke(conn, STORE, handheld.device_id, by="U-MGR", now=utcnow())
    _refused(client, app, handheld, signer, 403, "device_revoked")


def test_a_device_of_another_store_cannot_act_for_this_one(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    elsewhere = approved_device(app.state.services.engine, "S-200", "HH-1")
    detail = _refused(client, app, handheld, elsewhere, 403, "device_other_store")
    assert "S-200" in detail["message"] and STORE in detail["message"]


def test_a_device_enrols_itself_a_manager_approves_it_and_then_revokes_it(client: AsgiClient, app: FastAPI) -> None:
    signer = RequestSigner(STORE, "HH-9", Ed25519PrivateKey.generate())
    http = _SyncOver(client)
    asked = enrol(http, signer, name="Handheld by the dock")  # type: ignore[arg-type]
    assert asked.status == "pending" and asked.name == "Handheld by the dock"
    assert enrol(http, signer).status == "pending"  # type: ignore[arg-type]  # asking again changes nothing
    assert client.get(f"/v1/stores/{STORE}/balances", auth=signer).json()["detail"]["code"] == "device_not_approved"
    pending = client.get(f"/v1/stores/{STORE}/enrolments", params={"status": "pending"}).json()
    assert [p["device_id"] for p in pending] == ["HH-9"]
    url = f"/v1/stores/{STORE}/enrolments/HH-9"
    assert client.post(f"{url}/approve", headers={"X-User-Id": "U-ASSOC"}).status_code == 403
    approved = client.post(f"{url}/approve", headers={"X-User-Id": "U-MGR"}).json()
    assert approved["status"] == "approved" and approved["decided_by"] == "U-MGR"
    assert enrolment_status(http, signer).status == "approved"  # type: ignore[arg-type]
    assert client.get(f"/v1/stores/{STORE}/balances", auth=signer).status_code == 200
    assert client.post(f"{url}/revoke", headers={"X-User-Id": "U-MGR"}).json()["status"] == "revoked"
    assert client.get(f"/v1/stores/{STORE}/balances", auth=signer).json()["detail"]["code"] == "device_revoked"


def test_an_enrolment_read_at_driver_level_is_the_one_the_listing_reads(client: AsgiClient, app: FastAPI) -> None:
    """`devices.find` (every signed request) reads the row by hand: its times, aware and in UTC, and
    every field equal what the Core listing gives, pending and then decided, on either database."""
    signer = RequestSigner(STORE, "HH-8", Ed25519PrivateKey.generate())
    enrol(_SyncOver(client), signer, name="Till 2")  # type: ignore[arg-type]
    engine = app.state.services.engine
    for step in ("pending", "approved"):
        if step == "approved":
            client.post(f"/v1/stores/{STORE}/enrolments/HH-8/approve", headers={"X-User-Id": "U-MGR"})
        with engine.connect() as conn:
            found = devices.find(conn, STORE, "HH-8")
            [listed] = [r for r in devices.list_enrolments(conn, STORE) if r.device_id == "HH-8"]
            assert devices.find(conn, STORE, "HH-404") is None
        assert found == listed and found is not None and found.status == step
        assert found.requested_at.utcoffset() == dt.timedelta(0)
        assert (found.decided_at is None) == (step == "pending")


def test_an_enrolment_must_be_signed_by_the_key_it_presents(client: AsgiClient, app: FastAPI) -> None:
    signer = RequestSigner(STORE, "HH-8", Ed25519PrivateKey.generate())
    other = RequestSigner(STORE, "HH-8", Ed25519PrivateKey.generate())
    body = {"store_id": STORE, "device_id": "HH-8", "public_key": signer.public_key}
    response = client.post("/v1/enrolments", json=body, auth=other)
    assert response.status_code == 401 and response.json()["detail"]["code"] == "signature_invalid"
    with app.state.services.engine.connect() as conn:
        assert devices.find(conn, STORE, "HH-8") is None


def test_the_devices_command_approves_and_revokes_in_the_service_database(app: FastAPI, database_url: str,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    enrol_key(app.state.services.engine, STORE, "HH-CLI", Ed25519PrivateKey.generate(), approve=False)

    def run(*argv: str) -> int:
        parser = argparse.ArgumentParser()
        devices_command.configure(parser)
        return devices_command.run(parser.parse_args([*argv, "--database-url", database_url, "--store-id", STORE]))

    assert run("approve", "HH-CLI") == 0 and "HH-CLI in store S-100 is approved" in capsys.readouterr().out
    assert run("revoke", "HH-CLI", "--by", "admin") == 0
    assert run("approve", "HH-CLI") == 1 and "revoked" in capsys.readouterr().out
    assert run("approve", "HH-NOPE") == 1
    assert run("list", "--status", "revoked") == 0 and "HH-CLI" in capsys.readouterr().out


def test_the_acting_device_is_the_signer_not_the_x_device_id_header(client: AsgiClient, app: FastAPI) -> None:
    client.post(f"/v1/stores/{STORE}/tasks", json={"task_id": "T-S", "type": "count"}, headers={"X-User-Id": "U-MGR"})
    signer = approved_device(app.state.services.engine, STORE, "HH-2")
    claimed = client.post(f"/v1/stores/{STORE}/tasks/T-S/claim", json={}, auth=signer,
                          headers={"X-User-Id": "U-ASSOC2", "X-Device-Id": "HH-1"})
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["lease_holder_device_id"] == "HH-2"


class _SyncOver:
    """The slice of httpx.Client that edge_sync.signing's enrolment calls use, over the in-process app."""

    def __init__(self, client: AsgiClient) -> None:
        self.client = client

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.client.request(method, url, **kw)


def test_concurrent_copies_of_one_signed_push_are_applied_once_and_the_rest_refused_as_replays(
        live_server: LiveServer, handheld: Device, app: FastAPI) -> None:
    signer = handheld.auth
    assert isinstance(signer, RequestSigner)
    signed = httpx.Request("POST", f"{live_server.url}/v1/stores/{STORE}/ops", json=_putaway_body(handheld))
    signer.sign(signed)
    before = _counts(app)
    copies = 6
    start = threading.Barrier(copies)
    answers: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(timeout=30) as http:
            request = httpx.Request("POST", signed.url, headers=signed.headers, content=signed.content)
            start.wait()
            answers.append(http.send(request))

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] + [401] * (copies - 1), [r.text for r in answers]
    assert {r.json()["detail"]["code"] for r in answers if r.status_code == 401} == {"nonce_replayed"}
    after = _counts(app)
    # One push applied (its op and its two ledger rows), one nonce kept: the unique key decided.
    assert (after["ops"] - before["ops"], after["ledger"] - before["ledger"], after["nonces"] - before["nonces"]) == (1, 2, 1)


def test_a_replayed_nonce_on_a_task_command_is_refused_and_the_command_counts_once(
        client: AsgiClient, app: FastAPI) -> None:
    client.post(f"/v1/stores/{STORE}/tasks", json={"task_id": "T-R", "type": "count"}, headers={"X-User-Id": "U-MGR"})
    replay = _Replay(approved_device(app.state.services.engine, STORE, "HH-2"))
    first = client.post(f"/v1/stores/{STORE}/tasks/T-R/claim", json={}, auth=replay, headers={"X-User-Id": "U-ASSOC2"})
    assert first.status_code == 200, first.text
    before = _counts(app)
    again = client.post(f"/v1/stores/{STORE}/tasks/T-R/claim", json={}, auth=replay, headers={"X-User-Id": "U-ASSOC2"})
    assert again.status_code == 401 and again.json()["detail"]["code"] == "nonce_replayed"
    assert _counts(app) == before


def test_a_refused_push_still_spends_its_nonce(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    replay = _Replay(handheld.auth)  # type: ignore[arg-type]
    wrong_store = client.post(f"/v1/stores/{STORE}/ops", json={"ops": [{"op_id": "not an op"}]}, auth=replay)
    assert wrong_store.status_code == 422
    again = client.post(f"/v1/stores/{STORE}/ops", json={"ops": [{"op_id": "not an op"}]}, auth=replay)
    assert again.status_code == 401 and again.json()["detail"]["code"] == "nonce_replayed"


def test_a_push_writes_its_nonce_in_the_batch_transaction_and_a_read_alone(
        client: AsgiClient, handheld: Device, app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    from server_stub.signatures import RequestNonce

    alone: list[str] = []
    keep_alone = RequestNonce.keep_alone

    def counted(self: RequestNonce) -> None:
        if not self.settled:
            alone.append(self.nonce)
        keep_alone(self)

    monkeypatch.setattr(RequestNonce, "keep_alone", counted)
    before = _counts(app)["nonces"]
    assert handheld.send(PUTAWAY, {"item_id": "I-1", "from_location_id": "DOCK", "to_location_id": "A-01", "qty": 1})[
        "status"] == "applied"
    assert (alone, _counts(app)["nonces"]) == ([], before + 1)
    assert client.get(f"/v1/stores/{STORE}/balances").status_code == 200
    assert len(alone) == 1 and _counts(app)["nonces"] == before + 2


# The person a request acts for (X-User-Id, X-Session-Id) is covered whenever the request names one.


def test_a_request_naming_its_person_is_signed_over_those_headers_too() -> None:
    signer = RequestSigner(STORE, "TAB-1", Ed25519PrivateKey.generate())
    plain = httpx.Request("POST", "http://service/v1/x", content=b"{}")
    signer.sign(plain)
    assert plain.headers["signature-input"].startswith(
        'device=("@method" "@path" "@query" "content-digest" "idempotency-key");')
    named = httpx.Request("POST", "http://service/v1/x", content=b"{}",
                          headers={"X-Session-Id": "s-1", "X-User-Id": "U-MGR"})
    signer.sign(named)
    assert named.headers["signature-input"].startswith(
        'device=("@method" "@path" "@query" "content-digest" "idempotency-key" "x-user-id" "x-session-id");')


def _set(name: str, value: str) -> Callable[[httpx.Request], httpx.Request]:
    def change(request: httpx.Request) -> httpx.Request:
        request.headers[name] = value
        return request
    return change


@pytest.mark.parametrize("name", ["X-User-Id", "X-Session-Id"])
def test_a_person_header_added_after_signing_is_refused_identity_unsigned(
        client: AsgiClient, handheld: Device, app: FastAPI, name: str) -> None:
    detail = _refused(client, app, handheld, _Then(handheld.auth, _set(name, "U-MGR")), 401,  # type: ignore[arg-type]
                      "identity_unsigned")
    assert name.lower() in detail["message"] and "cover" in detail["message"]


def test_a_person_header_swapped_after_signing_does_not_verify(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    class _Named(_Then):
        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            request.headers["X-User-Id"] = "U-ASSOC"
            self.signer.sign(request)
            yield self.change(request)

    _refused(client, app, handheld, _Named(handheld.auth, _set("X-User-Id", "U-MGR")), 401,  # type: ignore[arg-type]
             "signature_invalid")


def test_a_push_naming_its_person_in_signed_headers_is_applied(client: AsgiClient, handheld: Device, app: FastAPI) -> None:
    response = client.post(f"/v1/stores/{STORE}/ops", json=_putaway_body(handheld), auth=handheld.auth,
                           headers={"X-User-Id": "U-ASSOC", "X-Session-Id": "sess-1"})
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "applied"
