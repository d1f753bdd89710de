"""Per-install random secrets kept in the kv table, each created once on first use."""

from __future__ import annotations

import secrets
import sqlite3

PSEUDONYM_KEY = "pseudonym_key"


def random_secret(conn: sqlite3.Connection, key: str) -> str:
    """The secret stored under `key`, made from 32 random bytes (hex) when absent.

    When two processes create it at once the first insert wins and both return that value.
    """
    row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    if row is not None:
        return str(row[0])
    conn.execute("INSERT OR IGNORE INTO kv(key, value) VALUES (?, ?)", (key, secrets.token_hex(32)))
    return str(conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()[0])


def pseudonym_key(conn: sqlite3.Connection) -> str:
    """The per-install random key that keys pseudonyms when no organisation key is configured."""
    return random_secret(conn, PSEUDONYM_KEY)
