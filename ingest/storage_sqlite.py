"""SQLite storage backend (WAL): the default, for a pilot on one ingest instance."""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from aitally.ingest.storage import Storage, StorageBusy, StorageError

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 1.0
"""Seconds between checkpoints of the write-ahead log into the database file."""

REPORT_CONNECTIONS = 2
"""Reports read on connections of their own: a burst of them never takes one an upload needs."""


class _Pool:
    """At most `size` connections in use at once, idle ones kept for reuse."""

    def __init__(self, size: int) -> None:
        self.idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self.slots = queue.Queue[None](maxsize=size)
        for _ in range(size):
            self.slots.put(None)

    def close(self) -> None:
        """Closes the idle connections."""
        while True:
            try:
                self.idle.get_nowait().close()
            except queue.Empty:
                return


class SqliteStorage(Storage):
    """Storage in one SQLite file (WAL): a single ingest instance."""

    dialect = "sqlite"
    concat = "group_concat"

    def __init__(self, path: str, pool_size: int = 8) -> None:
        # SQLite runs one writer at a time; a few connections let readers (token checks)
        # proceed beside it in WAL mode, and reports have their own.
        self.path = Path(path)
        self._pool = _Pool(pool_size)
        self._reports = _Pool(REPORT_CONNECTIONS)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.path.parent}: {exc.strerror}") from None
        self._closing = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoints, name="aitally-ingest-checkpoint", daemon=True
        )
        self._checkpointer.start()

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
        # A commit never checkpoints: the checkpoint's fsync landed on about one upload in a
        # hundred (the p99, bench/README.md, Fleet); the checkpointer thread does it instead.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        return conn

    def _connection(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._pooled(self._pool)

    def _report_connection(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._pooled(self._reports)

    def _checkpoints(self) -> None:
        """Copies committed pages from the WAL into the database file every CHECKPOINT_EVERY
        seconds, without waiting for readers or writers (PASSIVE), until close()."""
        conn: sqlite3.Connection | None = None
        failed = False
        while not self._closing.wait(CHECKPOINT_EVERY):
            try:
                conn = conn or self._connect()
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                failed = False
            except (sqlite3.Error, StorageError) as exc:
                if not failed:  # once per run of failures, not once a second
                    log.warning("WAL checkpoint of %s failed: %s", self.path, exc)
                failed = True
        if conn is not None:
            conn.close()

    @contextmanager
    def _pooled(self, pool: _Pool) -> Iterator[sqlite3.Connection]:
        try:
            pool.slots.get(timeout=30.0)
        except queue.Empty:
            raise StorageBusy("all database connections busy for 30 s") from None
        try:
            try:
                conn = pool.idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
            try:
                yield conn
                conn.commit()
            except BaseException:
                try:
                    conn.rollback()
                except Exception:
                    conn.close()  # a broken connection is not returned to the pool
                    raise
                raise
            pool.idle.put(conn)
        finally:
            pool.slots.put(None)

    def close(self) -> None:
        """Stops the checkpointer and closes the idle pooled connections."""
        self._closing.set()
        self._checkpointer.join(timeout=5)
        self._pool.close()
        self._reports.close()

    def _begin(self, conn: Any, write: bool) -> Any:
        cur = conn.cursor()
        # A writer takes the write lock up front (IMMEDIATE), so two writers never deadlock
        # upgrading read locks. A reader's DEFERRED transaction takes no lock at all in WAL
        # mode: it reads the last commit and never queues behind an insert.
        cur.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
        return cur

    def _insert_returning(self, cur: Any, sql: str, rows: Sequence[tuple[Any, ...]]) -> list[str]:
        inserted = []
        for row in rows:
            cur.execute(sql, row)
            got = cur.fetchone()
            if got is not None:
                inserted.append(got[0])
        return inserted
