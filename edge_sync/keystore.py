"""Where the device keeps its secrets: the OS keystore where there is one, else 0600 files.

One seam for every secret the device holds (the column key of its database, its Ed25519 signing
key in edge_sync.keys, ...): a `KeyStore` gets and puts named secrets as bytes, and never writes
over one it already holds (losing a column key loses the data it encrypted; losing the signing key
means enrolling the device again). A secret never enters the database or a log.

    secret = get_or_create_secret("db-columns-<id>")        # made and kept on first use
    store = default_keystore(key_dir)                         # the store a device key goes to

Which store `default_keystore` picks, in this order:
1. a `keyring` backend passed in (a test's, or a platform's own);
2. `BACKROOM_KEYSTORE_DIR` is set: 0600 files in that directory (0700);
3. `keyring` has a usable backend (Secret Service, macOS Keychain, Windows Credential Locker,
   Android Keystore through its backend): the secrets are kept there, under one service name;
4. otherwise 0600 files in the directory given, else under `$XDG_DATA_HOME/backroom/keys`
   (`~/.local/share/...`).

A file is created 0600 (never over an existing one) and refused at load when group or others may
read or write it: a key others could have copied no longer proves which device is speaking, nor
keeps the columns private. How a secret is written in its file is the caller's choice (`Armour`):
base64 text by default, PEM for the device key, so each file stays what it was.

Errors:

    KeyStoreError       a secret cannot be kept or read; the message says where and what to do
    └── KeyFileUnsafe   a secret's file can be read or changed by users other than the app's
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import keyring.backend

KEYSTORE_DIR_ENV = "BACKROOM_KEYSTORE_DIR"
SERVICE = "backroom"
SECRET_BYTES = 32
_NAME = re.compile(r"^[A-Za-z0-9._:\-/]{1,140}$")
_NO_BACKEND = ("keyring.backends.fail", "keyring.backends.null")


class KeyStoreError(Exception):
    """A secret could not be read or kept; the message says where and what to do."""


class KeyFileUnsafe(KeyStoreError):
    """A secret's file can be read or changed by users other than the app's."""


class KeyStore(Protocol):
    """Keeps named secrets."""

    def get(self, name: str) -> bytes | None:
        """The secret named `name`, or None when there is none."""
        ...

    def put(self, name: str, secret: bytes) -> None:
        """Keep `secret` under `name`; KeyStoreError when one is kept there already (never replaced)."""
        ...


def check_name(name: str) -> str:
    """`name` when it can name a secret (letters, digits, . _ : - /; at most 140), else ValueError."""
    if not _NAME.match(name) or name.startswith(("/", ".")):
        raise ValueError(f"secret name {name[:60]!r}: use letters, digits, '.', '_', ':', '-' or '/' (at most 140)")
    return name


@dataclass(frozen=True, slots=True)
class Armour:
    """How a secret is written in its file: `dump(secret) -> file bytes`, `load(file bytes) -> secret`."""

    dump: Callable[[bytes], bytes]
    load: Callable[[bytes], bytes]
    """Raises ValueError when the file does not hold a secret of this kind."""


def _b64_load(data: bytes) -> bytes:
    try:
        return base64.b64decode(data.strip(), validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64 text") from exc


BASE64 = Armour(dump=base64.b64encode, load=_b64_load)
"""The default: the secret as base64 text."""


class FileKeyStore:
    """Secrets as files readable by this user only (directory 0700, files 0600, checked at load)."""

    def __init__(self, directory: str | Path, armour: Armour = BASE64) -> None:
        self.directory = Path(directory)
        self.armour = armour

    def path_for(self, name: str) -> Path:
        """The file that holds the secret named `name`."""
        return self.directory / (check_name(name).replace("/", "__") + ".key")

    def get(self, name: str) -> bytes | None:
        """The secret, or None; KeyFileUnsafe when others may read or change its file."""
        path = self.path_for(name)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyStoreError(f"cannot read the key file {path}: {exc.strerror}; check its owner and mode") from exc
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyFileUnsafe(
                    f"the key file {path} can be read or changed by other users (mode {stat.S_IMODE(mode):04o}); "
                    f"run `chmod 600 {path}` if only this device's user ever had it, else delete it and enrol again"
                )
            data = f.read()
        try:
            return self.armour.load(data)
        except ValueError as exc:
            raise KeyStoreError(f"the key file {path} does not hold a key ({exc}); restore it, or delete it and "
                                "enrol the device again") from exc

    def put(self, name: str, secret: bytes) -> None:
        """Write the secret to a new file created 0600, durably; never over an existing one."""
        path = self.path_for(name)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(self.directory, 0o700)
        # Written whole under a temporary name, then linked into place: the key file appears
        # complete or not at all, and link() refuses to replace one that exists.
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            try:
                os.write(fd, self.armour.dump(secret))
                os.fsync(fd)
            finally:
                os.close(fd)
            _link(tmp, path)
        except FileExistsError as exc:
            raise KeyStoreError(f"a key already exists at {path}; it is not replaced") from exc
        finally:
            tmp.unlink(missing_ok=True)


def _link(tmp: Path, path: Path) -> None:
    """Put `tmp` at `path` unless something is there (FileExistsError)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        # A filesystem without hard links: create the file exclusively and copy the bytes in.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, tmp.read_bytes())
            os.fsync(fd)
        finally:
            os.close(fd)


