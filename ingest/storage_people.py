"""Storage of people and accountability: enrollments per person, ownership, erasure and the
append-only audit log (mixed into `aitally.ingest.storage.Storage`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from aitally.ingest.rollups import delete_statements, upsert_statements
from aitally.ingest.rows import AuditEntry
from aitally.ingest.storage_report_cache import invalidate_days


class PeopleStore:
    """The queries about people; `transaction` comes from the storage class."""

    def transaction(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor inside one transaction (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    def reading(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor inside one read-only transaction (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    @staticmethod
    def _taken(cur: Any, record_ids: Sequence[str], mine: frozenset[str]) -> list[str]:
        """Of record ids already stored, those stored under an owner not in mine."""
        taken = []
        for chunk in _chunks(record_ids, 200):
            marks = ", ".join("?" * len(chunk))
            cur.execute(
                f"SELECT record_id, device_id FROM records WHERE record_id IN ({marks})", chunk
            )
            taken += [str(rid) for rid, owner in cur.fetchall() if owner not in mine]
        return sorted(taken)

    def find_person(self, candidates: Sequence[str]) -> str | None:
        """The first candidate (current key first) some enrollment already belongs to."""
        with self.reading() as cur:
            for person in candidates:
                cur.execute("SELECT 1 FROM devices WHERE person = ? LIMIT 1", (person,))
                if cur.fetchone() is not None:
                    return person
        return None

    def rename_person(self, renames: Iterable[tuple[str, str]]) -> None:
        """Re-keys a person's enrollments and records after a key rotation (old -> new)."""
        with self.transaction() as cur:
            for old, new in renames:
                # Cached answers counted them as two people (or under the old key).
                _invalidate_people(cur, [old, new])
                cur.execute("UPDATE devices SET person = ? WHERE person = ?", (new, old))
                cur.execute(
                    "UPDATE records SET person = ?, user_id = CASE WHEN user_id IS NULL "
                    "THEN NULL ELSE ? END WHERE person = ?",
                    (new, new, old),
                )
                # Both people's rollup rows are rebuilt from their records as they are now.
                for stmt in delete_statements("person IN (?, ?)"):
                    cur.execute(stmt, (old, new))
                for stmt in upsert_statements("r.person = ?"):
                    cur.execute(stmt, (new,))

    def active_enrollments(self, person: str) -> int:
        """How many unrevoked devices one person has enrolled."""
        with self.reading() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM devices WHERE person = ? AND revoked_at IS NULL", (person,)
            )
            return int(cur.fetchone()[0])

    def erase(self, persons: set[str], now: float) -> int:
        """Deletes every record of these person values and revokes their devices; the count."""
        if not persons:
            return 0
        values = sorted(persons)
        marks = ", ".join("?" * len(values))
        with self.transaction() as cur:
            # No cached report answer may show them once this commits (docs/privacy.md).
            _invalidate_people(cur, values)
            cur.execute(
                "DELETE FROM record_models WHERE record_id IN "
                f"(SELECT record_id FROM records WHERE person IN ({marks}))",
                values,
            )
            cur.execute(f"DELETE FROM records WHERE person IN ({marks})", values)
            erased = max(int(cur.rowcount), 0)
            for stmt in delete_statements(f"person IN ({marks})"):
                cur.execute(stmt, values)
            cur.execute(
                f"UPDATE devices SET revoked_at = COALESCE(revoked_at, ?), person = NULL, "
                f"device_name = NULL, label = NULL WHERE person IN ({marks})",
                [now, *values],
            )
        return erased

    def audit(self, at: float, actor: str, action: str, detail: dict[str, Any]) -> None:
        """Appends one line to the audit log; nothing in aitally updates or deletes it."""
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                (at, actor, action, json.dumps(detail, sort_keys=True, default=str)),
            )

    def audit_log(self, since: float = 0.0, limit: int = 1000) -> list[AuditEntry]:
        """Audit lines from `since` on, oldest first."""
        with self.reading() as cur:
            cur.execute(
                "SELECT at, actor, action, detail FROM audit WHERE at >= ? ORDER BY at LIMIT ?",
                (since, limit),
            )
            rows = cur.fetchall()
        return [AuditEntry(float(r[0]), r[1], r[2], json.loads(r[3])) for r in rows]


def _invalidate_people(cur: Any, persons: Sequence[str]) -> None:
    """Drops the cached report answers that read any day these people have records on."""
    marks = ", ".join("?" * len(persons))
    cur.execute(f"SELECT MIN(day), MAX(day) FROM records WHERE person IN ({marks})", persons)
    first, last = cur.fetchone()
    if first is not None:
        invalidate_days(cur, first, last)


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
