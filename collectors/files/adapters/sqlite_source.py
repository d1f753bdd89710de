"""Reading a tool's SQLite database safely: read-only, new rows by rowid, rows still in progress."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from aitally.collectors.files.adapters.base import FileState

# Rows per poll, and unfinished rows re-read on later polls (a reply still streaming).
LIMIT = 5000
MAX_PENDING = 500


def open_ro(path: Path) -> sqlite3.Connection:
    """Read-only: the tool's database is never written, locked for long, or created."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    conn.execute("PRAGMA query_only = ON")
    return conn


def rows(path: Path, table: str, columns: str, where: str, st: FileState) -> Iterator[Any]:
    """Rows past the high-water rowid, plus rows earlier marked pending; a rebuilt database
    (its highest rowid went down) is read again from the start."""
    with closing(open_ro(path)) as conn:
        top = conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0]
        hw = int(st.data.get("hw") or 0)
        if top < hw:
            hw = 0
            st.data["pending"] = []
        pending = [int(r) for r in st.data.get("pending") or []]
        st.data["pending"] = []
        if pending:
            marks = ",".join("?" * len(pending))
            yield from conn.execute(
                f"SELECT rowid, {columns} FROM {table} WHERE rowid IN ({marks}) AND {where}",
                pending,
            )
        for row in conn.execute(
            f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? AND {where}"
            f" ORDER BY rowid LIMIT {LIMIT}",
            (hw,),
        ):
            hw = max(hw, int(row[0]))
            yield row
        st.data["hw"] = hw


def pend(st: FileState, rowid: int) -> None:
    """Read this row again next time (its figures are not final yet)."""
    pending: list[int] = st.data.setdefault("pending", [])
    if len(pending) < MAX_PENDING:
        pending.append(rowid)