class KeyringKeyStore:
    """Secrets in the OS keystore through `keyring`: base64 text under one service name."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None, service: str = SERVICE) -> None:
        self.backend = backend
        self.service = service

    def _backend(self) -> keyring.backend.KeyringBackend:
        if self.backend is not None:
            return self.backend
        import keyring

        return keyring.get_keyring()

    def get(self, name: str) -> bytes | None:
        """The secret, or None."""
        import keyring.errors

        try:
            value = self._backend().get_password(self.service, check_name(name))
        except keyring.errors.KeyringError as exc:
            raise KeyStoreError(f"the OS keystore did not answer for {name} ({exc}); unlock it and retry") from exc
        if value is None:
            return None
        try:
            return _b64_load(value.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise KeyStoreError(f"the OS keystore entry {self.service}/{name} is not a key; delete it and enrol "
                                "the device again") from exc

    def put(self, name: str, secret: bytes) -> None:
        """Keep the secret in the OS keystore; never over one kept there."""
        import keyring.errors

        if self.get(name) is not None:
            raise KeyStoreError(f"the OS keystore already holds {self.service}/{name}; it is not replaced")
        try:
            self._backend().set_password(self.service, name, base64.b64encode(secret).decode("ascii"))
        except keyring.errors.KeyringError as exc:
            raise KeyStoreError(f"the OS keystore refused to keep {name} ({exc}); unlock it and retry") from exc


def os_keyring() -> keyring.backend.KeyringBackend | None:
    """The OS keystore `keyring` found, or None when it is not installed or has no usable backend here."""
    try:
        import keyring
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if type(backend).__module__ in _NO_BACKEND or float(getattr(backend, "priority", 0)) < 1:
        return None
    return backend


def keyring_usable() -> bool:
    """True when `keyring` is installed and its backend can keep secrets (not the fail/null one)."""
    return os_keyring() is not None


def default_keystore(directory: str | Path | None = None, *, backend: keyring.backend.KeyringBackend | None = None,
                     service: str = SERVICE, armour: Armour = BASE64) -> KeyStore:
    """The keystore this process uses (see the module docstring for the order)."""
    if backend is not None:
        return KeyringKeyStore(backend, service)
    env_directory = os.environ.get(KEYSTORE_DIR_ENV)
    if env_directory:
        return FileKeyStore(env_directory, armour)
    found = os_keyring()
    if found is not None:
        return KeyringKeyStore(found, service)
    if directory is None:
        data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        directory = Path(data_home) / "backroom" / "keys"
    return FileKeyStore(directory, armour)


_lock = threading.Lock()


def get_or_create(store: KeyStore, name: str, make: Callable[[], bytes]) -> bytes:
    """The secret kept under `name`; made by `make()` and kept first when there is none."""
    with _lock:
        found = store.get(name)
        if found is not None:
            return found
        secret = make()
        try:
            store.put(name, secret)
        except KeyStoreError:
            # Another process kept one meanwhile: use that one, never two.
            again = store.get(name)
            if again is None:
                raise
            return again
        return secret


def get_or_create_secret(name: str, *, store: KeyStore | None = None, size: int = SECRET_BYTES) -> bytes:
    """The secret named `name`, made (random, `size` bytes) and kept on first use."""
    check_name(name)
    return get_or_create(store or default_keystore(), name, lambda: secrets.token_bytes(size))
