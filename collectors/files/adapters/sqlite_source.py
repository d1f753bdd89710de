"""Reading a tool's SQLite database safely: read-only, new rows by rowid, rows still in progress.

The only module that queries the tools' own databases (Cursor, OpenCode); adapters declare a
table, its columns and an optional key prefix, and receive the rows one by one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from aitally.collectors.files.adapters.base import Row, SqliteAdapter
from aitally.collectors.files.state import FileState

# Rows per poll; the rest on the next poll.
LIMIT = 5000


def open_ro(path: Path) -> sqlite3.Connection:
    """Read-only: the tool's database is never written, locked for long, or created."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    conn.execute("PRAGMA query_only = ON")
    # One TEXT value that is not UTF-8 would otherwise fail every poll at that row, and no
    # later row of the database would ever be read.
    conn.text_factory = _lenient_text
    return conn


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def rows(path: Path, adapter: SqliteAdapter, st: FileState, mtime: float) -> Iterator[Row]:
    """The adapter's rows past `st.high_water`, after the rows earlier marked pending.

    A rebuilt database (its highest rowid went down) is read again from the start; a database
    without the table yields nothing; any other SQLite error raises OSError.
    """
    try:
        yield from _rows(path, adapter, st, mtime)
    except sqlite3.Error as exc:
        if "no such table" not in str(exc):
            raise OSError(str(exc)) from None


def _rows(path: Path, adapter: SqliteAdapter, st: FileState, mtime: float) -> Iterator[Row]:
    table, columns = adapter.table, ", ".join(adapter.columns)
    where: str = "1=1"
    params: tuple[str, ...] = ()
    if adapter.key_prefix is not None:
        column, prefix = adapter.key_prefix
        where, params = f"{column} LIKE ?", (prefix + "%",)
    with closing(open_ro(path)) as conn:
        top = conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0]
        hw = st.high_water
        if top < hw:
            hw = 0
            st.pending = []
        pending, st.pending = st.pending, []
        if pending:
            marks = ",".join("?" * len(pending))
            for r in conn.execute(
                f"SELECT rowid, {columns} FROM {table} WHERE rowid IN ({marks}) AND {where}",
                (*pending, *params),
            ):
                yield Row(int(r[0]), tuple(r[1:]), mtime)
        for r in conn.execute(
            f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? AND {where}"
            f" ORDER BY rowid LIMIT {LIMIT}",
            (hw, *params),
        ):
            hw = max(hw, int(r[0]))
            yield Row(int(r[0]), tuple(r[1:]), mtime)
        st.high_water = hw
