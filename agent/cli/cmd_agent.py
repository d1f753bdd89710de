"""CLI commands that run and inspect the agent: run, status, config show."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from aitally.agent.table import render
from aitally.core import config, exit_status, paths
from aitally.core.config_schema import SECRET_KEYS
from aitally.core.errors import ConfigError
from aitally.core.instance_lock import AlreadyRunning
from aitally.core.store import ensure_writable_dir

# `status --check` when the agent is not running: the LSB init-script status for "program is
# not running", which detection scripts (MDM, EDR) already understand.
NOT_RUNNING = 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the agent in the foreground")
    p.add_argument(
        "--once",
        action="store_true",
        help="one full pass (scan, file catch-up, close idle, one upload), then exit",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "demo",
        help="the whole product here (`make run`): with no endpoint configured, also the "
        "central service on loopback, enrolled, and both dashboards",
    )
    p.set_defaults(func=cmd_demo, once=False)

    p = sub.add_parser("status", help="is the agent running, queue, drops, errors, policy")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument(
        "--check",
        action="store_true",
        help=f"for detection scripts: exit {NOT_RUNNING} when the agent is not running",
    )
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("config", help="configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = csub.add_parser("show", help="each effective value and where it came from")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_config_show)


def cmd_run(args: argparse.Namespace) -> int:
    from aitally.agent.daemon import Agent, install_signal_handlers
    from aitally.agent.journal import stderr_is_journal
    from aitally.agent.process_name import set_name
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
    # Under systemd the journal keeps stderr: with the file log on, a second copy of every
    # line there would only double the journal (agent/journal.py).
    level = cfg.get("agent", "log_level")
    journal = stderr_is_journal()
    if logs.setup(paths.log_dir(), level, to_stderr=not journal) is None and journal:
        logs.setup(paths.log_dir(), level)  # no file log: the journal is the only one
    set_name("aitally")
    agent = Agent(cfg)
    install_signal_handlers(agent)
    try:
        return agent.run(once=args.once)
    except AlreadyRunning as exc:
        print(f"aitally: {exc}", file=sys.stderr)
        return exit_status.ALREADY_RUNNING


def cmd_demo(args: argparse.Namespace) -> int:
    from aitally.agent import demo

    cfg = config.load_default()
    if cfg.get("upload", "endpoint"):
        return cmd_run(args)  # an endpoint is configured: the agent alone
    try:
        return demo.run_whole_path(cfg)
    except RuntimeError as exc:  # the ingest service did not start
        print(f"aitally: {exc}", file=sys.stderr)
        return 2


def cmd_status(args: argparse.Namespace) -> int:
    from aitally.agent.status import read_status

    cfg = config.load_default()
    status = read_status(cfg)
    data = status.as_json()
    code = NOT_RUNNING if args.check and not data["running"] else 0
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
        return code
    state = f"running (pid {data['pid']})" if data["running"] else "not running"
    lines = [
        f"agent:        {state}",
        f"data folder:  {data['data_dir']}",
        f"log file:     {data['log_file']}",
    ]
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
    for key in ("dropped", "parse_errors", "drift", "errors", "git_repositories"):
        if data.get(key):
            lines.append(
                f"{key.replace('_', ' ') + ':':14}"
                + ", ".join(f"{k}={v}" for k, v in sorted(data[key].items()))
            )
    for label, value in status.part_lines():
        lines.append(f"{label + ':':14}{value}")
    print("\n".join(lines))
    return code


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
