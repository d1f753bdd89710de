"""CLI report commands over the local store: sessions and stats."""

from __future__ import annotations

import argparse
import json
import time
from contextlib import closing
from typing import Any

from aitally.agent import outcomes_view, reports
from aitally.agent.table import human_seconds, human_tokens, render
from aitally.core import paths
from aitally.core.cli_args import positive_int
from aitally.core.store import open_existing
from aitally.core.terminal import use_colour
from aitally.core.timerange import parse_bound


def add_range(p: argparse.ArgumentParser, default_since: str | None) -> None:
    p.add_argument(
        "--since", default=default_since, help="YYYY-MM-DD, Nd (last N days), today or yesterday"
    )
    p.add_argument("--until", default=None, help="same forms; the end of that day")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sessions", help="sessions and their segments")
    p.add_argument("--tool", help="only this tool id")
    p.add_argument("--limit", type=positive_int, default=None, help="at most N rows")
    add_range(p, None)
    p.set_defaults(func=cmd_sessions)

    p = sub.add_parser(
        "stats",
        help="today, this week, this month per tool; --by for totals over a period",
    )
    p.add_argument(
        "--by",
        choices=reports.BY_CHOICES,
        default=None,
        help="totals over --since..--until grouped this way (default view: periods per tool)",
    )
    p.add_argument("--tool", help="only this tool id")
    add_range(p, "30d")
    p.set_defaults(func=cmd_stats)


def bounds(args: argparse.Namespace) -> tuple[float | None, float | None]:
    since = parse_bound(args.since) if args.since else None
    until = parse_bound(args.until, end=True) if args.until else None
    return since, until


def cmd_sessions(args: argparse.Namespace) -> int:
    since, until = bounds(args)
    store = open_existing(paths.store_file())
    rows = (
        []
        if store is None
        else reports.sessions(
            store.conn, since=since, until=until, tool=args.tool, limit=args.limit
        )
    )
    if store is not None:
        store.close()
    if args.json:
        print(json.dumps({"sessions": rows}, indent=2))
        return 0
    if not rows:
        print("no sessions recorded yet (is the agent running? `aitally status`)")
        return 0
    table = []
    for s in rows:
        tok = s["tokens"] or {}
        table.append(
            [
                str(s["id"]),
                s["tool"],
                (s["started_at"] or "")[:16].replace("T", " "),
                "open" if s["open"] else human_seconds(_span(s)),
                human_seconds(s["active_seconds"]),
                str(s["turns"]),
                human_tokens(tok.get("input")),
                human_tokens(tok.get("output")),
                outcomes_view.brief(s["outcomes"]),
                ",".join(s["models"]) or "-",
            ]
        )
    print(
        render(
            [
                "id",
                "tool",
                "started (UTC)",
                "length",
                "active",
                "turns",
                "in",
                "out",
                "outcomes",
                "models",
            ],
            table,
            colour=use_colour(),
            right=(0, 3, 4, 5, 6, 7),
        )
    )
    return 0


def _span(s: dict[str, object]) -> float:
    from datetime import datetime

    start = datetime.fromisoformat(str(s["started_at"]).replace("Z", "+00:00"))
    end = datetime.fromisoformat(str(s["ended_at"]).replace("Z", "+00:00"))
    return (end - start).total_seconds()


def cmd_stats(args: argparse.Namespace) -> int:
    import shutil

    from aitally.agent import stats_view

    since, until = bounds(args)  # bad --since/--until fail before anything else
    store = open_existing(paths.store_file())
    if store is None and not args.json:
        print("no usage recorded yet (is the agent running? `aitally status`)")
        return 0
    colour = use_colour()
    width = shutil.get_terminal_size((80, 24)).columns
    if store is not None and not (args.json or args.by):
        # The default view: fixed periods, so --since/--until do not apply.
        with closing(store):
            view = reports.overview(store.conn, time.time(), tool=args.tool)
            active = [p for p in reports.pauses(store.conn, limit=1) if p["active"]]
        stats_view.print_overview(view, colour=colour, width=width, paused=next(iter(active), None))
        return 0
    start = since if since is not None else 0.0
    end = until if until is not None else time.time() + 86400
    # Without --by, --json keeps its historical meaning: totals by tool.
    by = args.by or "tool"
    data: dict[str, Any] = {"since": None, "until": None, "by": by, "rows": [], "totals": {}}
    if store is not None:
        with closing(store):
            data = reports.stats(store.conn, since=start, until=end, by=by, tool=args.tool)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        stats_view.print_stats(data, colour=colour, width=width)
    return 0
