"""Reading a browser's history database safely: the one module with SQL against browser files.

The browser holds its database open (locked, in WAL mode) while it runs. aitally never opens
it with SQLite: `snapshot` copies the file and its `-wal` with plain reads into a private
temporary folder (retrying when the browser wrote during the copy) and opens the copy
read-only; the copy is deleted when the pass ends. `visits` reads the copy in id order, in
batches, and yields per visit its id, time, duration and host: the URL is taken apart in
memory and dropped at once; titles, typed input and every other column are never selected.
Visits synced from other devices, imported from other browsers or loaded in frames are left
out in SQL.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aitally.collectors.browser.hosts import host_of, normalise
from aitally.collectors.browser.profiles import Engine
from aitally.collectors.files.lines import open_regular

# Rows per query: bounded memory whatever the history's size.
BATCH = 5000
# Chromium counts microseconds since 1601-01-01, Safari seconds since 2001-01-01 (UTC).
CHROMIUM_EPOCH = 11_644_473_600
SAFARI_EPOCH = 978_307_200
# Copies attempted while the browser keeps writing before the pass gives up (until the next).
COPY_ATTEMPTS = 3
COPY_CHUNK = 1 << 20
# Chromium's visit_source values for visits made in this browser (BROWSED) are not stored;
# every stored source (SYNCED = 0, an extension, an import from another browser) is skipped.
# Firefox's moz_historyvisits.source 4 is a visit from Sync; visit_type 4 (EMBED) and
# 8 (FRAMED_LINK) are pages loaded inside another page.
FIREFOX_SYNCED = 4
FIREFOX_FRAMES = (4, 8)
# Chromium's core transition types AUTO_SUBFRAME (3) and MANUAL_SUBFRAME (4).
CHROMIUM_FRAMES = (3, 4)


class HistoryUnreadable(OSError):
    """The database could not be copied or read; `reason` is a counter's short name
    (not_a_file, copy_failed, busy, gone, unreadable), str() says why in a few words, never
    quoting the database's content."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Visit:
    """One visit: its id in the database, when (epoch seconds), how long (0: unknown) and the
    host of its URL (None for non-web URLs)."""

    id: int
    at: float
    duration: float
    host: str | None


def _copy(src: Path, dst: Path) -> tuple[int, int] | None:
    """Copies a regular file with plain reads; (size, mtime_ns) of the source when the copy
    began, or None when it does not exist. A FIFO or a device raises OSError, unopened."""
    try:
        fh = open_regular(src)
    except FileNotFoundError:
        return None
    with fh, open(dst, "wb") as out:
        st = os.fstat(fh.fileno())
        shutil.copyfileobj(fh, out, COPY_CHUNK)
    return st.st_size, st.st_mtime_ns


def identity(path: Path) -> tuple[int, int] | None:
    """(size, mtime_ns) of a file, or None when it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


@contextmanager
def snapshot(db: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a consistent private copy of `db` (with its `-wal`)."""
    with tempfile.TemporaryDirectory(prefix="aitally-history-") as tmp:
        copy = Path(tmp) / "history.sqlite"
        for _ in range(COPY_ATTEMPTS):
            try:
                before = (_copy(db, copy), _copy(Path(f"{db}-wal"), Path(f"{copy}-wal")))
            except OSError as exc:
                if exc.strerror == "not a regular file":
                    raise HistoryUnreadable("not_a_file", "not a regular file") from None
                why = exc.strerror or type(exc).__name__
                raise HistoryUnreadable("copy_failed", f"cannot copy it: {why}") from None
            if before[0] is None:
                raise HistoryUnreadable("gone", "the file went away")
            if before == (identity(db), identity(Path(f"{db}-wal"))):
                break
        else:
            raise HistoryUnreadable("busy", "the browser kept writing during the copy")
        try:
            conn = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise _unreadable(exc) from None
        with closing(conn):
            _run(conn, "PRAGMA query_only = ON")
            yield conn


def _unreadable(exc: sqlite3.Error) -> HistoryUnreadable:
    # SQLite's message names the problem ("file is not a database"), never the data.
    return HistoryUnreadable("unreadable", f"not a readable history: {str(exc)[:80]}")


