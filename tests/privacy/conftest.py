"""Fixtures of the attack suite: the real ingest service on SQLite and PostgreSQL
(tests/ingest/conftest.py), and a way to read its database as an insider would."""

from __future__ import annotations

from typing import Any

from tests.ingest.conftest import fresh_server, pg_cluster, shared_server

__all__ = ["fresh_server", "pg_cluster", "query", "shared_server"]


def query(db: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a SELECT run directly on the service's database (SQLite or PostgreSQL)."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as conn:
            return [tuple(r) for r in conn.execute(sql.replace("?", "%s"), params).fetchall()]
    import sqlite3

    with sqlite3.connect(db.removeprefix("sqlite://")) as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]
