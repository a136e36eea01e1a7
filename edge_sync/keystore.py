"""Where the device keeps its secrets: the OS keystore where there is one, else a 0600 file.

One seam, `get_or_create_secret(name) -> bytes`, for every key the device holds (the column key of
its database, its signing key, ...). The secret never enters the database or a log.

Which store is used, in this order:
1. `BACKROOM_KEYSTORE_DIR` is set: one 0600 file per secret in that directory (0700);
2. `keyring` has a usable backend (Secret Service, macOS Keychain, Windows Credential Locker,
   Android Keystore through its backend): the secret is kept there, under the service "backroom";
3. otherwise one 0600 file per secret under `$XDG_DATA_HOME/backroom/keys` (`~/.local/share/...`).

Errors: `KeyStoreError` (edge_sync.errors-style: say what failed and what to do).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Protocol

KEYSTORE_DIR_ENV = "BACKROOM_KEYSTORE_DIR"
SERVICE = "backroom"
SECRET_BYTES = 32
_NAME = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")


class KeyStoreError(Exception):
    """A secret could not be read or kept; the message says where and what to do."""


class KeyStore(Protocol):
    """Keeps named secrets."""

    def get(self, name: str) -> bytes | None:
        """The secret named `name`, or None when there is none."""
        ...

    def put(self, name: str, secret: bytes) -> None:
        """Keep `secret` under `name`, replacing any."""
        ...


class FileKeyStore:
    """Secrets as files readable by this user only (directory 0700, files 0600)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    def get(self, name: str) -> bytes | None:
        """The secret, or None."""
        path = self._path(name)
        try:
            return base64.b64decode(path.read_bytes(), validate=True)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"the key file {path} cannot be read ({exc}); restore it or re-enrol the device") from exc

    def put(self, name: str, secret: bytes) -> None:
        """Write the secret atomically with mode 0600."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        path = self._path(name)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, base64.b64encode(secret))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)


class KeyringKeyStore:
    """Secrets in the OS keystore through `keyring` (base64 text under the service "backroom")."""

    def get(self, name: str) -> bytes | None:
        """The secret, or None."""
        import keyring
        import keyring.errors

        try:
            value = keyring.get_password(SERVICE, name)
        except keyring.errors.KeyringError as exc:
            raise KeyStoreError(f"the OS keystore did not answer for {name} ({exc}); unlock it and retry") from exc
        return None if value is None else base64.b64decode(value)

    def put(self, name: str, secret: bytes) -> None:
        """Keep the secret in the OS keystore."""
        import keyring
        import keyring.errors

        try:
            keyring.set_password(SERVICE, name, base64.b64encode(secret).decode())
        except keyring.errors.KeyringError as exc:
            raise KeyStoreError(f"the OS keystore refused to keep {name} ({exc}); unlock it and retry") from exc


def keyring_usable() -> bool:
    """True when `keyring` is installed and its backend can keep secrets (not the fail/null one)."""
    try:
        import keyring
    except ImportError:
        return False
    backend = keyring.get_keyring()
    return float(getattr(backend, "priority", 0)) >= 1 and "fail" not in type(backend).__module__


def default_keystore() -> KeyStore:
    """The keystore this process uses (see the module docstring for the order)."""
    directory = os.environ.get(KEYSTORE_DIR_ENV)
    if directory:
        return FileKeyStore(directory)
    if keyring_usable():
        return KeyringKeyStore()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return FileKeyStore(Path(data_home) / "backroom" / "keys")


_lock = threading.Lock()


def get_or_create_secret(name: str, *, store: KeyStore | None = None, size: int = SECRET_BYTES) -> bytes:
    """The secret named `name`, made (random, `size` bytes) and kept on first use."""
    if not _NAME.match(name):
        raise ValueError(f"secret name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)")
    store = store or default_keystore()
    with _lock:
        found = store.get(name)
        if found is not None:
            return found
        secret = secrets.token_bytes(size)
        store.put(name, secret)
        return secret
