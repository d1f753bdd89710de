"""A realistic fixture store built through the sessionizer, and the report queries over it."""

from __future__ import annotations

import io
import time
from typing import Any

from aitally.agent import reports
from aitally.core import paths
from aitally.core.observation import Activity, Observation, ProcessSeen, Tokens, Usage
from aitally.core.sessionizer import Sessionizer
from aitally.core.sink import FilePosition
from aitally.core.store import Store

DAY = 86400.0
# Days back at which each finished Claude Code session of build_store starts (3 h before now).
CLAUDE_DAYS_BACK = (0, 1, 2, 4, 6, 9, 13, 20)
# Planted where content could leak (a tracked file's path): no page or export may show it.
CANARY = "CANARY-7f3e-dashboard-path"


def _chat(
    tool: str, key: str, start: float, replies: int, models: tuple[str, ...], *, gap: float = 120
) -> list[Observation]:
    obs: list[Observation] = []
    for i in range(replies):
        at = start + i * gap
        obs.append(Activity(tool, key, at, kind="prompt", surface="cli", tool_version="1.0"))
        tokens = Tokens(
            input=1200 + 10 * i,
            output=300 + i,
            cache_read=40_000 if tool == "claude-code" else None,
            cache_write=2_000 if tool == "claude-code" else None,
            reasoning=150 if tool == "codex" else None,
        )
        obs.append(Usage(tool, key, at + 30, models[i % len(models)], tokens, f"{key}:{i}"))
    return obs


def build_store(now: float | None = None) -> dict[str, Any]:
    """Three tools over three weeks, an open session now, uploads, drops, errors and a pause."""
    now = time.time() if now is None else now
    store = Store(paths.store_file())
    sz = Sessionizer(store)
    obs: list[Observation] = []
    for k, back in enumerate(CLAUDE_DAYS_BACK):
        start = now - back * DAY - 3 * 3600
        obs += _chat("claude-code", f"cc-{k}", start, 20, ("claude-sonnet-4-5", "claude-opus-4-1"))
    for k, back in enumerate((0, 3, 5, 12)):
        obs += _chat("codex", f"cx-{k}", now - back * DAY - 5 * 3600, 8, ("gpt-5-codex",), gap=240)
    obs += _chat("gemini-cli", "gm-0", now - 7 * DAY, 5, ("gemini-2.5-pro",))
    # An IDE seen only through its process, busy for half an hour two days ago.
    born = now - 2 * DAY - 7200
    obs += [
        ProcessSeen("cursor", 4242, born, born + i * 5, surface="ide", interval=5.0, busy=True)
        for i in range(1, 360)
    ]
    obs.append(ProcessSeen("cursor", 4243, now - 600, now - 30, surface="ide"))
    # The session in progress right now stays open.
    obs += _chat("claude-code", "cc-open", now - 240, 3, ("claude-sonnet-4-5",), gap=60)
    sz.apply(
        obs,
        positions=[
            FilePosition(f"/home/dev/.claude/projects/{CANARY}/s.jsonl", "claude-code", 98765)
        ],
        counters=[("parse_error", "codex", 3), ("drift", "claude-code", 1), ("dropped", "age", 2)],
    )
    sz.close_idle(now)
    with store.transaction() as conn:
        conn.execute("UPDATE sessions SET project = 'aitally' WHERE tool = 'claude-code'")
        conn.execute("UPDATE sessions SET project = '=web-shop' WHERE tool = 'codex'")
        conn.executemany(
            "INSERT INTO upload_log(at, batch_id, records, status, detail) VALUES (?, ?, ?, ?, ?)",
            [
                (now - 3600, "b1a2c3d4-0000", 12, "ok", "12 accepted"),
                (now - 1800, "e5f6a7b8-0000", 3, "retry", "503 Retry-After 30"),
            ],
        )
        conn.execute(
            "INSERT INTO dead_letter(record_id, segment_id, reason, at) VALUES ('r-x', NULL, ?, ?)",
            ("422 tokens.input", now - 7000),
        )
        conn.execute(
            "INSERT INTO pauses(started_at, ends_at, ended_at) VALUES (?, ?, ?)",
            (now - 10 * DAY, now - 10 * DAY + 3600, now - 10 * DAY + 1800),
        )
    store.close()
    return {"now": now, "segments": _count_segments()}


def _count_segments() -> int:
    store = Store(paths.store_file())
    try:
        return int(store.conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0])
    finally:
        store.close()


def _open() -> Store:
    return Store(paths.store_file())


def test_stats_json_shape_is_unchanged_but_for_outcomes() -> None:
    built = build_store()
    store = _open()
    data = reports.stats(store.conn, since=built["now"] - 30 * DAY, until=built["now"] + 1)
    assert set(data) == {"since", "until", "by", "rows", "totals"}
    row_keys = {"tool", "sessions", "active_seconds", "present_seconds", "turns", "tokens"}
    # `outcomes` is the one key added since (README "JSON contract"): {} where none recorded.
    assert all(set(r) == row_keys | {"outcomes"} for r in data["rows"])
    assert all(r["outcomes"] == {} for r in data["rows"])
    assert {r["tool"] for r in data["rows"]} == {"claude-code", "codex", "gemini-cli", "cursor"}
    by_model = reports.stats(store.conn, since=0, until=built["now"] + 1, by="model")
    models = {r["model"]: r["tokens"]["input"] for r in by_model["rows"]}
    # Tokens split by model add up to the totals.
    assert sum(models.values()) == by_model["totals"]["tokens"]["input"]
    assert models["(none)"] == 0


def test_overview_periods_and_days() -> None:
    built = build_store()
    store = _open()
    view = reports.overview(store.conn, built["now"], days=30)
    assert [p["name"] for p in view["periods"]] == ["today", "this week", "this month"]
    today = {r["tool"]: r for r in view["periods"][0]["rows"]}
    assert today["claude-code"]["turns"] >= 3
    assert today["claude-code"]["models"][0][0] in ("claude-sonnet-4-5", "claude-opus-4-1")
    assert len(view["days"]) == 30
    assert view["days"][-1] == reports.local_day(built["now"]).isoformat()
    assert all(len(v) == 30 for v in view["daily"].values())
    assert sum(view["daily"]["claude-code"]) > 7 * 2000
    assert view["daily"]["cursor"][-3] > 0 or view["daily"]["cursor"][-2] > 0
    week = reports.overview(store.conn, built["now"], days=7)
    assert len(week["days"]) == 7


def test_csv_neutralises_formulas_and_flattens() -> None:
    build_store()
    store = _open()
    buf = io.StringIO()
    n = reports.write_csv(reports.sessions(store.conn, tool="codex"), buf)
    lines = buf.getvalue().splitlines()
    assert n == len(lines) - 1 == 4
    assert lines[0].startswith("id,tool,tool_session_id,segment")
    assert "'=web-shop" in lines[1] and ",=web-shop" not in lines[1]
    assert "gpt-5-codex" in lines[1]
