"""SQLite storage backend (WAL): the default, for a pilot on one ingest instance."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aitally.ingest.storage import Storage, StorageError


class SqliteStorage(Storage):
    """Storage in one SQLite file (WAL): a single ingest instance."""

    dialect = "sqlite"

    def __init__(self, path: str, pool_size: int = 8) -> None:
        # SQLite runs one writer at a time; a few connections let readers (reports,
        # token checks) proceed beside it in WAL mode.
        super().__init__(pool_size)
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.path.parent}: {exc.strerror}") from None

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {self.path}: {exc}") from None
        # NORMAL in WAL mode survives process crashes; a power cut may lose the last
        # commits, which the agents resend (inserts are idempotent).
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    def _begin(self, conn: Any) -> Any:
        cur = conn.cursor()
        # IMMEDIATE takes the write lock up front, so two writers never deadlock
        # upgrading read locks.
        cur.execute("BEGIN IMMEDIATE")
        return cur

    def _insert_returning(self, cur: Any, sql: str, rows: Sequence[tuple[Any, ...]]) -> list[str]:
        inserted = []
        for row in rows:
            cur.execute(sql, row)
            got = cur.fetchone()
            if got is not None:
                inserted.append(got[0])
        return inserted
