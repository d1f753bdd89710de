"""The local store's schema as forward-only migrations, versioned with PRAGMA user_version."""

from __future__ import annotations

# Append new migrations at the end; never edit one that has shipped.
MIGRATIONS: list[str] = [
    # 1: sessions, segments, dedup, live processes, file positions, outbox, counters.
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        tool TEXT NOT NULL,
        session_key TEXT NOT NULL,          -- the tool's own id, else proc:<pid>:<create_ms>
        tool_session_id TEXT,
        surface TEXT,
        tool_version TEXT,
        project TEXT,                       -- local-only project label; uploads hash it
        created_at REAL NOT NULL,
        UNIQUE (tool, session_key)
    );
    CREATE TABLE segments (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,                      -- NULL while open
        last_activity_at REAL,
        last_seen_at REAL NOT NULL,
        active_seconds REAL NOT NULL DEFAULT 0,
        present_seconds REAL NOT NULL DEFAULT 0,
        turns INTEGER NOT NULL DEFAULT 0,
        tok_input INTEGER,                  -- NULL: the tool records no such figure
        tok_output INTEGER,
        tok_cache_read INTEGER,
        tok_cache_write INTEGER,
        tok_reasoning INTEGER,
        signals TEXT NOT NULL DEFAULT '',
        pids TEXT NOT NULL DEFAULT '',
        UNIQUE (session_id, idx)
    );
    CREATE INDEX segments_open ON segments(ended_at) WHERE ended_at IS NULL;
    CREATE INDEX segments_started ON segments(started_at);
    CREATE TABLE segment_models (
        segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        input INTEGER, output INTEGER, cache_read INTEGER, cache_write INTEGER, reasoning INTEGER,
        PRIMARY KEY (segment_id, model)
    ) WITHOUT ROWID;
    CREATE TABLE usage_seen (
        tool TEXT NOT NULL,
        dedup_key TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (tool, dedup_key)
    ) WITHOUT ROWID;
    CREATE TABLE live_processes (
        pid INTEGER NOT NULL,
        create_time REAL NOT NULL,
        tool TEXT NOT NULL,
        session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        PRIMARY KEY (pid, create_time)
    );
    CREATE TABLE file_positions (
        path TEXT PRIMARY KEY,
        tool TEXT NOT NULL,
        dev INTEGER, ino INTEGER,
        offset INTEGER NOT NULL DEFAULT 0,
        size INTEGER, mtime REAL,
        state TEXT                          -- adapter state as JSON (numbers and ids only)
    );
    CREATE TABLE outbox (
        record_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL DEFAULT 'segment',   -- segment | pause | daily_total
        segment_id INTEGER UNIQUE REFERENCES segments(id) ON DELETE SET NULL,
        payload TEXT,                           -- content-free JSON for non-segment records
        enqueued_at REAL NOT NULL,
        claimed_at REAL,
        attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_enqueued ON outbox(enqueued_at);
    CREATE TABLE pauses (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,
        ends_at REAL,                           -- planned end; NULL: until resumed
        ended_at REAL                           -- actual end (resume or expiry)
    );
    CREATE TABLE dead_letter (
        record_id TEXT PRIMARY KEY,
        segment_id INTEGER,
        reason TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE TABLE upload_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        batch_id TEXT,
        records INTEGER NOT NULL,
        status TEXT NOT NULL,
        detail TEXT
    );
    CREATE TABLE counters (
        name TEXT NOT NULL,
        reason TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (name, reason)
    ) WITHOUT ROWID;
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    """,
    # 2: the largest figures counted under a dedup key whose reply is seen more than once with
    # growing figures (core/observation.py Usage.merge).
    "ALTER TABLE usage_seen ADD COLUMN figures TEXT;",
    # 3: outcome counts per segment (OUTCOME_KINDS); a kind without a row was not recorded.
    """
    CREATE TABLE segment_outcomes (
        segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (segment_id, kind)
    ) WITHOUT ROWID;
    """,
    # 4: commits with AI read from a session's git repository (collectors/git/): the sessions
    # whose repository the running agent knows (their segments' uploads wait for the final
    # read, never past hold_until), each segment's read, and each commit counted (a keyed hash
    # of its sha: one segment counts it).
    """
    CREATE TABLE repo_sessions (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        hold_until REAL NOT NULL
    );
    CREATE TABLE repo_segments (
        segment_id INTEGER PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
        added INTEGER NOT NULL DEFAULT 0,   -- commits with AI added beyond the tool's own count
        done INTEGER NOT NULL DEFAULT 0     -- 1: the read after the segment's end is made
    );
    CREATE TABLE repo_commits (
        commit_key TEXT PRIMARY KEY,
        segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE INDEX repo_commits_segment ON repo_commits(segment_id);
    """,
    # 5: a billed call's claim is one row, call:<id> with the signal that counted it in its
    # own column, instead of two (call:<id> and call:<id>:<signal>): one insert fewer per
    # reply in a catch-up (bench/README.md, File collectors). The claims of before are carried
    # over for the two signals that carry call ids (transcript, otlp).
    """
    ALTER TABLE usage_seen ADD COLUMN signal TEXT;
    UPDATE usage_seen SET signal = CASE
        WHEN EXISTS (SELECT 1 FROM usage_seen AS s WHERE s.tool = usage_seen.tool
                     AND s.dedup_key = usage_seen.dedup_key || ':transcript') THEN 'transcript'
        WHEN EXISTS (SELECT 1 FROM usage_seen AS s WHERE s.tool = usage_seen.tool
                     AND s.dedup_key = usage_seen.dedup_key || ':otlp') THEN 'otlp'
        END
    WHERE dedup_key LIKE 'call:%';
    DELETE FROM usage_seen WHERE dedup_key LIKE 'call:%' AND substr(dedup_key, -11) = ':transcript'
        AND EXISTS (SELECT 1 FROM usage_seen AS c WHERE c.tool = usage_seen.tool
                    AND c.dedup_key
                        = substr(usage_seen.dedup_key, 1, length(usage_seen.dedup_key) - 11)
                    AND c.signal = 'transcript');
    DELETE FROM usage_seen WHERE dedup_key LIKE 'call:%' AND substr(dedup_key, -5) = ':otlp'
        AND EXISTS (SELECT 1 FROM usage_seen AS c WHERE c.tool = usage_seen.tool
                    AND c.dedup_key
                        = substr(usage_seen.dedup_key, 1, length(usage_seen.dedup_key) - 5)
                    AND c.signal = 'otlp');
    """,
]
