"""One keystore for every secret on the device: the column key and the signing key alike, in the OS
keystore when there is one, else 0600 files checked when they are read."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import keyring.backend
import pytest

from edge_sync import keys, keystore
from edge_sync.signature_profile import key_id


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


posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@posix_only
def test_a_secret_file_others_can_read_is_refused_when_it_is_read(tmp_path: Path) -> None:
    store = keystore.FileKeyStore(tmp_path)
    secret = keystore.get_or_create_secret("db-columns-1", store=store)
    path = store.path_for("db-columns-1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    os.chmod(path, 0o640)
    with pytest.raises(keystore.KeyFileUnsafe, match="chmod 600"):
        keystore.get_or_create_secret("db-columns-1", store=store)
    os.chmod(path, 0o600)
    assert keystore.get_or_create_secret("db-columns-1", store=store) == secret


def test_a_secret_is_never_written_over_and_a_column_key_file_keeps_its_base64_form(tmp_path: Path) -> None:
    store = keystore.FileKeyStore(tmp_path)
    store.put("db-columns-2", b"k" * 32)
    assert store.path_for("db-columns-2").read_bytes() == base64.b64encode(b"k" * 32)
    with pytest.raises(keystore.KeyStoreError, match="not replaced"):
        store.put("db-columns-2", b"x" * 32)
    assert store.get("db-columns-2") == b"k" * 32
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_the_signing_key_and_the_column_key_go_to_the_one_os_keystore_each_under_its_service(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    column = keystore.get_or_create_secret("db-columns-3", store=keystore.default_keystore(backend=backend))
    signing = keys.device_key("S-1", "HH-1", tmp_path, backend=backend)
    assert set(backend.kept) == {("backroom", "db-columns-3"), ("backroom-device-key", "S-1/HH-1")}
    assert base64.b64decode(backend.kept[("backroom", "db-columns-3")]) == column
    assert not any(tmp_path.iterdir())
    with pytest.raises(keystore.KeyStoreError, match="not replaced"):
        keystore.KeyringKeyStore(backend).put("db-columns-3", b"x" * 32)
    assert keys.device_key("S-1", "HH-1", tmp_path, backend=backend).public_key().public_bytes_raw() == \
        signing.public_key().public_bytes_raw()


@posix_only
def test_without_an_os_keystore_the_device_key_is_a_checked_pem_file_where_the_keystore_directory_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keystore.KEYSTORE_DIR_ENV, str(tmp_path / "kept"))
    keys.device_key("S-1", "HH-2", tmp_path / "beside-the-database")
    path = keys.FileKeyStore(tmp_path / "kept").path_for(key_id("S-1", "HH-2"))
    assert b"PRIVATE KEY" in path.read_bytes() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (tmp_path / "beside-the-database").exists()
    os.chmod(path, 0o604)
    with pytest.raises(keystore.KeyFileUnsafe):
        keys.device_key("S-1", "HH-2", tmp_path / "beside-the-database")


def test_a_name_that_is_not_plain_is_refused(tmp_path: Path) -> None:
    for name in ("../escape", "/abs", "a b", "é"):
        with pytest.raises(ValueError, match="secret name"):
            keystore.FileKeyStore(tmp_path).path_for(name)
