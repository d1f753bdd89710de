"""CLI commands: install, uninstall, enroll, doctor, policy template."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

from aitally.core import config, paths
from aitally.core.cli_output import add_json, emit
from aitally.installer.service import InstallError, Target, registrar
from aitally.installer.tool_telemetry import Outcome

SUPPRESS = argparse.SUPPRESS


def _usage(message: str) -> Exception:
    from aitally.core.errors import UsageError

    return UsageError(message)


def _scope_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--system", action="store_true", help="for every user (run as root by an MDM)")
    # Test-only: a folder standing in for "/", so --system never touches the real machine.
    p.add_argument("--root", type=Path, default=Path("/"), help=SUPPRESS)
    # Test-only: this machine's tests run as root; real per-user installs refuse root.
    p.add_argument("--allow-root", action="store_true", help=SUPPRESS)


def _enroll_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", metavar="URL", help="ingest service base URL (https://...)")
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--enroll-secret-file",
        metavar="FILE",
        type=Path,
        help="exchange IT's enroll secret, read from FILE (- : standard input), for a token",
    )
    how.add_argument(
        "--token-file", metavar="FILE", type=Path, help="store a device token read from FILE (-)"
    )
    # Kept for compatibility; discouraged: other local users see argv in the process list.
    how.add_argument("--enroll-secret", metavar="S", help="discouraged: shown by ps; use the file")
    how.add_argument("--token", metavar="T", help="discouraged: shown by ps; use --token-file")
    p.add_argument("--label", metavar="L", help="device label sent when enrolling (default none)")
    p.add_argument(
        "--id-token-file",
        metavar="FILE",
        type=Path,
        help="an OIDC ID token proving your login, where the ingest asks for one (- : stdin)",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("install", help="start the agent at every login (and now), enroll if asked")
    _scope_args(p)
    _enroll_args(p)
    p.add_argument("--no-start", action="store_true", help="register only; start at next login")
    p.add_argument(
        "--configure-tools",
        action="store_true",
        help="turn the OTLP receiver on and point the AI tools' own telemetry at it",
    )
    add_json(p)
    p.set_defaults(func=cmd_install)

    p = sub.add_parser("uninstall", help="remove what install added")
    _scope_args(p)
    p.add_argument(
        "--purge", action="store_true", help="also delete the store, logs, token and config"
    )
    add_json(p)
    p.set_defaults(func=cmd_uninstall)

    p = sub.add_parser("enroll", help="exchange an enroll secret for this device's token")
    _enroll_args(p)
    add_json(p)
    p.set_defaults(func=cmd_enroll)

    p = sub.add_parser("doctor", help="check everything the agent needs; print the fixes")
    _scope_args(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--min-watches", type=int, default=None, help=SUPPRESS)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser(
        "otlp-headers",
        help="print the OTLP receiver's token header as JSON (Claude Code's otelHeadersHelper)",
    )
    p.set_defaults(func=cmd_otlp_headers)

    from aitally.installer.templates import FORMATS

    p = sub.add_parser("policy", help="managed policy for IT")
    psub = p.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    t = psub.add_parser("template", help="write a ready-to-deploy policy template")
    t.add_argument("--format", choices=FORMATS, required=True)
    t.add_argument("--output", type=Path, help="file (or folder for admx); default: stdout")
    t.set_defaults(func=cmd_policy_template)


def _target(args: argparse.Namespace) -> Target:
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if args.system and not is_root and args.root == Path("/"):
        raise _usage("--system writes for every user and needs root; run it with sudo")
    if not args.system and is_root and not args.allow_root:
        raise _usage(
            "refusing to run the agent as root: it must see the engineer's own processes and "
            "keyring; run `aitally install` as the engineer, or `sudo aitally install --system`"
        )
    return Target(system=args.system, root=args.root)


def _check_endpoint(args: argparse.Namespace) -> None:
    if args.endpoint and not args.endpoint.startswith(("https://", "http://")):
        raise _usage(f"--endpoint {args.endpoint!r} is not a URL; use https://host[:port]")


def _set_endpoint(args: argparse.Namespace, system: bool, root: Path) -> None:
    _check_endpoint(args)
    if not args.endpoint:
        return
    from aitally.installer.settings_file import set_value

    if system:
        path = root / str(paths.managed_policy_file()).lstrip("/\\")
        set_value(path, "upload", "endpoint", args.endpoint, mode=0o644)
    else:
        set_value(paths.user_config_file(), "upload", "endpoint", args.endpoint)


def _read_secret(source: Path, option: str) -> str:
    """The first line of a file, or of standard input for `-`; never from argv."""
    try:
        text = sys.stdin.readline() if str(source) == "-" else source.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise _usage(f"{option} {source}: cannot read ({exc})") from None
    secret = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not secret:
        raise _usage(f"{option} {source}: empty")
    return secret


def _secrets_from_files(args: argparse.Namespace) -> None:
    """--enroll-secret-file / --token-file fill args.enroll_secret / args.token."""
    if getattr(args, "enroll_secret_file", None) is not None:
        args.enroll_secret = _read_secret(args.enroll_secret_file, "--enroll-secret-file")
    if getattr(args, "token_file", None) is not None:
        args.token = _read_secret(args.token_file, "--token-file")


def _enroll(args: argparse.Namespace) -> str | None:
    from aitally.uploader.enroll import EnrollError, enroll, store_token

    try:
        if args.token:
            done = store_token(args.token)
        elif args.enroll_secret:
            cfg = config.load_default()
            # Tried before it is saved, so a failed enroll never replaces a working endpoint.
            if args.endpoint and not cfg.is_managed("upload", "endpoint"):
                cfg.values["upload"]["endpoint"] = args.endpoint
            id_token = None
            if getattr(args, "id_token_file", None) is not None:
                id_token = _read_secret(args.id_token_file, "--id-token-file")
            done = enroll(cfg, args.enroll_secret, label=args.label, id_token=id_token)
        else:
            return None
    except EnrollError as exc:
        raise _usage(str(exc)) from None
    device = f"device {done.device_id}, " if done.device_id else ""
    return f"enrolled: {device}token in {done.store}"


def cmd_install(args: argparse.Namespace) -> int:
    _secrets_from_files(args)
    target = _target(args)
    if args.system and (args.enroll_secret or args.token):
        raise _usage(
            "a device token belongs to one user's keyring: with --system set only --endpoint, "
            "then each user runs `aitally enroll`"
        )
    _check_endpoint(args)
    message = None if args.system else _enroll(args)
    _set_endpoint(args, args.system, args.root)
    tools = _configure_tools(args)
    restarted = False
    if tools and not args.no_start:
        from aitally.installer.service import stop_running_agent

        # A running agent read its configuration before the receiver was turned on: the one
        # started below listens where the tools now send.
        restarted = stop_running_agent()
    try:
        state = registrar(target).install(start=not args.no_start)
    except InstallError as exc:
        raise _usage(str(exc)) from None
    lines = [f"registered ({state.mechanism}): {', '.join(state.files)}"]
    if message:
        lines.append(message)
    lines += [f"telemetry of {t.tool}: {t.status}: {t.detail}" for t in tools]
    if restarted:
        lines.append("restarted the running agent, so its OTLP receiver listens")
    if args.system:
        lines.append("the agent starts at each user's next login")
    data = {
        "mechanism": state.mechanism,
        "files": state.files,
        "enrolled": message,
        "tools": [t.as_json() for t in tools],
    }
    emit(args, data, "\n".join(lines))
    return 0


def _configure_tools(args: argparse.Namespace) -> list[Outcome]:
    """With --configure-tools or `[otlp_receiver] configure_tools` in force: the receiver on in
    the user's configuration, each installed tool's telemetry pointed at it."""
    from aitally.collectors.otlp import token
    from aitally.installer import tool_telemetry

    cfg = config.load_default()
    if args.system or not (args.configure_tools or cfg.get("otlp_receiver", "configure_tools")):
        return []
    port = int(cfg.get("otlp_receiver", "port"))
    if port == 0:
        raise _usage(
            "[otlp_receiver] port is 0 (any free port), so the tools cannot be pointed at it; "
            "set a fixed port, e.g. 43180"
        )
    if not cfg.get("otlp_receiver", "enabled"):
        if cfg.is_managed("otlp_receiver", "enabled"):
            raise _usage(
                "managed policy turns the OTLP receiver off; ask IT, or install without "
                "--configure-tools"
            )
        from aitally.installer.settings_file import set_value

        set_value(paths.user_config_file(), "otlp_receiver", "enabled", True)
    data_dir = paths.data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = token.load_or_create(data_dir)
    return tool_telemetry.configure(port, secret, data_dir, Path.home(), os.environ)


def cmd_uninstall(args: argparse.Namespace) -> int:
    from aitally.installer.settings_file import written_by_install
    from aitally.installer.tool_telemetry import restore

    target = _target(args)
    # First: the tools must stop sending to a receiver that is going away.
    tools = [] if args.system else restore(paths.data_dir())
    removed = registrar(target).uninstall()
    if args.purge and args.system:
        managed = args.root / str(paths.managed_policy_file()).lstrip("/\\")
        if written_by_install(managed):
            managed.unlink()
            removed.append(str(managed))
            _remove_empty(managed.parent)
    elif args.purge:
        from aitally.uploader import credentials

        credentials.delete_token()
        for folder in (paths.data_dir(), paths.log_dir()):
            if folder.exists():
                shutil.rmtree(folder)
                removed.append(str(folder))
            if folder.parent.name == paths.APP:  # Linux logs live in ~/.local/state/aitally/log
                _remove_empty(folder.parent)
        if written_by_install(paths.user_config_file()):
            paths.user_config_file().unlink()
            removed.append(str(paths.user_config_file()))
            _remove_empty(paths.user_config_file().parent)
    text = "removed: " + (", ".join(removed) or "nothing (not installed)")
    text += "".join(f"\ntelemetry of {t.tool}: {t.detail}" for t in tools)
    emit(args, {"removed": removed, "tools": [t.as_json() for t in tools]}, text)
    return 0


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty: someone else's files live there
        folder.rmdir()


def cmd_enroll(args: argparse.Namespace) -> int:
    _secrets_from_files(args)
    if not (args.enroll_secret or args.token):
        raise _usage("enroll needs --enroll-secret-file FILE or --token-file FILE (- : stdin)")
    _check_endpoint(args)
    message = _enroll(args)
    _set_endpoint(args, False, Path("/"))
    emit(args, {"enrolled": message, "endpoint": args.endpoint}, str(message))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from aitally.agent.doctor import FAIL, MIN_INOTIFY_WATCHES, Doctor, as_json

    target = Target(system=args.system, root=args.root)
    doctor = Doctor(target, min_watches=args.min_watches or MIN_INOTIFY_WATCHES)
    checks = doctor.run()
    if args.json:
        print(json.dumps(as_json(checks), indent=2))
    else:
        print(f"agent log: {paths.log_file()}")
        marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
        for c in checks:
            print(f"{marks[c.status]}  {c.name:13} {c.detail}")
            if c.fix and c.status != "ok":
                print(f"      {'':13} fix: {c.fix}")
    return 1 if any(c.status == FAIL for c in checks) else 0


def cmd_otlp_headers(args: argparse.Namespace) -> int:
    """The header Claude Code's `otelHeadersHelper` (tool_policy_templates.py) runs this for:
    a machine-wide managed file cannot hold each user's token, so each user's run prints it."""
    from aitally.collectors.otlp import token
    from aitally.core.otlp_routes import TOKEN_HEADER

    folder = paths.data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    print(json.dumps({TOKEN_HEADER: token.load_or_create(folder)}))
    return 0


def cmd_policy_template(args: argparse.Namespace) -> int:
    from aitally.installer.templates import render

    files = render(args.format)
    if args.output is None:
        if len(files) > 1:
            raise _usage(f"--format {args.format} writes several files; pass --output FOLDER")
        sys.stdout.buffer.write(next(iter(files.values())))
        return 0
    try:
        if len(files) > 1 or args.output.is_dir():
            for name, data in files.items():
                out = args.output / name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
                print(out)
            return 0
        args.output.write_bytes(next(iter(files.values())))
    except OSError as exc:
        raise _usage(
            f"cannot write {exc.filename or args.output}: {exc.strerror}; choose another --output"
        ) from None
    print(args.output)
    return 0
