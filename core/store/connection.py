"""The durable local store: SQLite in WAL mode, migrated forward, moved aside when corrupt."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from aitally.core.errors import StoreError
from aitally.core.paths import make_private_dir, make_private_file
from aitally.core.store.schema import MIGRATIONS

log = logging.getLogger(__name__)


def _connect(path: Path, busy_timeout: float = 10.0) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE) so a writer never
    # deadlocks upgrading a read lock, and every commit is one durable WAL frame set.
    with suppress(OSError):  # sqlite3 names the problem if the file cannot be opened
        make_private_file(path)  # SQLite gives -wal and -shm the database file's mode
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    for suffix in ("-wal", "-shm"):  # made by an older version under a looser umask
        with suppress(OSError):
            Path(str(path) + suffix).chmod(0o600)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode != "wal":
        log.warning("store %s: WAL mode unavailable (journal_mode=%s)", path, mode)
    # NORMAL is durable against process crashes in WAL mode; only a power cut can lose
    # the last commits, never corrupt the file.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _statements(script: str) -> list[str]:
    """Splits a migration into statements; sqlite3.complete_statement knows about comments."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def _healthy(conn: sqlite3.Connection) -> bool:
    row = conn.execute("PRAGMA quick_check").fetchone()
    return row is not None and row[0] == "ok"


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.replace(src, Path(str(target) + suffix))
    return target


def ensure_writable_dir(folder: Path) -> None:
    """Creates the data folder or raises StoreError naming it and the fix."""
    try:
        make_private_dir(folder)
    except OSError as exc:
        raise StoreError(
            f"data folder {folder} cannot be created: {exc.strerror}; "
            "set AITALLY_DATA_DIR to a writable folder"
        ) from None
    if not os.access(folder, os.W_OK):
        raise StoreError(
            f"data folder {folder} is not writable; fix its permissions or set AITALLY_DATA_DIR"
        )


class Store:
    """One connection to the store; open one per thread."""

    def __init__(self, path: Path, *, recover: bool = False, busy_timeout: float = 10.0) -> None:
        """`recover` is for the agent alone, at start: it checks the store's integrity and
        moves a corrupt one aside. Any other reader (the CLI, the agent's own threads) only
        reports it: moving the file under a running agent would lose what it writes.
        `busy_timeout` is how long a write waits for another connection's lock (seconds); a
        part that can answer "busy" to its own client (the OTLP receiver) waits less."""
        self.path = path
        ensure_writable_dir(path.parent)
        moved: Path | None = None
        conn: sqlite3.Connection | None = None
        try:
            conn = _connect(path, busy_timeout)
            if recover and not _healthy(conn):
                raise sqlite3.DatabaseError("quick_check failed")
            if not recover:
                conn.execute("SELECT COUNT(*) FROM sqlite_schema").fetchone()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
                raise StoreError(f"store {path} cannot be opened: {exc}") from None
            if conn is not None:
                with suppress(sqlite3.Error):
                    conn.close()
            if not recover:
                raise StoreError(
                    f"store {path} is unreadable ({exc}); restart the agent (`aitally run`), "
                    "which moves it aside and starts a fresh one"
                ) from None
            moved = _move_aside(path)
            log.error(
                "store %s was corrupt (%s); moved aside to %s and started fresh", path, exc, moved
            )
            conn = _connect(path)
        self.conn = conn
        self._migrate()
        if moved is not None:
            self.count("store", "corrupt_moved_aside")

    def _migrate(self) -> None:
        # The version is read inside the write transaction, so two processes opening a new
        # store at once (the agent and a CLI command) never apply a migration twice.
        while True:
            with self.transaction() as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > len(MIGRATIONS):
                    raise StoreError(
                        f"store {self.path} has schema {version}, newer than this aitally "
                        f"({len(MIGRATIONS)}); upgrade aitally or move the file away"
                    )
                if version == len(MIGRATIONS):
                    return
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; everything inside lands together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            # SQLite has already rolled back after some errors (a full disk): a second
            # ROLLBACK would raise and hide the cause. A failed COMMIT must not leave the
            # transaction open, or every later BEGIN fails.
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()

    # Small helpers shared by every part of the agent.
    def count(
        self, name: str, reason: str, n: int = 1, conn: sqlite3.Connection | None = None
    ) -> None:
        (conn or self.conn).execute(
            "INSERT INTO counters(name, reason, count) VALUES (?, ?, ?) "
            "ON CONFLICT(name, reason) DO UPDATE SET count = count + excluded.count",
            (name, reason, n),
        )

    def counters(self, name: str) -> dict[str, int]:
        rows = self.conn.execute("SELECT reason, count FROM counters WHERE name = ?", (name,))
        return {r["reason"]: r["count"] for r in rows}

    def kv_get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def kv_set(self, key: str, value: str, conn: sqlite3.Connection | None = None) -> None:
        (conn or self.conn).execute(
            "INSERT INTO kv(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def size_bytes(self) -> int:
        page_count = self.conn.execute("PRAGMA page_count").fetchone()[0]
        page_size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        free = self.conn.execute("PRAGMA freelist_count").fetchone()[0]
        return int((page_count - free) * page_size)


def open_existing(path: Path) -> Store | None:
    """The store at `path` for a reader (CLI, dashboard), or None where no agent created one yet."""
    return Store(path) if path.exists() else None


def inspect(path: Path) -> tuple[str, int]:
    """(integrity check result, schema version) of a store file, opened read-only so that
    looking neither migrates nor locks it; ("ok", n) for a healthy store."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            result = str(conn.execute("PRAGMA quick_check").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return str(exc), 0
    return result, version
