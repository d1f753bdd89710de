"""The ingest database schema as forward-only migrations, one text for SQLite and PostgreSQL."""

from __future__ import annotations

from aitally.ingest import rollups

# Each migration is written once; {REAL}, {BIGINT} and {CLUSTERED} (a table stored in
# its key's order) are the only words the two dialects spell differently here. Append new
# ones at the end; never edit a shipped one.
MIGRATIONS: list[str] = [
    # 1: devices, records (idempotent on record_id), per-model tokens, per-device health.
    """
    CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,   -- sha256 of the bearer token, never the token itself
        label TEXT,
        agent_version TEXT,
        os TEXT,
        enrolled_at {REAL} NOT NULL,
        last_seen_at {REAL},
        revoked_at {REAL}
    );
    CREATE TABLE records (
        record_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        batch_id TEXT NOT NULL,
        received_at {REAL} NOT NULL,
        kind TEXT NOT NULL,
        tool TEXT NOT NULL,
        surface TEXT,
        tool_version TEXT,
        started_at {REAL} NOT NULL,
        ended_at {REAL} NOT NULL,
        day TEXT NOT NULL,                 -- UTC day of started_at, YYYY-MM-DD
        active_seconds {REAL} NOT NULL,
        present_seconds {REAL} NOT NULL,
        turns {BIGINT} NOT NULL,
        sessions {BIGINT} NOT NULL,
        tok_input {BIGINT},
        tok_output {BIGINT},
        tok_cache_read {BIGINT},
        tok_cache_write {BIGINT},
        tok_reasoning {BIGINT},
        signals TEXT NOT NULL,
        project TEXT,
        user_id TEXT,
        device TEXT,
        org_unit TEXT,
        person TEXT NOT NULL               -- who reports count: user, else device, else enrollment
    );
    CREATE INDEX records_day ON records (day);
    CREATE TABLE record_models (
        record_id TEXT NOT NULL REFERENCES records (record_id),
        model TEXT NOT NULL,
        tok_input {BIGINT},
        tok_output {BIGINT},
        tok_cache_read {BIGINT},
        tok_cache_write {BIGINT},
        tok_reasoning {BIGINT},
        PRIMARY KEY (record_id, model)
    );
    CREATE TABLE device_health (
        device_id TEXT PRIMARY KEY,
        updated_at {REAL} NOT NULL,
        batches {BIGINT} NOT NULL,
        accepted {BIGINT} NOT NULL,
        duplicate {BIGINT} NOT NULL,
        rejected {BIGINT} NOT NULL,
        queue_depth {BIGINT},
        dead_letter {BIGINT},
        dropped TEXT,                      -- JSON {reason: count}, the agent's latest figures
        parse_errors TEXT                  -- JSON {tool: count}
    );
    """,
    # 2: identity bound at enrollment (docs/privacy.md), audit log, erasure bookkeeping.
    """
    ALTER TABLE devices ADD COLUMN person TEXT;       -- login, or its pseudonym (never both)
    ALTER TABLE devices ADD COLUMN level TEXT;
    ALTER TABLE devices ADD COLUMN org_unit TEXT;
    ALTER TABLE devices ADD COLUMN device_name TEXT;  -- the label, used only at identified
    CREATE INDEX devices_person ON devices (person);
    CREATE INDEX records_person ON records (person);
    CREATE TABLE audit (
        at {REAL} NOT NULL,
        actor TEXT NOT NULL,               -- "admin@<source address>" or "cli"
        action TEXT NOT NULL,              -- e.g. "report.usage", "erase", "revoke"
        detail TEXT NOT NULL               -- the parameters, JSON
    );
    CREATE INDEX audit_at ON audit (at);
    """,
    # 3: what an enrollment's identity rests on: "asserted" (enroll secret) or "oidc".
    """
    ALTER TABLE devices ADD COLUMN proof TEXT;
    """,
    # 4: outcome counts (docs/measuring.md), one column per OUTCOME_KINDS entry; NULL: the
    # record did not carry that count (older agents, or a tool that records nothing of it).
    """
    ALTER TABLE records ADD COLUMN out_edits_proposed {BIGINT};
    ALTER TABLE records ADD COLUMN out_edits_accepted {BIGINT};
    ALTER TABLE records ADD COLUMN out_edits_rejected {BIGINT};
    ALTER TABLE records ADD COLUMN out_edits_modified {BIGINT};
    ALTER TABLE records ADD COLUMN out_lines_added {BIGINT};
    ALTER TABLE records ADD COLUMN out_lines_removed {BIGINT};
    ALTER TABLE records ADD COLUMN out_commands_run {BIGINT};
    ALTER TABLE records ADD COLUMN out_commands_failed {BIGINT};
    ALTER TABLE records ADD COLUMN out_commits {BIGINT};
    ALTER TABLE records ADD COLUMN out_commits_with_ai {BIGINT};
    ALTER TABLE records ADD COLUMN out_lines_suggested {BIGINT};
    ALTER TABLE records ADD COLUMN out_lines_accepted {BIGINT};
    """,
    # 5: the report rollups (aitally.ingest.rollups), filled from the records stored so far.
    rollups.MIGRATION,
    # 6: person_days refilled: lines_kept counts only the lines of records with active time.
    rollups.REBUILD_DAYS,
    # 7: report answers kept per period (aitally.ingest.report_cache), an epoch that erasure
    # and retention advance, and the index that finds the days of records received lately.
    """
    CREATE TABLE report_periods (
        report TEXT NOT NULL,              -- adoption, usage, effectiveness, levels.<recipe>
        granularity TEXT NOT NULL,
        period TEXT NOT NULL,              -- the period's first day (levels: the as-of week's)
        k {BIGINT} NOT NULL,               -- the minimum group size it was suppressed at
        version TEXT NOT NULL,             -- the report's version (levels: and the recipe's)
        first_day TEXT NOT NULL,           -- the days the answer reads, first..last
        last_day TEXT NOT NULL,
        as_of {REAL} NOT NULL,             -- the data it shows is the database's at this time
        body TEXT NOT NULL,                -- the one-period answer, suppressed, JSON
        PRIMARY KEY (report, granularity, period, k, version)
    );
    CREATE INDEX report_periods_days ON report_periods (first_day, last_day);
    CREATE TABLE report_epoch (n {BIGINT} NOT NULL);
    INSERT INTO report_epoch (n) VALUES (0);
    CREATE INDEX records_received ON records (received_at);
    """,
]

_TYPES = {
    "sqlite": {"REAL": "REAL", "BIGINT": "INTEGER", "CLUSTERED": "WITHOUT ROWID"},
    "postgresql": {"REAL": "DOUBLE PRECISION", "BIGINT": "BIGINT", "CLUSTERED": ""},
}


def render(dialect: str) -> list[str]:
    """The migrations spelled for one dialect ("sqlite" or "postgresql")."""
    types = _TYPES[dialect]
    out = []
    for script in MIGRATIONS:
        for word, spelled in types.items():
            script = script.replace("{" + word + "}", spelled)
        out.append(script)
    return out


def statements(script: str) -> list[str]:
    """A migration split into single statements (no migration has ';' inside a literal)."""
    return [s.strip() for s in script.split(";") if s.strip()]
