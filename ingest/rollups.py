"""Report rollups: per person, UTC day, tool and org unit sums of the non-pause records, kept in
the same transaction as the records they sum, so reports read one row per person-day, never
one per record.

`person_days` holds every figure a report sums (activity, tokens, outcome counts), each
additive, so a new record adds to its row and a report sums rows over any days exactly as it
summed records. `person_day_models` holds token sums per model. A row of `person_days` exists
for every person-day-tool with a non-pause record, active or not (levels count everyone seen).
Both are built by one INSERT .. SELECT over records: for the records of one batch at ingest
(`upsert_statements`), for all records when the migration creates them, and for one person
after a rename. org_unit is stored as '' for none, so the key never holds NULL (which upserts
cannot match); readers turn it back with NULLIF.
"""

from __future__ import annotations

from functools import lru_cache

# A record counts as use with active time, turns or tokens (rows.Activity.active).
ACTIVE = (
    "(r.active_seconds > 0 OR r.turns > 0 OR COALESCE(r.tok_input, 0) + COALESCE(r.tok_output, 0)"
    " + COALESCE(r.tok_cache_read, 0) + COALESCE(r.tok_cache_write, 0)"
    " + COALESCE(r.tok_reasoning, 0) > 0)"
)
_KEPT = "(COALESCE(r.out_edits_accepted, 0) > 0 OR COALESCE(r.out_lines_accepted, 0) > 0)"
_ANY_OUTCOME = (
    "(r.out_edits_proposed IS NOT NULL OR r.out_edits_accepted IS NOT NULL"
    " OR r.out_edits_rejected IS NOT NULL OR r.out_edits_modified IS NOT NULL"
    " OR r.out_lines_added IS NOT NULL OR r.out_lines_removed IS NOT NULL"
    " OR r.out_commands_run IS NOT NULL OR r.out_commands_failed IS NOT NULL"
    " OR r.out_commits IS NOT NULL OR r.out_commits_with_ai IS NOT NULL"
    " OR r.out_lines_suggested IS NOT NULL OR r.out_lines_accepted IS NOT NULL)"
)
AGENTIC = (
    "(COALESCE(r.out_edits_accepted, 0) >= 2 AND COALESCE(r.out_commands_run, 0) >= 1"
    " AND COALESCE(r.out_commits, 0) + COALESCE(r.out_commits_with_ai, 0) >= 1)"
)
"""A multi-step, tool-driven change that reached a commit, within one record (docs/measuring.md):
at least 2 edits kept, at least 1 command run and at least 1 commit."""
_LINES = "COALESCE(r.out_lines_accepted, r.out_lines_added)"

# column: (type, the per-record sum over the records of one person, day, tool and org unit)
FIGURES: dict[str, tuple[str, str]] = {
    "active_seconds": ("{REAL}", "SUM(r.active_seconds)"),
    "sessions": ("{BIGINT}", "SUM(r.sessions)"),
    "turns": ("{BIGINT}", "SUM(r.turns)"),
    "tok_input": ("{BIGINT}", "SUM(COALESCE(r.tok_input, 0))"),
    "tok_output": ("{BIGINT}", "SUM(COALESCE(r.tok_output, 0))"),
    "tok_cache_read": ("{BIGINT}", "SUM(COALESCE(r.tok_cache_read, 0))"),
    "tok_cache_write": ("{BIGINT}", "SUM(COALESCE(r.tok_cache_write, 0))"),
    "tok_reasoning": ("{BIGINT}", "SUM(COALESCE(r.tok_reasoning, 0))"),
    # Records that are use; a non-active record has no active seconds, so active_seconds
    # above is also the active records' time.
    "active_records": ("{BIGINT}", f"SUM(CASE WHEN {ACTIVE} THEN 1 ELSE 0 END)"),
    "edits_accepted": ("{BIGINT}", "SUM(COALESCE(r.out_edits_accepted, 0))"),
    "edits_decided": (
        "{BIGINT}",
        "SUM(COALESCE(r.out_edits_accepted, 0) + COALESCE(r.out_edits_rejected, 0))",
    ),
    # Lines of the records with active time only: they are divided by that time (below),
    # and a Cursor day's own record (docs/clients/cursor.md) carries lines without any.
    "lines_kept": (
        "{BIGINT}",
        f"SUM(CASE WHEN r.active_seconds > 0 THEN COALESCE({_LINES}, 0) ELSE 0 END)",
    ),
    "lines_seconds": (
        "{REAL}",
        f"SUM(CASE WHEN {_LINES} IS NOT NULL THEN r.active_seconds ELSE 0 END)",
    ),
    "kept_records": ("{BIGINT}", f"SUM(CASE WHEN {_KEPT} THEN 1 ELSE 0 END)"),
    "kept_sessions": (
        "{BIGINT}",
        f"SUM(CASE WHEN r.kind = 'segment' AND {_KEPT} THEN 1 ELSE 0 END)",
    ),
    "outcome_sessions": (
        "{BIGINT}",
        f"SUM(CASE WHEN r.kind = 'segment' AND {_ANY_OUTCOME} THEN 1 ELSE 0 END)",
    ),
    "commits_with_ai": ("{BIGINT}", "SUM(COALESCE(r.out_commits_with_ai, 0))"),
    # Active records that carry commits_with_ai: the person-weeks its figure divides by.
    "commit_records": (
        "{BIGINT}",
        f"SUM(CASE WHEN r.out_commits_with_ai IS NOT NULL AND {ACTIVE} THEN 1 ELSE 0 END)",
    ),
    "commands_failed": ("{BIGINT}", "SUM(COALESCE(r.out_commands_failed, 0))"),
    "commands_run": ("{BIGINT}", "SUM(COALESCE(r.out_commands_run, 0))"),
    "agentic_segments": ("{BIGINT}", f"SUM(CASE WHEN {AGENTIC} THEN 1 ELSE 0 END)"),
}
TOKENS = ("tok_input", "tok_output", "tok_cache_read", "tok_cache_write", "tok_reasoning")
_KEY = "person, day, tool, org_unit"
_MODEL_KEY = "person, day, tool, model"


