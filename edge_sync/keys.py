"""The device's Ed25519 key: made on the device, kept on the device, never sent anywhere.

    key = device_key(store_id, device_id, key_dir)   # load, or make on first use

Kept through the device's one keystore seam (edge_sync.keystore), under the name
`<store_id>/<device_id>`: in the OS keystore where `keyring` finds a real backend (macOS Keychain,
Windows Credential Locker, Secret Service, KWallet), as the raw key in base64 under the service
"backroom-device-key"; elsewhere (a headless Linux box, a container, a handheld without a keystore
backend) as a PEM file in `key_dir` that only the app's user may read: created 0600, never written
over, and refused at load when group or others can read or write it, because a key others could
have copied no longer proves which device is speaking.

Errors (edge_sync.keystore's):

    KeyStoreError         the key cannot be kept or read; the message says what to do
    └── KeyFileUnsafe     the key file's permissions let others read or change it
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_sync import keystore
from edge_sync.keystore import Armour, KeyFileUnsafe, KeyStoreError, os_keyring
from edge_sync.signature_profile import encode_public_key, key_id

if TYPE_CHECKING:
    import keyring.backend

__all__ = [
    "KEYRING_SERVICE", "FileKeyStore", "KeyFileUnsafe", "KeyStore", "KeyStoreError", "KeyringKeyStore", "default_keystore",
    "device_key", "load_or_create", "os_keystore_backend", "public_key_text",
]

KEYRING_SERVICE = "backroom-device-key"


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def _to_pem(raw: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(raw)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _from_pem(data: bytes) -> bytes:
    key = serialization.load_pem_private_key(data, password=None)  # ValueError when it is not PEM
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 key")
    return _raw(key)


PEM = Armour(dump=_to_pem, load=_from_pem)
"""A device key's file: the PKCS#8 PEM of the key, as OpenSSL and every tool reads it."""


class KeyStore:
    """Where a device keeps its private key: a keystore (edge_sync.keystore) holding it as raw bytes."""

    name = "keystore"

    def __init__(self, secrets: keystore.KeyStore) -> None:
        self.secrets = secrets

    def load(self, ident: str) -> Ed25519PrivateKey | None:
        """The key kept under `ident`, or None when there is none yet."""
        raw = self.secrets.get(ident)
        if raw is None:
            return None
        try:
            return Ed25519PrivateKey.from_private_bytes(raw)
        except ValueError as exc:
            raise KeyStoreError(f"the device key {ident} is not an Ed25519 key; delete it and enrol again") from exc

    def save(self, ident: str, key: Ed25519PrivateKey) -> None:
        """Keep `key` under `ident` (never over a key kept there)."""
        self.secrets.put(ident, _raw(key))


class KeyringKeyStore(KeyStore):
    """The device key in the OS keystore, through `keyring`."""

    name = "os-keystore"

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        super().__init__(keystore.KeyringKeyStore(backend, KEYRING_SERVICE))


class FileKeyStore(KeyStore):
    """One PEM file per key in `directory`, readable and writable by the app's user only (0600)."""

    name = "file"

    def __init__(self, directory: Path) -> None:
        self.files = keystore.FileKeyStore(directory, PEM)
        super().__init__(self.files)

    @property
    def directory(self) -> Path:
        """Where the key files are."""
        return self.files.directory

    def path_for(self, ident: str) -> Path:
        """The file that holds the key kept under `ident`."""
        return self.files.path_for(ident)


def os_keystore_backend() -> keyring.backend.KeyringBackend | None:
    """The OS keystore `keyring` found, or None when it has no usable backend here."""
    return os_keyring()


def default_keystore(key_dir: Path, backend: keyring.backend.KeyringBackend | None = None) -> KeyStore:
    """Where this device's key is kept: the device's keystore (edge_sync.keystore.default_keystore),
    its files, when it has no OS keystore, as PEM in `key_dir`."""
    secrets = keystore.default_keystore(key_dir, backend=backend, service=KEYRING_SERVICE, armour=PEM)
    if isinstance(secrets, keystore.FileKeyStore):
        return FileKeyStore(secrets.directory)
    return KeyStore(secrets) if not isinstance(secrets, keystore.KeyringKeyStore) else KeyringKeyStore(secrets.backend)


def load_or_create(store: KeyStore, ident: str) -> Ed25519PrivateKey:
    """The key kept under `ident`, made and kept first when there is none."""
    raw = keystore.get_or_create(store.secrets, ident, lambda: _raw(Ed25519PrivateKey.generate()))
    try:
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as exc:
        raise KeyStoreError(f"the device key {ident} is not an Ed25519 key; delete it and enrol again") from exc


def device_key(store_id: str, device_id: str, key_dir: Path,
               backend: keyring.backend.KeyringBackend | None = None) -> Ed25519PrivateKey:
    """This device's key for `store_id`: loaded from where it is kept, or made there on first use."""
    return load_or_create(default_keystore(key_dir, backend), key_id(store_id, device_id))


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public half of `key`, as the enrolment request carries it."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return encode_public_key(raw)
