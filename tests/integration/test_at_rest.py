"""At rest on the device: no PIN, PIN hash or customer detail in the SQLite file; logs hold no secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.context import FakeClock
from app.services import people
from edge_sync import contract, crypto
from edge_sync import keystore
from edge_sync.db import open_device_database
from edge_sync.tables import CryptoKey
from edge_sync.repositories.master import apply_master_data, orders_t
from edge_sync.uow import UnitOfWork, uow_factory
from tests.fixtures.store import T0, small_store

PIN = "582914"
NAME = "Zelda Quarterfield"
PHONE = "+1-415-555-0199"


def _device(tmp_path: Path) -> tuple[Path, people.UnitOfWorkFactory, str]:
    data = small_store()
    pin_hash = contract.hash_pin(PIN)
    users = [u.model_copy(update={"pin_hash": pin_hash}) if u.user_id == "u-assoc" else u for u in data.users]
    orders = [o.model_copy(update={"customer_name": NAME, "customer_phone": PHONE}) for o in data.orders]
    path = tmp_path / "device.db"
    engine = open_device_database(path)
    with UnitOfWork(engine) as uow:
        apply_master_data(uow.conn, data.model_copy(update={"users": users, "orders": orders}))
        uow.commit()
    return path, uow_factory(engine), pin_hash


def test_the_raw_database_file_holds_no_pin_hash_or_customer_detail(tmp_path: Path) -> None:
    path, factory, pin_hash = _device(tmp_path)
    people.sign_in_by_pin(factory, "u-assoc", PIN, device_id="dev-test", clock=FakeClock(T0))
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("device.db"))
    for secret in (NAME, PHONE, pin_hash, pin_hash.split("$")[-1]):
        assert secret.encode() not in raw, f"{secret[:12]}... is in the database file in plaintext"
    assert b"enc1:" in raw
    with factory() as uow:
        row = uow.conn.execute(select(orders_t).where(orders_t.c.order_id == "ord-1")).one()
        cipher = crypto.cipher_for(uow.conn)
    assert cipher.decrypt(row.customer_name, table="customer_orders", column="customer_name", row="ord-1") == NAME
    with pytest.raises(crypto.ColumnDecryptError):
        cipher.decrypt(row.customer_name, table="customer_orders", column="customer_name", row="ord-2")


def test_the_column_key_lives_in_the_keystore_as_a_private_file_not_in_the_database(tmp_path: Path) -> None:
    path, factory, _ = _device(tmp_path)
    with factory() as uow:
        key_id = uow.conn.execute(select(CryptoKey.__table__.c.key_id)).scalar_one()  # type: ignore[attr-defined]
    store = keystore.default_keystore()
    assert isinstance(store, keystore.FileKeyStore)
    key_file = store.directory / f"db-columns-{key_id}.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = keystore.get_or_create_secret(f"db-columns-{key_id}")
    assert key not in path.read_bytes()


def test_logs_across_sign_in_hold_no_pin_or_hash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, factory, pin_hash = _device(tmp_path)
    clock = FakeClock(T0)
    with pytest.raises(people.NotAllowed):
        people.sign_in_by_pin(factory, "u-assoc", "111111", device_id="dev-test", clock=clock)
    people.sign_in_by_pin(factory, "u-assoc", PIN, device_id="dev-test", clock=clock)
    text = caplog.text
    assert "signed in by PIN" in text
    for secret in (PIN, "111111", pin_hash.split("$")[-1], pin_hash.split("$")[-2]):
        assert secret not in text