def _upsert(table: str, key: str, columns: tuple[str, ...], select: str) -> str:
    """INSERT .. SELECT that adds each figure to the row already there."""
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    return (
        f"INSERT INTO {table} ({key}, {', '.join(columns)}) {select} "
        f"ON CONFLICT ({key}) DO UPDATE SET {adds}"
    )


def _day_select(where: str) -> str:
    sums = ", ".join(expr for _, expr in FIGURES.values())
    return (
        f"SELECT r.person, r.day, r.tool, COALESCE(r.org_unit, ''), {sums} FROM records r "
        f"WHERE r.kind <> 'pause' AND {where} "
        "GROUP BY r.person, r.day, r.tool, COALESCE(r.org_unit, '')"
    )


def _model_select(where: str) -> str:
    sums = ", ".join(f"SUM(COALESCE(m.{c}, 0))" for c in TOKENS)
    return (
        f"SELECT r.person, r.day, r.tool, m.model, {sums} "
        "FROM record_models m JOIN records r ON r.record_id = m.record_id "
        f"WHERE r.kind <> 'pause' AND {where} GROUP BY r.person, r.day, r.tool, m.model"
    )


@lru_cache(maxsize=1024)
def upsert_statements(where: str) -> tuple[str, ...]:
    """The statements adding the records that `where` (on `records r`) selects to both
    rollups; each record must be added once (at its insert, or when rebuilding)."""
    return (
        _upsert("person_days", _KEY, tuple(FIGURES), _day_select(where)),
        _upsert("person_day_models", _MODEL_KEY, TOKENS, _model_select(where)),
    )


def delete_statements(where: str) -> tuple[str, ...]:
    """The statements removing the rollup rows that `where` (on person and day) selects."""
    return (
        f"DELETE FROM person_days WHERE {where}",
        f"DELETE FROM person_day_models WHERE {where}",
    )


def _columns(names: dict[str, str]) -> str:
    return ",\n        ".join(f"{name} {kind} NOT NULL" for name, kind in names.items())


MIGRATION = f"""
    CREATE TABLE person_days (
        person TEXT NOT NULL,
        day TEXT NOT NULL,
        tool TEXT NOT NULL,
        org_unit TEXT NOT NULL,            -- '' for none
        {_columns({name: kind for name, (kind, _) in FIGURES.items()})},
        PRIMARY KEY (day, person, tool, org_unit)
    ) {{CLUSTERED}};
    CREATE INDEX person_days_person ON person_days (person);
    CREATE TABLE person_day_models (
        person TEXT NOT NULL,
        day TEXT NOT NULL,
        tool TEXT NOT NULL,
        model TEXT NOT NULL,
        {_columns(dict.fromkeys(TOKENS, "{BIGINT}"))},
        PRIMARY KEY (day, person, tool, model)
    ) {{CLUSTERED}};
    CREATE INDEX person_day_models_person ON person_day_models (person);
    {";".join(upsert_statements("1 = 1"))}
"""
"""Creates both rollups and fills them from the records already stored. On SQLite the rows
are stored in key order (day first), so a report's days are read in one sweep."""

REBUILD_DAYS = f"""
    DELETE FROM person_days;
    {upsert_statements("1 = 1")[0]}
"""
"""Refills person_days from the records, when a figure's sum changed (FIGURES)."""
