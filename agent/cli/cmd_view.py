"""CLI commands of the engineer's own view: dashboard, export, pause and resume."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from contextlib import closing
from typing import Any, TextIO

from aitally.agent import reports
from aitally.agent.cli.cmd_reports import bounds
from aitally.agent.table import human_seconds
from aitally.core import config, paths
from aitally.core.cli_output import add_json, emit
from aitally.core.errors import UsageError
from aitally.core.store import Store, open_existing, pauses

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
# A planned end must stay a printable date; longer pauses need no end at all.
_MAX_PAUSE_DAYS = 365


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dashboard", help="your usage as a local web page (127.0.0.1 only)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("export", help="your own sessions as CSV or JSON")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--since", default=None, help="YYYY-MM-DD, Nd, today or yesterday")
    p.add_argument("--until", default=None, help="same forms; the end of that day")
    p.add_argument("--tool", help="only this tool id")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("pause", help="stop recording for a while (reported as a pause)")
    p.add_argument(
        "duration", nargs="?", help="e.g. 30m, 2h, 1h30m, 1d; without it: until `aitally resume`"
    )
    add_json(p)
    p.set_defaults(func=cmd_pause)

    p = sub.add_parser("resume", help="end a pause now")
    add_json(p)
    p.set_defaults(func=cmd_resume)


def parse_duration(text: str) -> float:
    """Seconds in `30m`, `2h`, `1h30m`, `1d`, `90s`; a bare number is minutes."""
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value) * 60
    else:
        m = _DURATION.match(value)
        if not value or m is None:
            raise UsageError(f"{text!r} is not a duration; use e.g. 30m, 2h, 1h30m or 1d")
        d, h, mi, s = (int(g or 0) for g in m.groups())
        seconds = ((d * 24 + h) * 60 + mi) * 60 + s
    if seconds <= 0:
        raise UsageError(f"{text!r} is not a duration; use e.g. 30m, 2h, 1h30m or 1d")
    if seconds > _MAX_PAUSE_DAYS * 86400:
        raise UsageError(
            f"{text!r} is longer than {_MAX_PAUSE_DAYS}d; "
            "run `aitally pause` without a duration to pause until `aitally resume`"
        )
    return float(seconds)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from aitally.agent.dashboard.server import serve

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port; use 1-65535, or 0 for a free one")
    config.load_default()  # a broken configuration stops here, with its one line
    if (store := open_existing(paths.store_file())) is not None:
        store.close()  # so does a store from a newer aitally, instead of a 500 on every page

    def announce(text: str) -> None:
        if text.startswith("http"):
            print(text, flush=True)
            print("aitally dashboard: this URL is private to you; Ctrl-C stops it", file=sys.stderr)
        else:
            print(f"aitally dashboard: {text}", file=sys.stderr)

    try:
        return serve(args.port, browser=not args.no_browser, announce=announce)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); "
            "use another --port, or 0 for a free one"
        ) from None


def cmd_export(args: argparse.Namespace) -> int:
    since, until = bounds(args)
    store = open_existing(paths.store_file())
    rows = []
    if store is not None:
        with closing(store):
            rows = reports.sessions(store.conn, since=since, until=until, tool=args.tool)
    rows.reverse()  # oldest first reads naturally in a spreadsheet and appends cleanly
    if not args.output:
        _write_export(rows, args.format, sys.stdout)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            _write_export(rows, args.format, out)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}; choose another -o") from None
    if args.output:
        print(f"wrote {len(rows)} segments to {args.output}", file=sys.stderr)
    return 0


def _write_export(rows: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump({"sessions": rows}, out, indent=2)
        out.write("\n")
    else:
        reports.write_csv(rows, out)


def _when(ts: float) -> str:
    moment = dt.datetime.fromtimestamp(ts)
    same_day = moment.date() == dt.date.today()
    return moment.strftime("%H:%M" if same_day else "%a %d %b %H:%M")


def cmd_pause(args: argparse.Namespace) -> int:
    cfg = config.load_default()
    if not cfg.get("agent", "paused_allowed"):
        origin = cfg.origins["agent"]["paused_allowed"]
        raise UsageError(
            f"pausing is turned off here (agent.paused_allowed = false, from {origin}); "
            "ask whoever manages that policy"
        )
    seconds = parse_duration(args.duration) if args.duration else None
    now = time.time()
    ends = now + seconds if seconds is not None else None
    with closing(Store(paths.store_file())) as store, store.transaction() as conn:
        pauses.start_or_extend(conn, now, ends)
    until = f"until {_when(ends)}" if ends is not None else "until you run `aitally resume`"
    text = (
        f"collection paused {until}: nothing you do in AI tools is recorded meanwhile. "
        "The pause itself (start and end) is reported."
    )
    emit(args, {"paused": True, "since": now, "until": ends}, text)
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    now = time.time()
    started = None
    if paths.store_file().exists():
        with closing(Store(paths.store_file())) as store, store.transaction() as conn:
            started = pauses.end(conn, now)
    if started is None:
        emit(args, {"resumed": False, "paused_seconds": None}, "collection is not paused")
    else:
        text = f"collection resumed after {human_seconds(now - started)} paused"
        emit(args, {"resumed": True, "paused_seconds": round(now - started, 3)}, text)
    return 0
