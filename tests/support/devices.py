"""Enrolled, approved devices for tests: a real Ed25519 key and the signing Auth a device uses.

    auth = approved_device(engine, "S-100", "HH-1")      # enrolled and approved in the service DB
    httpx.Client(base_url=url, auth=auth)                # every request signed as HH-1

Enrolment is written straight into the service database, as an operator's `backroom devices
approve` does; the same (engine, store, device) gives back the same signer, so a test may ask twice.
Keys can be kept in a directory (0600 files) for a device that runs in another process.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine

from edge_sync.keys import FileKeyStore, load_or_create, public_key_text
from edge_sync.signature_profile import EnrolmentRequest, key_id
from edge_sync.signing import RequestSigner
from server_stub import devices
from server_stub.db import write_transaction
from server_stub.txn import utcnow

_SIGNERS: weakref.WeakKeyDictionary[Engine, dict[tuple[str, str], RequestSigner]] = weakref.WeakKeyDictionary()


def enrol_key(engine: Engine, store_id: str, device_id: str, key: Ed25519PrivateKey, *, approve: bool = True) -> None:
    """Record `key` as the device's enrolled key, approved by an operator unless `approve` is False."""
    request = EnrolmentRequest(store_id=store_id, device_id=device_id, public_key=public_key_text(key), name="test")
    with write_transaction(engine) as conn:
        devices.request_enrolment(conn, request, utcnow())
        if approve:
            devices.approve(conn, store_id, device_id, by="operator", now=utcnow())


def approved_device(engine: Engine, store_id: str, device_id: str, *, key_dir: Path | None = None) -> RequestSigner:
    """The signer of a device enrolled and approved in `store_id` (made on first use)."""
    known = _SIGNERS.setdefault(engine, {})
    signer = known.get((store_id, device_id))
    if signer is None:
        key = (load_or_create(FileKeyStore(key_dir), key_id(store_id, device_id)) if key_dir is not None
               else Ed25519PrivateKey.generate())
        enrol_key(engine, store_id, device_id, key)
        signer = known[(store_id, device_id)] = RequestSigner(store_id, device_id, key)
    return signer


def approved_device_at(database_url: str, store_id: str, device_id: str, key_dir: Path) -> None:
    """Enrol and approve a device whose key is kept in `key_dir`, in the service database at `database_url`."""
    from server_stub.db import create_engine_for

    engine = create_engine_for(database_url)
    try:
        approved_device(engine, store_id, device_id, key_dir=key_dir)
    finally:
        engine.dispose()


def signer_from(key_dir: Path, store_id: str, device_id: str) -> RequestSigner:
    """The signer of a device whose key another process put in `key_dir`."""
    key = FileKeyStore(key_dir).load(key_id(store_id, device_id))
    if key is None:
        raise FileNotFoundError(f"no key for {store_id}/{device_id} in {key_dir}")
    return RequestSigner(store_id, device_id, key)
