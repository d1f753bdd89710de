"""CLI commands that run and inspect the agent: run, status, config show."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from aitally.agent.table import render
from aitally.core import config, paths
from aitally.core.config_schema import SECRET_KEYS
from aitally.core.errors import ConfigError
from aitally.core.instance_lock import AlreadyRunning, holder_pid, is_held
from aitally.core.store import Store, ensure_writable_dir
from aitally.core.timerange import iso


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the agent in the foreground")
    p.add_argument(
        "--once",
        action="store_true",
        help="one full pass (scan, file catch-up, close idle, one upload), then exit",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="is the agent running, queue, drops, errors, policy")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("config", help="configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = csub.add_parser("show", help="each effective value and where it came from")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_config_show)


def cmd_run(args: argparse.Namespace) -> int:
    from aitally.agent.daemon import Agent, install_signal_handlers
    from aitally.core import logs

    try:
        cfg = config.load_default()
    except ConfigError as exc:
        # Started by a service manager, nobody reads stderr: leave the reason in the log
        # too (without the stderr handler, so a terminal still shows one line).
        logs.setup(paths.log_dir(), "error", to_stderr=False)
        logging.getLogger("aitally.agent").error("not starting: %s", exc)
        raise
    ensure_writable_dir(paths.data_dir())  # before logging, so the error is the only line
    logs.setup(paths.log_dir(), cfg.get("agent", "log_level"))
    agent = Agent(cfg)
    install_signal_handlers(agent)
    try:
        return agent.run(once=args.once)
    except AlreadyRunning as exc:
        print(f"aitally: {exc}", file=sys.stderr)
        return 1


def status_data(cfg: config.Config) -> dict[str, Any]:
    lock = paths.lock_file()
    running = is_held(lock)
    data: dict[str, Any] = {
        "running": running,
        "pid": holder_pid(lock) if running else None,
        "data_dir": str(paths.data_dir()),
        "policy": {
            "level": cfg.get("privacy", "level"),
            "managed": cfg.is_managed("privacy", "level"),
        },
        "endpoint": cfg.get("upload", "endpoint") or None,
    }
    if not paths.store_file().exists():
        data.update(
            store=None,
            last_scan=None,
            open_segments=0,
            queue_depth=0,
            dropped={},
            parse_errors={},
            drift={},
            errors={},
        )
        return data
    store = Store(paths.store_file())
    try:
        c = store.conn
        scan = store.kv_get("last_scan")
        scan_data = json.loads(scan) if scan else None
        if scan_data:
            scan_data["at"] = iso(scan_data["at"])
        data.update(
            store={"path": str(store.path), "bytes": store.size_bytes()},
            started_at=iso(float(v)) if (v := store.kv_get("agent_started_at")) else None,
            last_scan=scan_data,
            live_processes=[
                dict(r)
                for r in c.execute("SELECT tool, pid FROM live_processes ORDER BY tool, pid")
            ],
            open_segments=c.execute(
                "SELECT COUNT(*) FROM segments WHERE ended_at IS NULL"
            ).fetchone()[0],
            queue_depth=c.execute("SELECT COUNT(*) FROM outbox").fetchone()[0],
            dropped=store.counters("dropped"),
            parse_errors=store.counters("parse_error"),
            drift=store.counters("drift"),
            errors=store.counters("errors"),
        )
        from aitally.agent import status_extras

        data.update(status_extras.collect(cfg, store))
    finally:
        store.close()
    return data


def cmd_status(args: argparse.Namespace) -> int:
    cfg = config.load_default()
    data = status_data(cfg)
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
        return 0
    state = f"running (pid {data['pid']})" if data["running"] else "not running"
    lines = [f"agent:        {state}", f"data folder:  {data['data_dir']}"]
    if data.get("last_scan"):
        s = data["last_scan"]
        lines.append(
            f"last scan:    {s['at']} ({s['seconds'] * 1000:.1f} ms, {s['processes']} processes)"
        )
    live = ", ".join(f"{p['tool']} ({p['pid']})" for p in data.get("live_processes") or [])
    if not data["running"]:  # what the last scan saw may be long gone
        live = "unknown (agent not running)" + (f"; at the last scan: {live}" if live else "")
    lines.append("tools now:    " + (live or "none running"))
    lines.append(f"open segments: {data['open_segments']}   upload queue: {data['queue_depth']}")
    lines.append(
        f"policy:       {data['policy']['level']}"
        + (" (managed)" if data["policy"]["managed"] else "")
    )
    lines.append(f"endpoint:     {data['endpoint'] or 'none (everything stays local)'}")
    for key in ("dropped", "parse_errors", "drift", "errors"):
        if data.get(key):
            lines.append(
                f"{key.replace('_', ' ') + ':':14}"
                + ", ".join(f"{k}={v}" for k, v in sorted(data[key].items()))
            )
    for key, value in sorted(data.items()):
        if key.startswith("x_"):
            lines.append(f"{key[2:].replace('_', ' ') + ':':14}{value}")
    print("\n".join(lines))
    return 0


def masked_values(cfg: config.Config) -> dict[str, dict[str, Any]]:
    """The effective values with secrets shown only as set or not."""
    return {
        section: {
            key: ("(set)" if value else "") if (section, key) in SECRET_KEYS else value
            for key, value in values.items()
        }
        for section, values in cfg.values.items()
    }


def cmd_config_show(args: argparse.Namespace) -> int:
    cfg = config.load_default()
    if args.json:
        print(
            json.dumps(
                {
                    "values": masked_values(cfg),
                    "origins": cfg.origins,
                    "tools": [t.get("id") for t in cfg.tools],
                },
                indent=2,
                sort_keys=True,
            )
        )
        return 0
    rows = [
        [f"{section}.{key}", json.dumps(value), cfg.origins[section][key]]
        for section, values in masked_values(cfg).items()
        for key, value in values.items()
    ]
    print(render(["key", "value", "origin"], rows))
    print(
        f"\nuser file: {paths.user_config_file()}   managed policy: "
        f"{paths.managed_policy_file()}   generated {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    return 0
