"""The `file_positions` table: how far each tool data file was read, and its saved state.

One row per file path. The file collector loads every row at start, renames a row when a file
moved, and deletes it when the file went away; new positions are written together with the
observations read up to them (`save`, inside the sink's transaction), so that a crash neither
loses nor counts twice a line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from aitally.core.sink import FilePosition

# Positions of sources other than tool files share the table under a tool name with this
# prefix ("browser:chrome": the last visit read of a browser profile's history); the file
# figures below leave them out.
BROWSER_PREFIX = "browser:"
_FILES_ONLY = f"WHERE tool NOT LIKE '{BROWSER_PREFIX}%'"


def load_positions(conn: sqlite3.Connection, prefix: str = "") -> list[FilePosition]:
    """Every committed position (of tools whose name starts with `prefix`); `state` is the JSON
    text as saved (None when empty)."""
    return [
        FilePosition(
            path=r[0],
            tool=r[1],
            offset=int(r[2]),
            dev=r[3],
            ino=r[4],
            size=r[5],
            mtime=r[6],
            state=r[7] if r[7] else None,
        )
        for r in conn.execute(
            "SELECT path, tool, offset, dev, ino, size, mtime, state FROM file_positions"
            " WHERE tool LIKE ? || '%'",
            (prefix,),
        )
    ]


def save(conn: sqlite3.Connection, positions: Sequence[FilePosition]) -> None:
    """Inserts or replaces these positions; call inside the transaction of their observations."""
    conn.executemany(
        "INSERT INTO file_positions(path, tool, dev, ino, offset, size, mtime, state)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET"
        " tool=excluded.tool, dev=excluded.dev, ino=excluded.ino,"
        " offset=excluded.offset, size=excluded.size, mtime=excluded.mtime,"
        " state=excluded.state",
        [(p.path, p.tool, p.dev, p.ino, p.offset, p.size, p.mtime, p.state) for p in positions],
    )


def forget(conn: sqlite3.Connection, path: str) -> None:
    """Deletes the position of a file that went away (a new file there starts from zero)."""
    conn.execute("DELETE FROM file_positions WHERE path = ?", (path,))


def rename(conn: sqlite3.Connection, old: str, new: str) -> None:
    """Moves a position to the new path of a renamed or rotated file."""
    conn.execute("UPDATE file_positions SET path = ? WHERE path = ?", (new, old))


def files_by_tool(conn: sqlite3.Connection) -> dict[str, int]:
    """How many files each tool has a position for."""
    return {
        str(r[0]): int(r[1])
        for r in conn.execute(
            f"SELECT tool, COUNT(*) FROM file_positions {_FILES_ONLY} GROUP BY tool"
        )
    }


def bytes_read_by_tool(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """Per tool: (files with a position, bytes read up to the positions)."""
    rows = conn.execute(
        f"SELECT tool, COUNT(*), SUM(offset) FROM file_positions {_FILES_ONLY} GROUP BY tool"
    )
    return {str(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}
