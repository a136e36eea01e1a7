"""Sensitive columns of the device database, encrypted with AES-GCM (256-bit key).

What is encrypted: customer names and phone numbers of orders, PIN hashes (a 4-digit PIN's hash
is cheap to brute-force once read off the file), anything else a later column declares secret.
The value is stored as `enc1:` + base64url(nonce 12 bytes || ciphertext || tag); the associated
data binds it to its table, column and row, so a value copied to another row does not decrypt.

The key: 32 random bytes kept in the device keystore (`edge_sync.keystore`) under
`db-columns-<key id>`; the database holds only the key id (`crypto_keys`), so the file alone,
copied off a lost handheld, does not give the customers' details away.

Errors: `ColumnDecryptError` when a value does not decrypt (wrong key, tampered or moved value).
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection

from edge_sync import keystore
from edge_sync.db import driver

PREFIX: Final = "enc1:"
NONCE_BYTES: Final = 12
COLUMN_KEY: Final = "columns"


class ColumnDecryptError(Exception):
    """A stored value did not decrypt: the keystore lost its key, or the value was tampered with."""


class ColumnCipher:
    """Encrypts and decrypts column values with one AES-GCM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("an AES-256-GCM key is 32 bytes")
        self._aead = AESGCM(key)

    @staticmethod
    def _aad(table: str, column: str, row: str) -> bytes:
        return f"{table}.{column}|{row}".encode()

    def encrypt(self, value: str | None, *, table: str, column: str, row: str) -> str | None:
        """`value` encrypted for (table, column, row); None and '' stay as they are."""
        if not value:
            return value
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode(), self._aad(table, column, row))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, stored: str | None, *, table: str, column: str, row: str) -> str | None:
        """The plaintext of a stored value; None and '' stay as they are."""
        if not stored:
            return stored
        if not stored.startswith(PREFIX):
            raise ColumnDecryptError(f"{table}.{column} of {row} is not an encrypted value")
        try:
            raw = base64.urlsafe_b64decode(stored[len(PREFIX):])
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._aad(table, column, row))
        except (InvalidTag, ValueError) as exc:
            raise ColumnDecryptError(
                f"{table}.{column} of {row} does not decrypt with this device's key; pull the store's data again"
            ) from exc
        return plain.decode()


_ciphers: dict[tuple[str, str], ColumnCipher] = {}
_lock = threading.Lock()


def _database_of(conn: Connection) -> str:
    return str(conn.engine.url.database or ":memory:")


def cipher_for(conn: Connection, *, store: keystore.KeyStore | None = None) -> ColumnCipher:
    """The column cipher of the database behind `conn`, its key made on first use.

    Call inside a write transaction the first time (the key id is recorded in `crypto_keys`).
    """
    raw = driver(conn)
    row = raw.execute("SELECT key_id FROM crypto_keys WHERE name = ?", (COLUMN_KEY,)).fetchone()
    if row is None:
        key_id = secrets.token_hex(8)
        raw.execute("INSERT INTO crypto_keys (name, key_id) VALUES (?, ?)", (COLUMN_KEY, key_id))
    else:
        key_id = str(row[0])
    cache_key = (_database_of(conn), key_id)
    with _lock:
        cipher = _ciphers.get(cache_key)
        if cipher is None:
            cipher = ColumnCipher(keystore.get_or_create_secret(f"db-{COLUMN_KEY}-{key_id}", store=store))
            _ciphers[cache_key] = cipher
    return cipher
