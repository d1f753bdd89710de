"""The ingest storage interface: devices, idempotent record insertion, report queries."""

from __future__ import annotations

import datetime as dt
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from aitally.core.wire import OUTCOME_KINDS
from aitally.ingest.identity import Attribution, Enrollment
from aitally.ingest.migrations import render, statements
from aitally.ingest.record_figures import Tokens
from aitally.ingest.rollups import upsert_statements
from aitally.ingest.rows import Device, DeviceHealth, Stored
from aitally.ingest.schema import Record
from aitally.ingest.storage_classes import ClassStore
from aitally.ingest.storage_outcomes import OutcomeStore
from aitally.ingest.storage_people import PeopleStore
from aitally.ingest.storage_report_cache import ReportCacheStore
from aitally.ingest.storage_retention import RetentionStore
from aitally.ingest.storage_usage import UsageStore
from aitally.ingest.wire import Batch


class StorageError(Exception):
    """The database cannot be opened or used; str() names it and what to do."""


class StorageBusy(StorageError):
    """Every connection stayed in use past the wait; the caller answers 503."""


BATCH_DEADLINE = 60.0
"""Seconds from a batch's receipt (its records' received_at) to the end of its transaction at
most: a batch that took longer (queued for the write lock) is rolled back and answered 503, and
its agent sends it again. The report cache's change detection relies on this bound
(aitally.ingest.report_refresh.RECEIPT_MARGIN)."""

_TOK = "tok_input, tok_output, tok_cache_read, tok_cache_write, tok_reasoning"
OUTCOME_COLUMNS = tuple(f"out_{kind}" for kind in OUTCOME_KINDS)
"""The records columns holding outcome counts, in `OUTCOME_KINDS` order (NULL: not sent)."""
_RECORD_COLUMNS = (
    "record_id, device_id, batch_id, received_at, kind, tool, surface, tool_version, "
    f"started_at, ended_at, day, active_seconds, present_seconds, turns, sessions, {_TOK}, "
    f"signals, project, user_id, device, org_unit, person, {', '.join(OUTCOME_COLUMNS)}"
)
_INSERT_RECORD = (
    f"INSERT INTO records ({_RECORD_COLUMNS}) "
    f"VALUES ({', '.join(['?'] * (26 + len(OUTCOME_COLUMNS)))}) "
    "ON CONFLICT (record_id) DO NOTHING RETURNING record_id"
)
_INSERT_MODEL = (
    f"INSERT INTO record_models (record_id, model, {_TOK}) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (record_id, model) DO NOTHING"
)
_UPSERT_HEALTH = """
    INSERT INTO device_health (device_id, updated_at, batches, accepted, duplicate, rejected,
                               queue_depth, dead_letter, dropped, parse_errors)
    VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (device_id) DO UPDATE SET
        updated_at = excluded.updated_at,
        batches = device_health.batches + 1,
        accepted = device_health.accepted + excluded.accepted,
        duplicate = device_health.duplicate + excluded.duplicate,
        rejected = device_health.rejected + excluded.rejected,
        queue_depth = excluded.queue_depth,
        dead_letter = excluded.dead_letter,
        dropped = excluded.dropped,
        parse_errors = excluded.parse_errors
"""


