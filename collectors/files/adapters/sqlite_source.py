"""Reading a tool's SQLite database safely: read-only, allowed columns only, new rows by rowid.

The only module that queries the tools' own databases (Cursor, OpenCode). Adapters declare a
table, its columns and an optional key prefix, and receive the rows one by one; key-value rows
a tool rewrites in place (Cursor's daily line counts) are read whole on each pass instead.
Every query is checked against `READABLE` before it runs, and SQLite itself refuses to read
any other table or column (an authorizer on every connection): the tables that hold code,
prompts or credentials are never read into memory (docs/privacy.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aitally.collectors.files.adapters.base import Row, SqliteAdapter
from aitally.collectors.files.outcomes import cursor as cursor_outcomes
from aitally.collectors.files.state import FileState

# Rows per poll; the rest on the next poll.
LIMIT = 5000
# A rewritten key-value row larger than this is not read (Cursor's daily counts are ~150 bytes).
MAX_VALUE = 4 << 10


@dataclass(frozen=True, slots=True)
class Readable:
    """What of one table may be read: these columns, and, for key-value tables whose other
    keys hold content or credentials, only rows whose `key` starts with one of the prefixes."""

    columns: frozenset[str]
    key_prefixes: tuple[str, ...] = ()


# (tool, table) -> what may be read. Cursor: bubbles of cursorDiskKV (their figures), the
# daily line counts of ItemTable (whose other keys hold auth tokens), and the counts of
# scored_commits (SCORED_COLUMNS: never commitMessage or branchName); never
# tracked_file_content, which holds code, nor ai_code_hashes or conversation_summaries.
# OpenCode: message, never part.
READABLE: Final[Mapping[tuple[str, str], Readable]] = {
    ("cursor", "cursorDiskKV"): Readable(frozenset({"key", "value"}), ("bubbleId:",)),
    ("cursor", "ItemTable"): Readable(frozenset({"key", "value"}), ("aiCodeTracking.dailyStats",)),
    ("cursor", "scored_commits"): Readable(frozenset(cursor_outcomes.SCORED_COLUMNS)),
    ("opencode", "message"): Readable(frozenset({"id", "session_id", "time_created", "data"})),
}


class NotReadable(ValueError):
    """A query of a table, column or key the allowlist does not name (a bug, never run)."""


def check(tool: str, table: str, columns: tuple[str, ...], key_prefix: str | None) -> None:
    """Raises NotReadable unless `READABLE` allows these columns of the table, and, for a
    key-value table, only keys starting with `key_prefix`."""
    allowed = READABLE.get((tool, table))
    if allowed is None:
        raise NotReadable(f"{tool}: table {table} is not readable")
    extra = set(columns) - allowed.columns
    if extra:
        raise NotReadable(f"{tool}: {table}.{sorted(extra)} not readable")
    if allowed.key_prefixes and not (
        key_prefix is not None and key_prefix.startswith(allowed.key_prefixes)
    ):
        raise NotReadable(f"{tool}: {table} is read only by key prefix")


def open_ro(path: Path, tool: str) -> sqlite3.Connection:
    """Read-only: the tool's database is never written, locked for long, or created; SQLite
    refuses to read any column `READABLE` does not allow the tool."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    conn.execute("PRAGMA query_only = ON")
    # One TEXT value that is not UTF-8 would otherwise fail every poll at that row, and no
    # later row of the database would ever be read.
    conn.text_factory = _lenient_text
    conn.set_authorizer(_authorizer(tool))
    return conn


def _authorizer(tool: str) -> Any:
    allowed = {table: r.columns for (t, table), r in READABLE.items() if t == tool}

    def authorize(action: int, table: str | None, column: str | None, *_: Any) -> int:
        if action != sqlite3.SQLITE_READ:
            return sqlite3.SQLITE_OK
        columns = allowed.get(table or "")
        if columns is not None and (column in columns or column in ("", "ROWID")):
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    return authorize


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _prefix_range(prefix: str) -> tuple[str, str]:
    """Bounds of the keys starting with `prefix` (binary collation, so the key's index is
    used and the match is exact, where LIKE ignores case)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def rows(path: Path, adapter: SqliteAdapter, st: FileState, mtime: float) -> Iterator[Row]:
    """The adapter's rows past `st.high_water`, after the rows earlier marked pending.

    A rebuilt database (its highest rowid went down) is read again from the start; a database
    without the table yields nothing; a column the table lacks (an older version of the tool)
    reads as None; any other SQLite error raises OSError.
    """
    prefix = adapter.key_prefix[1] if adapter.key_prefix is not None else None
    check(adapter.tool, adapter.table, adapter.columns, prefix)
    try:
        yield from _rows(path, adapter, st, mtime)
    except sqlite3.Error as exc:
        if "no such table" not in str(exc):
            raise OSError(str(exc)) from None


def _rows(path: Path, adapter: SqliteAdapter, st: FileState, mtime: float) -> Iterator[Row]:
    table = adapter.table
    where: str = "1=1"
    params: tuple[str, ...] = ()
    if adapter.key_prefix is not None:
        column, prefix = adapter.key_prefix
        where, params = f"{column} >= ? AND {column} < ?", _prefix_range(prefix)
    with closing(open_ro(path, adapter.tool)) as conn:
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if not have:
            return
        columns = ", ".join(c if c in have else "NULL" for c in adapter.columns)
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


def rewritten(path: Path, tool: str, table: str, prefix: str) -> list[tuple[str, Any]]:
    """Every (key, value) row of a key-value table whose key starts with `prefix`, whole: rows
    the tool rewrites in place, so a rowid says nothing of what changed. A value larger than
    `MAX_VALUE` reads as None; a database without the table yields nothing; any other SQLite
    error raises OSError."""
    check(tool, table, ("key", "value"), prefix)
    low, high = _prefix_range(prefix)
    try:
        with closing(open_ro(path, tool)) as conn:
            return [
                (str(k), v)
                for k, v in conn.execute(
                    f"SELECT key, CASE WHEN length(value) <= {MAX_VALUE} THEN value END"
                    f" FROM {table} WHERE key >= ? AND key < ? ORDER BY key",
                    (low, high),
                )
            ]
    except sqlite3.Error as exc:
        if "no such table" in str(exc):
            return []
        raise OSError(str(exc)) from None
