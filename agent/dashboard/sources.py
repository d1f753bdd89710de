"""The sources page: which tools were found, by which signals, the adapters' state and errors."""

from __future__ import annotations

import json
from typing import Any

from aitally.agent.dashboard.layout import Context, card, h, local_time, page, table
from aitally.agent.status import read_status
from aitally.agent.table import human_tokens
from aitally.collectors.catalog import Catalog
from aitally.core.store import positions, segments
from aitally.core.timerange import iso
from aitally.core.tools import CatalogError


def _tools(ctx: Context, status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert ctx.store is not None
    conn = ctx.store.conn
    tools: dict[str, dict[str, Any]] = {}

    def row(tool: str) -> dict[str, Any]:
        return tools.setdefault(
            tool,
            {"running": 0, "sessions": 0, "last": None, "signals": set(), "files": 0, "bytes": 0},
        )

    for r in segments.tools_seen(conn):
        t = row(r["tool"])
        t.update(sessions=r["n"], last=r["last"])
        t["signals"].update(x for x in (r["signals"] or "").split(",") if x)
    for p in status.get("live_processes") or []:
        row(p["tool"])["running"] += 1
    for tool, (files, read) in positions.bytes_read_by_tool(conn).items():
        row(tool).update(files=files, bytes=read)
    for key in ("parse_errors", "drift"):
        for tool in status.get(key) or {}:
            row(tool)
    return tools


def _tool_table(ctx: Context, status: dict[str, Any]) -> tuple[str, set[str]]:
    tools = _tools(ctx, status)
    rows = [
        [
            h(tool),
            str(t["running"]),
            str(t["sessions"]),
            h(local_time(iso(t["last"]))),
            h(", ".join(sorted(t["signals"])) or "-"),
            str(t["files"]),
            h(human_tokens(t["bytes"]) + "B" if t["bytes"] else "-"),
            str((status.get("parse_errors") or {}).get(tool, 0)),
            str((status.get("drift") or {}).get(tool, 0)),
        ]
        for tool, t in sorted(tools.items())
    ]
    html = table(
        [
            "tool",
            "running now",
            "sessions",
            "last seen",
            "signals",
            "files read",
            "bytes read",
            "parse errors",
            "format drift",
        ],
        rows,
        numeric=(1, 2, 5, 6, 7, 8),
        empty="no AI tool found yet",
    )
    return html, set(tools)


def _agent_cards(status: dict[str, Any]) -> str:
    scan = status.get("last_scan") or {}
    running = f"running (pid {status['pid']})" if status["running"] else "not running"
    store = status.get("store") or {}
    return (
        "<div class=cards>"
        + "".join(
            [
                card(
                    "agent",
                    running,
                    f"since {local_time(status.get('started_at'))}"
                    if status["running"]
                    else "start it with `aitally run` (or install it as a service)",
                ),
                card(
                    "last process scan",
                    local_time(scan.get("at")),
                    f"{scan.get('processes', '-')} processes in "
                    f"{scan.get('seconds', 0) * 1000:.1f} ms"
                    if scan
                    else "no scan yet",
                ),
                card(
                    "local store",
                    human_tokens(store.get("bytes")) + "B" if store else "none yet",
                    status["data_dir"],
                ),
                card(
                    "open segments / queued",
                    f"{status.get('open_segments', 0)} / {status.get('queue_depth', 0)}",
                    "segments in progress / records waiting to upload",
                ),
            ]
        )
        + "</div>"
    )


def _watching(ctx: Context, found: set[str]) -> str:
    disabled = list(ctx.cfg.get("collectors", "disabled_tools"))
    try:
        ids = Catalog.load(ctx.cfg.tools, disabled).ids
    except CatalogError as exc:
        return f"<p class=warn>tool catalog: {h(exc)}</p>"
    missing = [t for t in dict.fromkeys(ids) if t not in found]
    text = f"<p class=muted>Watching for, not seen yet: {h(', '.join(missing) or '-')}.</p>"
    if disabled:
        text += f"<p class=muted>Turned off by configuration: {h(', '.join(disabled))}.</p>"
    return text


def _browsers(ctx: Context, browser: dict[str, Any] | None) -> str:
    """Which browser profiles' history is read, and what of it is kept."""
    if not ctx.cfg.get("browser", "enabled"):
        origin = ctx.cfg.origins["browser"]["enabled"]
        return f"<p class=muted>Browser history is not read (turned off by {h(origin)}).</p>"
    if browser is None:
        return "<p class=muted>Browser history has not been read yet (the agent reads it).</p>"
    rows = [
        [
            h(p.get("browser")),
            h(p.get("profile")),
            f"<code>{h(p.get('path'))}</code>",
            h(local_time(iso(p["last_read"])) if p.get("last_read") else "-"),
        ]
        for p in browser.get("profiles") or []
    ]
    text = table(
        ["browser", "profile", "history file", "last read"],
        rows,
        empty="no browser profile found",
    )
    browsers = ", ".join(ctx.cfg.get("browser", "browsers"))
    skipped = ", ".join(f"{k}: {n}" for k, n in sorted((browser.get("skipped") or {}).items()))
    text += f"<p class=muted>Browsers read: {h(browsers)}. Kept: {h(browser.get('kept'))}</p>"
    if skipped:
        text += f"<p class=warn>Histories not read (locked, corrupt, ...): {h(skipped)}</p>"
    return text


def sources(ctx: Context) -> str:
    current = read_status(ctx.cfg)
    status = current.as_json()
    body = [_agent_cards(status), "<h2>Tools found</h2>"]
    found: set[str] = set()
    if ctx.store is not None:
        tool_html, found = _tool_table(ctx, status)
        body.append(tool_html)
    else:
        body.append("<p class=muted>no local store yet</p>")
    body.append(_watching(ctx, found))
    body.append("<h2>Browser history</h2>")
    body.append(_browsers(ctx, status.get("browser")))
    extras = {k: v for k, v in current.parts.items() if k != "browser"}
    body.append("<h2>Adapters and collectors</h2>")
    body.append(
        table(
            ["part", "state"],
            [
                [h(k), f"<code>{h(json.dumps(v, sort_keys=True))}</code>"]
                for k, v in sorted(extras.items())
            ],
            empty="only the process scanner is active in this build (no file adapters reported)",
        )
    )
    errors = [
        [h(name), h(reason), str(n)]
        for name in ("errors", "parse_errors", "drift")
        for reason, n in sorted((status.get(name) or {}).items())
    ]
    body.append("<h2>Errors</h2>")
    body.append(table(["kind", "where", "count"], errors, numeric=(2,), empty="no errors"))
    return page(ctx.frame, "sources", "Sources", "".join(body))
