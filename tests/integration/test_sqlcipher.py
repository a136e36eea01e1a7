"""The device database encrypted whole with SQLCipher (opt-in): migrated, written through the
normal unit of work, unreadable without its key, readable again with it."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import os
import sqlite3
from pathlib import Path

import pytest

from edge_sync import contract, db, keystore, outbox
from edge_sync.db import CipherUnavailable, Checkpointer, open_device_database
from edge_sync.uow import UnitOfWork

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
MARKER = "t-plaintext-marker-7Q4Z"


def _need_sqlcipher() -> None:
    if importlib.util.find_spec("sqlcipher3") is not None:
        return
    reason = "sqlcipher3 is not installed (pip install 'backroom[cipher]')"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs this: {reason}")
    pytest.skip(reason)


def _files(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def test_an_encrypted_device_database_is_unreadable_without_its_key_and_reads_back_with_it(tmp_path: Path) -> None:
    _need_sqlcipher()
    store = keystore.FileKeyStore(tmp_path / "keys")
    path = tmp_path / "device.db"
    engine = open_device_database(path, cipher="sqlcipher", store=store)
    checkpointer = Checkpointer(path, interval_s=0.05, cipher="sqlcipher", store=store).start()
    try:
        with UnitOfWork(engine) as uow:
            outbox.register_device(uow.conn, store_id="store-001", device_id="dev-1")
            appended = uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id=MARKER),
                                     user_id="u1", session_id="s1", occurred_at=NOW)
            uow.commit()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cipher_version").scalar(), "not a SQLCipher connection"
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        checkpointer.stop()
        engine.dispose()
    assert checkpointer.checkpoints >= 1  # the Checkpointer's own connection was keyed and worked

    assert store.get(db.SQLCIPHER_KEY_NAME) is not None and len(store.get(db.SQLCIPHER_KEY_NAME) or b"") == 32
    header = path.read_bytes()[:16]
    assert header != b"SQLite format 3\x00", "the device database file is a plain SQLite file"
    raw = _files(path)
    for plain in (MARKER.encode(), b"store-001", b"dev-1", b"CREATE TABLE"):
        assert plain not in raw, f"{plain!r} is in the database file in plaintext"

    with pytest.raises(sqlite3.DatabaseError):
        with sqlite3.connect(path) as plain_conn:
            plain_conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    again = open_device_database(path, cipher="sqlcipher", store=store)
    try:
        with again.connect() as conn:
            ops = outbox.pending_ops(conn)
    finally:
        again.dispose()
    assert [(op.seq, op.op_id, op.type, op.payload["task_id"]) for op in ops] == [
        (appended.seq, appended.op_id, contract.OpType.TASK_RELEASE, MARKER)
    ]


def test_the_wrong_key_cannot_open_it(tmp_path: Path) -> None:
    _need_sqlcipher()
    path = tmp_path / "device.db"
    open_device_database(path, cipher="sqlcipher", store=keystore.FileKeyStore(tmp_path / "keys")).dispose()
    other = keystore.FileKeyStore(tmp_path / "other-keys")
    with pytest.raises(Exception, match="file is not a database"):
        open_device_database(path, cipher="sqlcipher", store=other)


def test_the_setting_comes_from_the_environment_and_defaults_to_a_plain_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.CIPHER_ENV, raising=False)
    plain = tmp_path / "plain.db"
    open_device_database(plain).dispose()
    assert plain.read_bytes()[:16] == b"SQLite format 3\x00"
    monkeypatch.setenv(db.CIPHER_ENV, "rot13")
    with pytest.raises(ValueError, match="BACKROOM_DB_CIPHER='rot13' is not known"):
        open_device_database(tmp_path / "other.db")


def test_without_sqlcipher3_the_error_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_import = importlib.import_module

    def no_sqlcipher(name: str, package: str | None = None) -> object:
        if name.startswith("sqlcipher3"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", no_sqlcipher)
    monkeypatch.setenv(db.CIPHER_ENV, "sqlcipher")
    with pytest.raises(CipherUnavailable, match="SQLCipher is not available on this platform: unset "
                                                "BACKROOM_DB_CIPHER; columns are still encrypted with AES-GCM"):
        open_device_database(tmp_path / "device.db")
    assert not (tmp_path / "device.db").exists()
