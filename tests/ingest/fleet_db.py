"""A central database of a whole fleet, written straight into storage (no HTTP): N people in
org units of realistic sizes (a few too small to show) over the last W full ISO weeks, each
with one or two tools, a working pattern, tokens per model and outcomes; the report rollups
are then built by the statements the migration runs. The same every run (seeded).

For the report benchmark (bench/bench_reports.py) and the tests that need a big database.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

from aitally.ingest.rollups import upsert_statements
from aitally.ingest.storage import Storage

TOOLS = {"claude-code": 0.4, "cursor": 0.25, "codex": 0.15, "copilot-cli": 0.12, "gemini-cli": 0.08}
MODELS = {
    "claude-code": ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"),
    "cursor": ("gpt-5", "claude-sonnet-4-5"),
    "codex": ("gpt-5-codex", "gpt-5"),
    "copilot-cli": ("claude-sonnet-4-5", "gpt-5"),
    "gemini-cli": ("gemini-2.5-pro", "gemini-2.5-flash"),
}
PATTERNS = ((0.9, 0.3), (0.6, 0.4), (0.25, 0.3))  # (share of weekdays active, share of people)
_COLUMNS = (
    "record_id, device_id, batch_id, received_at, kind, tool, started_at, ended_at, day, "
    "active_seconds, present_seconds, turns, sessions, tok_input, tok_output, tok_cache_read, "
    "tok_cache_write, tok_reasoning, signals, user_id, org_unit, person, out_edits_proposed, "
    "out_edits_accepted, out_edits_rejected, out_lines_added, out_commands_run, "
    "out_commands_failed, out_commits, out_commits_with_ai, out_lines_suggested, "
    "out_lines_accepted"
)
_INSERT = f"INSERT INTO records ({_COLUMNS}) VALUES ({', '.join('?' * len(_COLUMNS.split(',')))})"
_INSERT_MODEL = (
    "INSERT INTO record_models (record_id, model, tok_input, tok_output, tok_cache_read, "
    "tok_cache_write, tok_reasoning) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
CHUNK = 20_000


def last_monday(today: dt.date | None = None) -> dt.date:
    """This ISO week's Monday: the data ends the day before, where reports look by default."""
    day = today or dt.datetime.now(dt.UTC).date()
    return day - dt.timedelta(days=day.weekday())


def _orgs(rnd: random.Random, people: int) -> list[str]:
    """Each person's org unit: units of 20-600 people, and about one in 500 people in a unit
    under five (which reports merge into (other))."""
    out: list[str] = []
    n = 0
    while len(out) < people:
        size = rnd.randint(1, 4) if rnd.random() < 0.02 else rnd.randint(20, 600)
        out += [f"unit-{n:04d}"] * size
        n += 1
    return out[:people]


def _outcomes(rnd: random.Random, tool: str) -> tuple[int | None, ...]:
    """out_* columns in _COLUMNS order: none (a chat), Cursor's lines, or an agent's edits."""
    if rnd.random() < 0.3:
        return (None,) * 10
    if tool == "cursor":
        suggested = rnd.randint(20, 200)
        return (*(None,) * 8, suggested, suggested * rnd.randint(1, 5) // 10)
    proposed = rnd.randint(0, 8)
    rejected = rnd.randint(0, proposed // 3)
    run = rnd.randint(0, 6)
    commit = int(proposed - rejected >= 2 and run >= 1 and rnd.random() < 0.3)
    accepted = proposed - rejected
    lines = accepted * rnd.randint(3, 15)
    failed = rnd.randint(0, run // 3)
    return (proposed, accepted, rejected, lines, run, failed, commit, commit, None, None)


def _records(
    people: int, weeks: int, end: dt.date, seed: int
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(record row, model row) for every record of the fleet, person by person."""
    rnd = random.Random(seed)
    orgs = _orgs(rnd, people)
    tools, weights = list(TOOLS), list(TOOLS.values())
    first = end - dt.timedelta(weeks=weeks)
    seq = 0
    for p in range(people):
        person = f"hmac:k1:{p:032x}"
        mine = rnd.choices(tools, weights)
        if rnd.random() < 0.3:
            mine = sorted({*mine, *rnd.choices(tools, weights)})
        active_share = rnd.choices(PATTERNS, [w for _, w in PATTERNS])[0][0]
        day = first
        while day < end:
            chance = active_share if day.weekday() < 5 else 0.03
            for tool in mine:
                if rnd.random() >= chance:
                    continue
                seq += 1
                rid = str(uuid.UUID(int=seq))
                start = dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC).timestamp()
                present = rnd.random() < 0.05  # presence only: counted as seen, not as use
                active = 0.0 if present else float(rnd.randint(300, 14_400))
                turns = 0 if present else rnd.randint(1, 80)
                tok = tuple(0 if present else rnd.randint(0, 200_000) for _ in range(5))
                kind = "pause" if rnd.random() < 0.01 else "segment"
                row = (
                    rid, f"dev-{p}", f"batch-{p}", start + 300, kind, tool, start,
                    start + active + 60, day.isoformat(), active, active + 60, turns,
                    rnd.randint(1, 3), *tok, "process", person, orgs[p], person,
                    *_outcomes(rnd, tool),
                )  # fmt: skip
                yield row, (rid, rnd.choice(MODELS[tool]), *tok)
            day += dt.timedelta(days=1)


def fill(
    storage: Storage, people: int, weeks: int = 12, end: dt.date | None = None, seed: int = 18
) -> int:
    """Writes the fleet's records (the `weeks` full ISO weeks before `end`, by default this
    week's Monday) and builds the rollups from them; the number of records."""
    end = end or last_monday()
    rows: list[tuple[Any, ...]] = []
    models: list[tuple[Any, ...]] = []
    total = 0
    for row, model in _records(people, weeks, end, seed):
        rows.append(row)
        models.append(model)
        if len(rows) >= CHUNK:
            total += _write(storage, rows, models)
            rows, models = [], []
    total += _write(storage, rows, models)
    with storage.transaction() as cur:
        for stmt in upsert_statements("1 = 1"):
            cur.execute(stmt)
        if storage.dialect == "postgresql":
            # The statistics autovacuum gathers within a minute of such a load: reports timed
            # right after it are planned as on a live database.
            cur.execute("ANALYZE")
    return total


def add_record(storage: Storage, person: str, org_unit: str, tool: str, day: dt.date) -> None:
    """Writes one active record of `person` on `day` beside a fleet, and adds it to the rollups
    (a planted case a test needs, such as someone active on one day only)."""
    rid = f"planted-{person}-{tool}-{day.isoformat()}"
    start = dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC).timestamp()
    tok = (1000, 100, 0, 0, 0)
    row = (
        rid, f"dev-{person}", f"batch-{person}", start + 300, "segment", tool, start,
        start + 660, day.isoformat(), 600.0, 660.0, 3, 1, *tok, "process", person,
        org_unit, person, *(None,) * 10,
    )  # fmt: skip
    _write(storage, [row], [(rid, MODELS[tool][0], *tok)])
    with storage.transaction() as cur:
        for stmt in upsert_statements(f"r.record_id = '{rid}'"):
            cur.execute(stmt)


def _write(storage: Storage, rows: list[tuple[Any, ...]], models: list[tuple[Any, ...]]) -> int:
    if rows:
        with storage.transaction() as cur:
            cur.executemany(_INSERT, rows)
            cur.executemany(_INSERT_MODEL, models)
    return len(rows)