def utc_day(ts: float) -> str:
    """The UTC calendar day of an epoch time, YYYY-MM-DD."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()


def _record_row(r: Record, who: Attribution) -> tuple[Any, ...]:
    tokens = r.tokens or Tokens(None, None, None, None, None)
    outcomes = r.outcomes or (None,) * len(OUTCOME_KINDS)
    # Identity columns come from the enrollment (aitally.ingest.identity), never the record.
    return (
        r.record_id,
        who.owner,
        who.batch_id,
        who.received_at,
        r.kind,
        r.tool,
        r.surface,
        r.tool_version,
        r.started_at,
        r.ended_at,
        utc_day(r.started_at),
        r.active_seconds,
        r.present_seconds,
        r.turns,
        r.sessions,
        *tokens,
        ",".join(r.signals),
        r.project,
        who.user,
        who.device,
        who.org_unit,
        who.person,
        *outcomes,
    )


def _enrollment(cur: Any, token_hash: str) -> Enrollment | None:
    """The enrollment of the active device a token hash belongs to, read on cur, else None."""
    cur.execute(
        "SELECT device_id, person, level, org_unit, device_name FROM devices "
        "WHERE token_hash = ? AND revoked_at IS NULL",
        (token_hash,),
    )
    row = cur.fetchone()
    if row is None:
        return None
    # Devices enrolled before identities were bound count as one person each.
    return Enrollment(row[0], row[1] or f"enrolled:{row[0]}", row[2] or "identified", *row[3:5])


class Storage(
    PeopleStore, RetentionStore, ReportCacheStore, OutcomeStore, ClassStore, UsageStore, ABC
):
    """One database, shared by request threads through a connection pool of the backend's."""

    dialect: str

    # --- what each backend supplies -------------------------------------------------
    @abstractmethod
    def _connection(self) -> AbstractContextManager[Any]:
        """A pooled connection for one transaction: committed when the block ends, rolled
        back when it raises; StorageBusy when every connection stays in use for 30 s."""

    @abstractmethod
    def _report_connection(self) -> AbstractContextManager[Any]:
        """As _connection, from a small pool of the reports' own (reads that take seconds),
        so reports never hold a connection an upload or a token check is waiting for."""

    @abstractmethod
    def _begin(self, conn: Any, write: bool) -> Any:
        """Starts a transaction (write: one that will write), returns a cursor whose execute
        takes '?' params."""

    @abstractmethod
    def _insert_returning(self, cur: Any, sql: str, rows: Sequence[tuple[Any, ...]]) -> list[str]:
        """Runs an INSERT .. RETURNING record_id for every row; the ids actually inserted."""

    @abstractmethod
    def close(self) -> None:
        """Closes the pooled connections."""

    def _lock_migrations(self, cur: Any) -> None:
        """Serializes concurrent migrators (replicas starting together)."""

    def _pipelined(self, cur: Any) -> AbstractContextManager[Any]:
        """Statements run in this block may be sent without waiting for each answer (their
        results are not read): one network round trip for all of them where the backend can."""
        return nullcontext()

    # --- plumbing --------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside one write transaction on a pooled connection; commits on success."""
        with self._connection() as conn:
            yield self._begin(conn, write=True)

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A cursor inside one read-only transaction: on SQLite it never waits for a writer."""
        with self._connection() as conn:
            yield self._begin(conn, write=False)

    @contextmanager
    def reporting(self) -> Iterator[Any]:
        """As reading, on a connection of the reports' own pool (StorageBusy when all of them
        stay in use, or, on PostgreSQL, when one report runs past its statement timeout)."""
        with self._report_connection() as conn:
            yield self._begin(conn, write=False)

    def migrate(self) -> int:
        """Applies pending migrations; returns the schema version now in force."""
        scripts = render(self.dialect)
        if self._schema_version() == len(scripts):
            return len(scripts)  # up to date: no write lock (a CLI report never waits on inserts)
        with self.transaction() as cur:
            self._lock_migrations(cur)
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            cur.execute("SELECT MAX(version) FROM schema_version")
            current = cur.fetchone()[0] or 0
            if current > len(scripts):
                raise StorageError(
                    f"database schema version {current} is newer than this aitally-ingest "
                    f"({len(scripts)}); upgrade aitally-ingest"
                )
            for version in range(current + 1, len(scripts) + 1):
                for stmt in statements(scripts[version - 1]):
                    cur.execute(stmt)
                cur.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        return len(scripts)

    def _schema_version(self) -> int | None:
        """The schema version, read without a write lock; None when it cannot be read (no
        schema yet, or any error, which the locked path of migrate then meets and reports)."""
        try:
            with self.reading() as cur:
                cur.execute("SELECT MAX(version) FROM schema_version")
                return int(cur.fetchone()[0] or 0)
        except Exception:
            return None

    def ping(self) -> None:
        """Raises StorageError unless the database answers."""
        with self.reading() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()

    # --- devices ----------------------------------------------------------------------
    def enroll(
        self, who: Enrollment, token_hash: str, label: str | None, version: str | None, now: float
    ) -> None:
        """Stores a new device under the hash of its token, with the identity it enrolled as."""
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO devices (device_id, token_hash, label, agent_version, enrolled_at, "
                "person, level, org_unit, device_name, proof) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    who.device_id,
                    token_hash,
                    label,
                    version,
                    now,
                    who.person,
                    who.level,
                    who.org_unit,
                    who.device_name,
                    who.proof,
                ),
            )

    def device_for_token(self, token_hash: str) -> Enrollment | None:
        """The enrollment of the active device a token hash belongs to, else None."""
        with self.reading() as cur:
            return _enrollment(cur, token_hash)

    @contextmanager
    def upload(self, token_hash: str) -> Iterator[Upload]:
        """One upload on one pooled connection: the device its token belongs to (None when
        unknown or revoked), then, through Upload.store, its batch. On PostgreSQL both are one
        transaction (bench/README.md, Fleet: the lookup's own transaction cost three round
        trips); on SQLite the lookup reads outside the write lock, as device_for_token does."""
        with self._connection() as conn:
            cur = self._begin(conn, write=False)
            yield Upload(self, conn, cur, _enrollment(cur, token_hash))

    def _writing(self, conn: Any, cur: Any) -> Any:
        """A cursor in a write transaction on conn, after cur has read on it: here the read
        ends and a write transaction begins."""
        conn.commit()
        return self._begin(conn, write=True)

    def revoke(self, device_id: str, now: float) -> bool:
        """Revokes an active device; False when there is none by that id."""
        with self.transaction() as cur:
            cur.execute(
                "UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL",
                (now, device_id),
            )
            changed = cur.rowcount
        return bool(changed and changed > 0)

    def devices(self) -> list[Device]:
        """Every enrolled device, revoked ones too, oldest enrollment first."""
        with self.reading() as cur:
            cur.execute(
                "SELECT d.device_id, d.label, d.agent_version, d.os, d.enrolled_at, "
                "d.last_seen_at, d.revoked_at, d.proof, h.batches, h.accepted, h.duplicate, "
                "h.rejected, h.queue_depth, h.dead_letter, h.dropped, h.parse_errors "
                "FROM devices d LEFT JOIN device_health h ON h.device_id = d.device_id "
                "ORDER BY d.enrolled_at, d.device_id"
            )
            rows = cur.fetchall()
        out = []
        for r in rows:
            health = None
            if r[8] is not None:
                health = DeviceHealth(
                    batches=r[8],
                    accepted=r[9],
                    duplicate=r[10],
                    rejected=r[11],
                    queue_depth=r[12],
                    dead_letter=r[13],
                    dropped=json.loads(r[14] or "{}"),
                    parse_errors=json.loads(r[15] or "{}"),
                )
            out.append(
                Device(
                    device_id=r[0],
                    label=r[1],
                    agent_version=r[2],
                    os=r[3],
                    enrolled_at=r[4],
                    last_seen_at=r[5],
                    revoked_at=r[6],
                    revoked=r[6] is not None,
                    proof=r[7],
                    health=health,
                )
            )
        return out

    # --- ingest -----------------------------------------------------------------------
    def store_batch(
        self,
        device_id: str,
        batch: Batch,
        who: Sequence[Attribution],
        mine: frozenset[str],
        now: float,
    ) -> Stored:
        """Inserts the batch's valid records once each (who[i] is records[i]'s identity).

        A record id already stored under an owner not in `mine` belongs to another device:
        it is reported in `taken`, never counted as a duplicate.
        """
        with self.transaction() as cur:
            return self._store(cur, device_id, batch, who, mine, now)

    def _store(
        self,
        cur: Any,
        device_id: str,
        batch: Batch,
        who: Sequence[Attribution],
        mine: frozenset[str],
        now: float,
    ) -> Stored:
        """store_batch's work, on cur (in a write transaction)."""
        unique: dict[str, tuple[Record, Attribution]] = {}
        for r, w in zip(batch.records, who, strict=True):
            unique.setdefault(r.record_id, (r, w))  # a record twice in one batch: a duplicate
        rows = [_record_row(r, w) for r, w in unique.values()]
        h = batch.health
        new = set(self._insert_returning(cur, _INSERT_RECORD, rows)) if rows else set()
        accepted = len(new)
        taken = self._taken(cur, [rid for rid in unique if rid not in new], mine)
        # Models of records that were already stored are already stored too.
        models = [
            (rid, name, *tokens)
            for rid, (r, _) in unique.items()
            if rid in new
            for name, tokens in r.models.items()
        ]
        duplicate = len(batch.records) - accepted - len(taken)
        # The writes whose results nobody reads leave together (bench/README.md, Fleet).
        with self._pipelined(cur):
            if models:
                cur.executemany(_INSERT_MODEL, models)
            if new:
                # The report rollups (aitally.ingest.rollups) move with the records they
                # sum, after the models: the model rollup reads them.
                ids = sorted(new)
                marks = ", ".join("?" * len(ids))
                for stmt in upsert_statements(f"r.record_id IN ({marks})"):
                    cur.execute(stmt, ids)
            cur.execute(
                "UPDATE devices SET last_seen_at = ?, "
                "agent_version = COALESCE(?, agent_version), os = COALESCE(?, os) "
                "WHERE device_id = ?",
                (now, batch.agent_version, batch.agent_os, device_id),
            )
            cur.execute(
                _UPSERT_HEALTH,
                (
                    device_id,
                    now,
                    accepted,
                    duplicate,
                    len(batch.rejected) + len(taken),
                    h.get("queue_depth"),
                    h.get("dead_letter"),
                    json.dumps(h.get("dropped", {})),
                    json.dumps(h.get("parse_errors", {})),
                ),
            )
        if time.time() - now > BATCH_DEADLINE:
            raise StorageBusy(f"the batch waited over {BATCH_DEADLINE:g} s to be stored")
        return Stored(accepted, duplicate, taken)

    # --- report queries ---------------------------------------------------------------


class Upload:
    """One upload's connection (Storage.upload): the device its token belongs to, and the
    batch stored on the same connection."""

    def __init__(self, storage: Storage, conn: Any, cur: Any, device: Enrollment | None) -> None:
        self._storage, self._conn, self._cur = storage, conn, cur
        self.device = device
        """The active device the token belongs to; None when unknown or revoked."""

    def store(
        self, batch: Batch, who: Sequence[Attribution], mine: frozenset[str], now: float
    ) -> Stored:
        """As Storage.store_batch, for this upload's device; at most once."""
        assert self.device is not None, "an unknown token stores nothing"
        storage = self._storage
        cur = storage._writing(self._conn, self._cur)
        return storage._store(cur, self.device.device_id, batch, who, mine, now)


def open_storage(url: str) -> Storage:
    """sqlite:///path (or a plain path) or postgresql://...; migrated before use."""
    if url.startswith(("postgresql://", "postgres://")):
        from aitally.ingest.storage_pg import PostgresStorage

        storage: Storage = PostgresStorage(url)
    else:
        from aitally.ingest.storage_sqlite import SqliteStorage

        storage = SqliteStorage(url.removeprefix("sqlite://"))
    storage.migrate()
    return storage
