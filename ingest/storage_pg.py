"""PostgreSQL storage backend (psycopg 3): shared by several stateless ingest replicas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from aitally.ingest.storage import Storage, StorageError

_MIGRATION_LOCK = 0x61697461  # any constant; all replicas agree on it


class _Cursor:
    """Takes the '?' placeholders the shared SQL is written with."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    @staticmethod
    def sql(text: str) -> str:
        """The statement with psycopg's %s placeholders (literal % escaped)."""
        return text.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Runs one statement."""
        self._cur.execute(self.sql(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Runs one statement for each row of parameters."""
        self._cur.executemany(self.sql(sql), rows)

    def fetchone(self) -> Any:
        """The next result row, or None."""
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        """The remaining result rows."""
        return list(self._cur.fetchall())

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        return int(self._cur.rowcount)

    @property
    def raw(self) -> Any:
        """The psycopg cursor itself, for pipelined executemany."""
        return self._cur


class PostgresStorage(Storage):
    """Storage on PostgreSQL; several replicas may share one database."""

    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int = 16) -> None:
        super().__init__(pool_size)
        self.url = url

    def _connect(self) -> Any:
        try:
            return psycopg.connect(self.url, connect_timeout=10)
        except psycopg.Error as exc:
            # The message names host and database, never the password.
            detail = " ".join(str(exc).split())  # libpq's message spans lines
            raise StorageError(f"cannot connect to PostgreSQL: {detail}") from None

    def _begin(self, conn: Any) -> Any:
        return _Cursor(conn.cursor())  # psycopg opens the transaction on first execute

    def _lock_migrations(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def _insert_returning(self, cur: Any, sql: str, rows: Sequence[tuple[Any, ...]]) -> list[str]:
        raw = cur.raw
        # One pipelined round trip for the whole batch instead of one per record.
        raw.executemany(_Cursor.sql(sql), rows, returning=True)
        inserted = []
        while True:
            got = raw.fetchone()
            if got is not None:
                inserted.append(got[0])
            if not raw.nextset():
                return inserted