def _run(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """All rows of a query on the copy; a SQLite error raises HistoryUnreadable."""
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.Error as exc:
        raise _unreadable(exc) from None


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(r[1]) for r in _run(conn, f"PRAGMA table_info({table})")}


def _has_table(conn: sqlite3.Connection, table: str) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return bool(_run(conn, sql, (table,)))


def _chromium(conn: sqlite3.Connection) -> tuple[str, str]:
    where = [f"(v.transition & 255) NOT IN {CHROMIUM_FRAMES}"]
    if "originator_cache_guid" in _columns(conn, "visits"):
        where.append("COALESCE(v.originator_cache_guid, '') = ''")
    if _has_table(conn, "visit_source"):
        where.append("v.id NOT IN (SELECT id FROM visit_source)")
    return (
        "SELECT v.id, v.visit_time / 1e6 - 11644473600, v.visit_duration / 1e6, u.url"
        " FROM visits v JOIN urls u ON u.id = v.url",
        " AND ".join(where),
    )


def _firefox(conn: sqlite3.Connection) -> tuple[str, str]:
    where = [f"v.visit_type NOT IN {FIREFOX_FRAMES}"]
    if "source" in _columns(conn, "moz_historyvisits"):
        where.append(f"v.source != {FIREFOX_SYNCED}")
    # moz_places.rev_host is the host reversed ("moc.tpgtahc."): the URL is never read.
    return (
        "SELECT v.id, v.visit_date / 1e6, 0, p.rev_host"
        " FROM moz_historyvisits v JOIN moz_places p ON p.id = v.place_id",
        " AND ".join(where),
    )


def _safari(conn: sqlite3.Connection) -> tuple[str, str]:
    # origin 0: this Mac; 1: a visit synced through iCloud from another device.
    origin = "v.origin = 0" if "origin" in _columns(conn, "history_visits") else "1 = 1"
    return (
        "SELECT v.id, v.visit_time + 978307200, 0, i.url"
        " FROM history_visits v JOIN history_items i ON i.id = v.history_item",
        origin,
    )


QUERIES = {"chromium": _chromium, "firefox": _firefox, "safari": _safari}
VISIT_TABLES = {"chromium": "visits", "firefox": "moz_historyvisits", "safari": "history_visits"}
TIME_COLUMNS = {"chromium": "visit_time", "firefox": "visit_date", "safari": "visit_time"}


def top_id(conn: sqlite3.Connection, engine: Engine) -> int:
    """The highest visit id in the database (0 when empty)."""
    return int(_run(conn, f"SELECT COALESCE(MAX(id), 0) FROM {VISIT_TABLES[engine]}")[0][0])


def first_id_since(conn: sqlite3.Connection, engine: Engine, since: float) -> int:
    """The id just before the first visit at or after `since` (epoch seconds), found on the
    browser's own time index: a first read skips older history without reading it."""
    raw = {
        "chromium": (since + CHROMIUM_EPOCH) * 1e6,
        "firefox": since * 1e6,
        "safari": since - SAFARI_EPOCH,
    }[engine]
    table, column = VISIT_TABLES[engine], TIME_COLUMNS[engine]
    first = _run(conn, f"SELECT MIN(id) FROM {table} WHERE {column} >= ?", (raw,))[0][0]
    return int(first) - 1 if first is not None else top_id(conn, engine)


def visits(
    conn: sqlite3.Connection, engine: Engine, after: int, batch: int = BATCH
) -> Iterator[list[Visit]]:
    """Visits with an id above `after`, oldest id first, one batch of at most `batch` rows at
    a time (a list per batch; each list is built and dropped before the next query)."""
    select, where = QUERIES[engine](conn)
    sql = f"{select} WHERE v.id > ? AND {where} ORDER BY v.id LIMIT {int(batch)}"
    while True:
        rows = _run(conn, sql, (after,))
        if not rows:
            return
        out = []
        for vid, at, duration, raw in rows:
            if engine == "firefox":
                host = normalise(raw[::-1].lstrip(".")) if isinstance(raw, str) and raw else None
            else:
                host = host_of(raw if isinstance(raw, str) else None)
            out.append(Visit(int(vid), float(at or 0), max(0.0, float(duration or 0)), host))
        del rows
        after = out[-1].id
        yield out
        if len(out) < batch:
            return
