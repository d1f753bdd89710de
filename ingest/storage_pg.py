"""PostgreSQL storage backend (psycopg 3 through psycopg_pool): shared by ingest replicas."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, cast

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from aitally.ingest.storage import Storage, StorageBusy, StorageError

_MIGRATION_LOCK = 0x61697461  # any constant; all replicas agree on it
# A request waits this long for a free connection, then is answered 503.
BUSY_WAIT = 30.0
# Seconds a connection lives at most (the pool adds up to 5 % jitter).
MAX_LIFETIME = 600.0
REPORT_CONNECTIONS = 2
"""Reports read on connections of their own: a burst of them never takes one an upload needs."""
REPORT_TIMEOUT_MS = 60_000
"""A report's statement stops after this long (answered 503) rather than hold a connection."""


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

    def fetchmany(self, size: int) -> list[Any]:
        """Up to size of the remaining result rows."""
        return list(self._cur.fetchmany(size))

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


@contextmanager
def _pooled(pool: ConnectionPool) -> Iterator[Any]:
    """A connection of pool for one transaction; StorageBusy when none frees up in time."""
    try:
        conn = pool.getconn()
    except PoolTimeout:
        raise StorageBusy(f"no PostgreSQL connection free within {BUSY_WAIT:g} s") from None
    try:
        # As ConnectionPool.connection(): `with conn` commits when the block ends and rolls
        # back when it raises; putconn drops a connection left broken.
        with conn:
            yield conn
    finally:
        pool.putconn(conn)


class PostgresStorage(Storage):
    """Storage on PostgreSQL; several replicas may share one database."""

    dialect = "postgresql"
    concat = "string_agg"

    def __init__(self, url: str, pool_size: int = 16, max_lifetime: float = MAX_LIFETIME) -> None:
        self.url = url
        self._probe()
        # check: a connection is tried (an empty query) when taken from the pool, and one that
        # the server dropped (restart, failover) is replaced before the request uses it.
        # max_lifetime: connections are renewed, so after a failover behind one DNS name or
        # pooler address none stay on the old primary for long.
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"connect_timeout": 10},
            check=ConnectionPool.check_connection,
            max_lifetime=max_lifetime,
            timeout=BUSY_WAIT,
            name="aitally-ingest",
            open=True,
        )
        self._reports = ConnectionPool(
            url,
            min_size=0,
            max_size=REPORT_CONNECTIONS,
            kwargs={
                "connect_timeout": 10,
                "options": f"-c statement_timeout={REPORT_TIMEOUT_MS}",
            },
            check=ConnectionPool.check_connection,
            max_lifetime=max_lifetime,
            timeout=BUSY_WAIT,
            name="aitally-ingest-reports",
            open=True,
        )

    def _probe(self) -> None:
        """Raises StorageError naming what libpq said unless the database takes a connection
        (the pool itself would only time out)."""
        try:
            psycopg.connect(self.url, connect_timeout=10).close()
        except psycopg.Error as exc:
            # The message names host and database, never the password.
            detail = " ".join(str(exc).split())  # libpq's message spans lines
            raise StorageError(f"cannot connect to PostgreSQL: {detail}") from None

    def _connection(self) -> AbstractContextManager[Any]:
        return _pooled(self._pool)

    @contextmanager
    def _report_connection(self) -> Iterator[Any]:
        try:
            with _pooled(self._reports) as conn:
                yield conn
        except psycopg.errors.QueryCanceled:
            raise StorageBusy(
                f"the report ran past {REPORT_TIMEOUT_MS / 1000:g} s; ask for a shorter window"
            ) from None

    def close(self) -> None:
        """Closes the pools and their connections."""
        self._pool.close()
        self._reports.close()

    def _begin(self, conn: Any, write: bool) -> Any:
        return _Cursor(conn.cursor())  # psycopg opens the transaction on first execute

    def _writing(self, conn: Any, cur: Any) -> Any:
        return cur  # the read's transaction goes on: writing needs no lock taken up front

    def _pipelined(self, cur: Any) -> AbstractContextManager[Any]:
        # psycopg's pipeline mode: statements are sent at once, answers read at the block's end.
        return cast(AbstractContextManager[Any], cur.raw.connection.pipeline())

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
