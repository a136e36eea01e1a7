"""The device's Ed25519 key: made on the device, kept on the device, never sent anywhere.

    key = device_key(store_id, device_id, key_dir)   # load, or make on first use

Where the OS has a keystore (`keyring` finds a real backend: macOS Keychain, Windows Credential
Locker, Secret Service, KWallet), the private key lives there. Elsewhere (a headless Linux box, a
container, a handheld without a keystore backend) it lives in a file that only the app's user may
read: created 0600, and refused at load when group or others can read or write it, because a key
others could have copied no longer proves which device is speaking.

Errors:

    KeyStoreError         the key cannot be kept or read; the message says what to do
    └── KeyFileUnsafe     the key file's permissions let others read or change it
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import keyring
import keyring.backend
import keyring.errors
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_sync.signature_profile import encode_public_key, key_id

KEYRING_SERVICE = "backroom-device-key"
_NO_BACKEND = ("keyring.backends.fail", "keyring.backends.null")


class KeyStoreError(Exception):
    """The device key cannot be kept or read."""


class KeyFileUnsafe(KeyStoreError):
    """The key file can be read or changed by users other than the app's."""


class KeyStore(Protocol):
    """Where a device keeps its private key."""

    name: str

    def load(self, ident: str) -> Ed25519PrivateKey | None:
        """The key kept under `ident`, or None when there is none yet."""
        ...

    def save(self, ident: str, key: Ed25519PrivateKey) -> None:
        """Keep `key` under `ident`."""
        ...


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


@dataclass
class KeyringKeyStore:
    """The OS keystore through `keyring`; the key is kept as base64 text under one service name."""

    backend: keyring.backend.KeyringBackend
    name: str = "os-keystore"

    def load(self, ident: str) -> Ed25519PrivateKey | None:
        """The key kept under `ident` in the keystore, or None."""
        try:
            text = self.backend.get_password(KEYRING_SERVICE, ident)
        except keyring.errors.KeyringError as exc:
            raise KeyStoreError(f"the OS keystore did not answer ({exc}); unlock it and start again") from exc
        if text is None:
            return None
        try:
            return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text))
        except ValueError as exc:
            raise KeyStoreError(
                f"the OS keystore entry {KEYRING_SERVICE}/{ident} is not an Ed25519 key; delete it and enrol again"
            ) from exc

    def save(self, ident: str, key: Ed25519PrivateKey) -> None:
        """Keep `key` in the keystore."""
        try:
            self.backend.set_password(KEYRING_SERVICE, ident, base64.b64encode(_raw(key)).decode("ascii"))
        except keyring.errors.KeyringError as exc:
            raise KeyStoreError(f"the OS keystore refused the device key ({exc}); unlock it and start again") from exc


@dataclass
class FileKeyStore:
    """One PEM file per key in `directory`, readable and writable by the app's user only (0600)."""

    directory: Path
    name: str = "file"

    def path_for(self, ident: str) -> Path:
        """The file that holds the key kept under `ident`."""
        return self.directory / (ident.replace("/", "__") + ".key")

    def load(self, ident: str) -> Ed25519PrivateKey | None:
        """The key in the file, or None; KeyFileUnsafe when others may read or change the file."""
        path = self.path_for(ident)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyStoreError(f"cannot read the device key {path}: {exc.strerror}") from exc
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyFileUnsafe(
                    f"the device key {path} can be read or changed by other users (mode {stat.S_IMODE(mode):04o}); "
                    f"run `chmod 600 {path}` if only this device's user ever had it, else delete it and enrol again"
                )
            data = f.read()
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except ValueError as exc:
            raise KeyStoreError(f"the device key {path} is not a PEM private key; delete it and enrol again") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"the device key {path} is not an Ed25519 key; delete it and enrol again")
        return key

    def save(self, ident: str, key: Ed25519PrivateKey) -> None:
        """Write the key to a new file created 0600 (never over an existing one)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(ident)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise KeyStoreError(f"a device key already exists at {path}; it is not replaced") from exc
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())


def os_keystore_backend() -> keyring.backend.KeyringBackend | None:
    """The OS keystore `keyring` found, or None when it has no usable backend here."""
    backend = keyring.get_keyring()
    if type(backend).__module__ in _NO_BACKEND or backend.priority <= 0:
        return None
    return backend


def default_keystore(key_dir: Path, backend: keyring.backend.KeyringBackend | None = None) -> KeyStore:
    """The OS keystore where there is one (or `backend`), else 0600 files in `key_dir`."""
    found = backend if backend is not None else os_keystore_backend()
    if found is None:
        return FileKeyStore(key_dir)
    return KeyringKeyStore(found)


def load_or_create(store: KeyStore, ident: str) -> Ed25519PrivateKey:
    """The key kept under `ident`, made and kept first when there is none."""
    key = store.load(ident)
    if key is None:
        key = Ed25519PrivateKey.generate()
        store.save(ident, key)
    return key


def device_key(store_id: str, device_id: str, key_dir: Path,
               backend: keyring.backend.KeyringBackend | None = None) -> Ed25519PrivateKey:
    """This device's key for `store_id`: loaded from where it is kept, or made there on first use."""
    return load_or_create(default_keystore(key_dir, backend), key_id(store_id, device_id))


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public half of `key`, as the enrolment request carries it."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return encode_public_key(raw)
