"""Local reports over the store: the sessions list and totals, as the CLI's JSON contract."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from aitally.agent.timerange import iso
from aitally.collectors.observation import TOKEN_KINDS

BY_CHOICES = ("tool", "day", "model", "project")


def _tokens(row: sqlite3.Row | dict[str, Any], prefix: str = "tok_") -> dict[str, int] | None:
    values = {k: row[prefix + k] for k in TOKEN_KINDS}
    if all(v is None for v in values.values()):
        return None
    return values


def sessions(
    conn: sqlite3.Connection,
    *,
    since: float | None = None,
    until: float | None = None,
    tool: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """One dict per segment, newest first, in the documented `sessions --json` shape."""
    where: list[str] = ["1=1"]
    args: list[object] = []
    if since is not None:
        where.append("COALESCE(g.ended_at, g.last_seen_at) >= ?")
        args.append(since)
    if until is not None:
        where.append("g.started_at < ?")
        args.append(until)
    if tool:
        where.append("s.tool = ?")
        args.append(tool)
    sql = (
        "SELECT g.*, s.tool, s.tool_session_id, s.surface, s.tool_version, s.project"
        " FROM segments g JOIN sessions s ON s.id = g.session_id"
        f" WHERE {' AND '.join(where)} ORDER BY g.started_at DESC, g.id DESC"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = conn.execute(sql, args).fetchall()
    models: dict[int, dict[str, dict[str, int | None]]] = {}
    if rows:
        ids = ",".join(str(r["id"]) for r in rows)
        for m in conn.execute(f"SELECT * FROM segment_models WHERE segment_id IN ({ids})"):
            models.setdefault(m["segment_id"], {})[m["model"]] = {k: m[k] for k in TOKEN_KINDS}
    return [
        {
            "id": r["id"],
            "tool": r["tool"],
            "tool_session_id": r["tool_session_id"],
            "segment": r["idx"],
            "surface": r["surface"],
            "tool_version": r["tool_version"],
            "started_at": iso(r["started_at"]),
            "ended_at": iso(r["ended_at"]),
            "open": r["ended_at"] is None,
            "active_seconds": round(r["active_seconds"], 3),
            "present_seconds": round(r["present_seconds"], 3),
            "turns": r["turns"],
            "tokens": _tokens(r),
            "models": models.get(r["id"], {}),
            "signals": [s for s in r["signals"].split(",") if s],
            "pids": [int(p) for p in r["pids"].split(",") if p],
            "project": r["project"],
        }
        for r in rows
    ]


def _key(s: dict[str, Any], by: str) -> list[str]:
    if by == "tool":
        return [s["tool"]]
    if by == "day":
        start = dt.datetime.fromisoformat(s["started_at"].replace("Z", "+00:00"))
        return [start.astimezone().date().isoformat()]
    if by == "project":
        return [s["project"] or "(unknown)"]
    return list(s["models"]) or ["(none)"]


def _empty() -> dict[str, Any]:
    return {
        "sessions": 0,
        "active_seconds": 0.0,
        "present_seconds": 0.0,
        "turns": 0,
        "tokens": dict.fromkeys(TOKEN_KINDS, 0),
    }


def _add(acc: dict[str, Any], s: dict[str, Any], tokens: dict[str, int | None] | None) -> None:
    acc["sessions"] += 1
    acc["active_seconds"] += s["active_seconds"]
    acc["present_seconds"] += s["present_seconds"]
    acc["turns"] += s["turns"]
    for k, v in (tokens or {}).items():
        acc["tokens"][k] += v or 0


def stats(
    conn: sqlite3.Connection,
    *,
    since: float,
    until: float,
    by: str = "tool",
    tool: str | None = None,
) -> dict[str, Any]:
    """Totals over [since, until), grouped; by=model splits each segment's tokens by model."""
    rows: dict[str, dict[str, Any]] = {}
    totals = _empty()
    for s in sessions(conn, since=since, until=until, tool=tool):
        _add(totals, s, s["tokens"])
        for key in _key(s, by):
            acc = rows.setdefault(key, _empty())
            _add(acc, s, s["models"].get(key) if by == "model" else s["tokens"])
    for acc in (*rows.values(), totals):
        acc["active_seconds"] = round(acc["active_seconds"], 1)
        acc["present_seconds"] = round(acc["present_seconds"], 1)
    return {
        "since": iso(since),
        "until": iso(until),
        "by": by,
        "rows": [{by: k, **v} for k, v in sorted(rows.items())],
        "totals": totals,
    }
