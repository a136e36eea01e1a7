"""The device key: kept in the OS keystore when there is one, else a 0600 file; signatures round-trip."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import httpx
import keyring.backend
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageVerifier, InvalidSignature, MappingKeyResolver, algorithms

from edge_sync.keys import FileKeyStore, KeyFileUnsafe, KeyringKeyStore, default_keystore, device_key, load_or_create
from edge_sync.signature_profile import COVERED_COMPONENTS, TAG, key_id
from edge_sync.signing import RequestSigner


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An OS keystore that keeps passwords in memory (keyring's own backend interface)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.kept.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.kept[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.kept[(service, username)]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_without_a_keystore_the_key_is_a_file_only_its_user_can_read(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    key = load_or_create(store, key_id("S-1", "HH-1"))
    path = store.path_for(key_id("S-1", "HH-1"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and b"PRIVATE KEY" in path.read_bytes()
    again = load_or_create(FileKeyStore(tmp_path), key_id("S-1", "HH-1"))
    assert again.public_key().public_bytes_raw() == key.public_key().public_bytes_raw()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_key_file_others_can_read_is_refused_with_what_to_do(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    store.save("S-1/HH-1", Ed25519PrivateKey.generate())
    path = store.path_for("S-1/HH-1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileUnsafe, match="chmod 600"):
        store.load("S-1/HH-1")
    os.chmod(path, 0o600)
    assert store.load("S-1/HH-1") is not None


def test_a_key_file_is_never_written_over(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    store.save("S-1/HH-1", Ed25519PrivateKey.generate())
    with pytest.raises(Exception, match="not replaced"):
        store.save("S-1/HH-1", Ed25519PrivateKey.generate())


def test_with_a_keystore_the_key_lives_there_and_no_file_is_written(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    assert isinstance(default_keystore(tmp_path, backend), KeyringKeyStore)
    key = device_key("S-1", "HH-1", tmp_path, backend=backend)
    assert list(backend.kept) == [("backroom-device-key", "S-1/HH-1")]
    assert not any(tmp_path.iterdir())
    again = device_key("S-1", "HH-1", tmp_path, backend=backend)
    assert again.public_key().public_bytes_raw() == key.public_key().public_bytes_raw()


def _verify(request: httpx.Request, signer: RequestSigner, public: Ed25519PrivateKey) -> None:
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519,
                                   key_resolver=MappingKeyResolver(public_keys={signer.key_id: public.public_key()},
                                                                   private_keys={}))
    verifier.verify(request, expect_tag=TAG, require_components=COVERED_COMPONENTS, body=request.content)


def test_a_signed_request_verifies_and_any_change_breaks_it() -> None:
    key = Ed25519PrivateKey.generate()
    signer = RequestSigner("S-1", "HH-1", key)
    request = httpx.Request("POST", "http://svc/v1/stores/S-1/ops?x=1", content=b'{"ops": []}')
    signer.sign(request)
    assert request.headers["content-digest"].startswith("sha-256=:")
    assert 'keyid="S-1/HH-1"' in request.headers["signature-input"] and "nonce=" in request.headers["signature-input"]
    _verify(request, signer, key)
    for changed in (
        httpx.Request("POST", "http://svc/v1/stores/S-2/ops?x=1", headers=request.headers, content=request.content),
        httpx.Request("PUT", "http://svc/v1/stores/S-1/ops?x=1", headers=request.headers, content=request.content),
        httpx.Request("POST", "http://svc/v1/stores/S-1/ops?x=1", headers={**request.headers, "idempotency-key": "k"},
                      content=request.content),
        httpx.Request("POST", "http://svc/v1/stores/S-1/ops?x=1",
                      headers={k: v for k, v in request.headers.items() if k != "content-length"}, content=b'{"ops":[1]}'),
    ):
        with pytest.raises(InvalidSignature):
            _verify(changed, signer, key)
    with pytest.raises(InvalidSignature):
        _verify(request, signer, Ed25519PrivateKey.generate())


def test_each_signature_has_its_own_nonce_and_a_caller_idempotency_key_is_kept() -> None:
    signer = RequestSigner("S-1", "HH-1", Ed25519PrivateKey.generate(),
                           clock=lambda: dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC))
    first = httpx.Request("GET", "http://svc/v1/stores/S-1/changes", headers={"Idempotency-Key": "op-1"})
    second = httpx.Request("GET", "http://svc/v1/stores/S-1/changes")
    signer.sign(first)
    signer.sign(second)
    assert first.headers["idempotency-key"] == "op-1" and second.headers["idempotency-key"]
    assert "created=1740992400" in first.headers["signature-input"]
    nonces = {r.headers["signature-input"].split("nonce=")[1].split(";")[0] for r in (first, second)}
    assert len(nonces) == 2
