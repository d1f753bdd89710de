"""The `aitally-ingest` command line: serve, migrate, devices, report."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import getpass
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from aitally.core import cli_help
from aitally.core.cli_args import Parser, positive_int, run_command, version_line
from aitally.core.cli_output import add_json, emit
from aitally.core.terminal import style, use_colour
from aitally.ingest import effectiveness, levels, reports
from aitally.ingest.api_people import purge
from aitally.ingest.context import (
    ENV_ADMIN_TOKEN,
    ENV_ENROLL_SECRET,
    Context,
    Settings,
    check_secrets,
)
from aitally.ingest.identity import ENV_KEYS, LEVELS, KeyConfigError, load_keys, persons_of
from aitally.ingest.oidc import OidcSettings
from aitally.ingest.storage import Storage, StorageError, open_storage

ENV_DB = "AITALLY_INGEST_DB"
log = logging.getLogger("aitally.ingest")


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number >= 0")
    return value


def _open(args: argparse.Namespace) -> Storage:
    url = args.db or os.environ.get(ENV_DB)
    if not url:
        raise StorageError(
            f"no database: pass --db sqlite:///path or postgresql://... or set {ENV_DB}"
        )
    return open_storage(url)


def _settings(args: argparse.Namespace, retention: bool = True) -> Settings:
    settings = Settings(
        db=args.db or os.environ.get(ENV_DB, ""),
        min_group_size=args.min_group_size,
        device_rate=args.device_rate,
        device_burst=args.device_burst,
        max_inflight=args.max_inflight,
        enroll_rate=args.enroll_rate,
        enroll_burst=args.enroll_burst,
        max_enrollments=args.max_enrollments,
        privacy_floor=args.privacy_floor,
        retention_months=args.retention_months,
        retention_worker=retention,
        report_refresh=args.report_refresh,
        docs=args.docs,
        absolute_hours=args.absolute_hours,
        oidc=_oidc(args),
    )
    bad = check_secrets(settings)
    if bad:
        raise StorageError("; ".join(bad))
    return settings


def _serve(args: argparse.Namespace) -> int:
    # A missing ingest extra fails here, before anything is logged (aitally.ingest.entry).
    import uvicorn  # noqa: F401

    from aitally.ingest import jsonlog
    from aitally.ingest.workers import ListenError, listen, supervise

    load_keys(args.pseudonym_key_file)  # a bad key file fails here, not in every worker
    storage = _open(args)  # a bad --db fails before anything is logged; migrated once here
    jsonlog.setup(args.log_level)
    settings = _settings(args)
    for name, value in (
        (ENV_ENROLL_SECRET, settings.enroll_secret),
        (ENV_ADMIN_TOKEN, settings.admin_token),
    ):
        if not value:
            log.warning("%s is not set: its endpoints answer 401", name)
    try:
        sockets = listen(args.host, args.port, args.workers)
    except ListenError as exc:
        raise StorageError(str(exc)) from None
    port = sockets[0].getsockname()[1]
    if args.port_file:
        # Written after bind, renamed into place: a reader never sees a partial number.
        tmp = Path(str(args.port_file) + ".tmp")
        tmp.write_text(str(port))
        os.replace(tmp, args.port_file)
    log.info(
        "listening",
        extra={
            "event": "listening",
            "host": args.host,
            "port": port,
            "db": storage.dialect,
            "workers": args.workers,
        },
    )
    if args.workers == 1:
        _run_worker(args, sockets[0], 0, storage)
        return 0
    storage.close()  # each worker opens its own pool
    return supervise(sockets, args.workers, _worker, args)


def _worker(args: argparse.Namespace, sock: socket.socket, index: int) -> None:
    """One worker process of `serve --workers N` (aitally.ingest.workers)."""
    from aitally.ingest import jsonlog

    jsonlog.setup(args.log_level)
    _run_worker(args, sock, index, _open(args))


def _run_worker(
    args: argparse.Namespace, sock: socket.socket, index: int, storage: Storage
) -> None:
    """Serves on sock until SIGTERM or SIGINT; worker 0 also runs the periodic retention."""
    import uvicorn

    from aitally.ingest.app import create_app

    settings = _settings(args, retention=index == 0)
    config = uvicorn.Config(
        create_app(Context(settings, storage, load_keys(args.pseudonym_key_file))),
        log_config=None,
        access_log=False,  # the app logs each request itself, as JSON
        timeout_keep_alive=75,  # idle agent connections stay open for reuse (uvicorn: 5 s)
        backlog=2048,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        storage.close()


def _migrate(args: argparse.Namespace) -> int:
    storage = _open(args)  # open_storage migrates
    version = storage.migrate()
    emit(
        args,
        {"dialect": storage.dialect, "schema_version": version},
        f"aitally-ingest: {storage.dialect} database at schema version {version}",
    )
    return 0


def _devices(args: argparse.Namespace) -> int:
    storage = _open(args)
    if args.action == "revoke":
        if not args.device_id:
            raise StorageError("devices revoke needs a DEVICE_ID (see `devices list`)")
        if not storage.revoke(args.device_id, time.time()):
            raise StorageError(f"no active device {args.device_id!r}")
        emit(args, {"revoked": args.device_id}, f"revoked {args.device_id}")
        return 0
    devices = storage.devices()
    if args.json:
        print(json.dumps({"devices": [dataclasses.asdict(d) for d in devices]}, indent=2))
        return 0
    header = f"{'device_id':36}  {'label':20}  {'state':8}  last seen"
    print(style(header, "1", use_colour()))
    for d in devices:
        seen = d.last_seen_at
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(seen)) if seen else "never"
        state = "revoked" if d.revoked else "active"
        # Labels are validated on enrollment; older rows are shown without control characters.
        label = "".join(c if c.isprintable() else "?" for c in (d.label or "")[:20])
        print(f"{d.device_id:36}  {label:20}  {state:8}  {when}")
    return 0


def _oidc(args: argparse.Namespace) -> OidcSettings | None:
    if not args.oidc_issuer:
        if args.oidc_required:
            raise StorageError("--oidc-required needs --oidc-issuer and --oidc-audience")
        return None
    if not args.oidc_audience:
        raise StorageError("--oidc-issuer needs --oidc-audience (the client id tokens name)")
    return OidcSettings(
        args.oidc_issuer, args.oidc_audience, args.oidc_login_claim, args.oidc_required
    )


def _erase(args: argparse.Namespace) -> int:
    if (args.login is None) == (args.pseudonym is None):
        raise StorageError("erase needs exactly one of --login or --pseudonym")
    keys = load_keys(args.pseudonym_key_file)
    storage = _open(args)
    n = storage.erase(persons_of(keys, login=args.login, pseudonym=args.pseudonym), time.time())
    target = args.pseudonym or keys.pseudonym("user", args.login)
    storage.audit(time.time(), _cli_actor(), "erase", {"person": target, "records": n})
    emit(
        args,
        {"person": target, "records": n, "devices_revoked": True},
        f"erased {n} records of {target}; their devices are revoked",
    )
    return 0


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def _audit(args: argparse.Namespace) -> int:
    storage = _open(args)
    storage.audit(time.time(), _cli_actor(), "audit.read", {"since": args.since})
    for e in storage.audit_log(args.since, limit=1_000_000):
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e.at))
        print(json.dumps({"at": when, "actor": e.actor, "action": e.action, **e.detail}))
    return 0


def _purge(args: argparse.Namespace) -> int:
    n = purge(_open(args), args.months, _cli_actor())
    emit(
        args,
        {"records": n, "months": args.months},
        f"deleted {n} records older than {args.months} months",
    )
    return 0


def _hours(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not values[0] >= values[1] >= values[2] > 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give HEAVY,MODERATE,LIGHT hours a week, decreasing, > 0 (e.g. 10,4,1)"
        )
    return (values[0], values[1], values[2])


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _report(args: argparse.Namespace) -> int:
    storage = _open(args)
    k = args.min_group_size
    periodic = {
        "adoption": reports.adoption,
        "usage": reports.usage,
        "effectiveness": effectiveness.effectiveness,
    }
    if args.kind in periodic:
        doc = periodic[args.kind](storage, args.granularity, args.since, args.until, k)
    else:
        doc = levels.levels(storage, args.recipe, args.until, args.tool, k, args.absolute_hours)
    if args.format == "csv":
        sys.stdout.write(reports.to_csv(doc))
    else:
        print(json.dumps(doc, indent=2))
    return 0


# The example each subcommand's `--help` ends with (core.cli_help puts it there).
INGEST_EXAMPLES = {
    "": "aitally-ingest serve --db sqlite:///var/lib/aitally/ingest.db",
    "serve": "aitally-ingest serve --db sqlite:///var/lib/aitally/ingest.db --port 8080",
    "migrate": "aitally-ingest migrate --db postgresql://aitally@db/aitally",
    "devices": "aitally-ingest devices list --json",
    "report": "aitally-ingest report usage --granularity month --since 2026-01-01 --format csv",
    "erase": "aitally-ingest erase --login jdoe --pseudonym-key-file /etc/aitally/keys",
    "audit": "aitally-ingest audit --since 1767225600",
    "purge": "aitally-ingest purge --months 13",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = Parser(prog="aitally-ingest", description="The central aitally ingest service.")
    parser.add_argument("--version", action="version", version=version_line("aitally-ingest"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    db_help = f"sqlite:///path/ingest.db or postgresql://user@host/db (default: ${ENV_DB})"
    key_help = "file of <id>:<secret> lines, current first, mode 0600 (default: $" + ENV_KEYS + ")"

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--db", help=db_help)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    serve.add_argument("--port-file", type=Path, help="write the port here once listening")
    serve.add_argument("--min-group-size", type=positive_int, default=5)
    serve.add_argument(
        "--device-rate", type=_rate, default=2.0, help="batches/s per device; 0 = off"
    )
    serve.add_argument("--device-burst", type=positive_int, default=60)
    serve.add_argument(
        "--max-inflight", type=positive_int, default=256, help="batches in flight per worker"
    )
    serve.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="worker processes on the same port (README.md, Several workers and replicas)",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    serve.add_argument("--pseudonym-key-file", type=Path, help=key_help)
    serve.add_argument(
        "--enroll-rate", type=_rate, default=0.2, help="enrollments/s per source address"
    )
    serve.add_argument("--enroll-burst", type=positive_int, default=30)
    serve.add_argument(
        "--max-enrollments", type=positive_int, default=5, help="active devices per login"
    )
    serve.add_argument(
        "--privacy-floor",
        choices=LEVELS,
        default="identified",
        help="no enrollment is stored less strictly than this level",
    )
    serve.add_argument("--retention-months", type=positive_int, default=13)
    serve.add_argument(
        "--report-refresh",
        type=_rate,
        default=120.0,
        metavar="SECONDS",
        help="seconds between refreshes of the cached report answers; 0 = no cache "
        "(docs/measuring.md, Cached answers)",
    )
    serve.add_argument(
        "--absolute-hours",
        type=_hours,
        default=(10.0, 4.0, 1.0),
        help="recipe absolute: HEAVY,MODERATE,LIGHT active hours a week (default 10,4,1)",
    )
    serve.add_argument("--oidc-issuer", metavar="URL", help="ID tokens of this issuer prove logins")
    serve.add_argument("--oidc-audience", metavar="CLIENT_ID", help="the aud ID tokens carry")
    serve.add_argument("--oidc-login-claim", default="preferred_username", metavar="CLAIM")
    serve.add_argument(
        "--oidc-required", action="store_true", help="refuse enrollments without an ID token"
    )
    serve.add_argument(
        "--docs", action="store_true", help="serve /docs and /redoc (they load CDN scripts)"
    )
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument("--db", help=db_help)
    add_json(migrate)
    migrate.set_defaults(func=_migrate)

    devices = sub.add_parser("devices", help="list or revoke enrolled devices")
    devices.add_argument("action", choices=["list", "revoke"])
    devices.add_argument("device_id", nargs="?")
    devices.add_argument("--db", help=db_help)
    add_json(devices)
    devices.set_defaults(func=_devices)

    report = sub.add_parser("report", help="adoption, usage, effectiveness or levels report")
    report.add_argument("kind", choices=["adoption", "usage", "effectiveness", "levels"])
    report.add_argument("--db", help=db_help)
    report.add_argument("--granularity", choices=reports.GRANULARITIES, default="week")
    report.add_argument("--since", type=_day, help="YYYY-MM-DD (widened to whole periods)")
    report.add_argument("--until", type=_day, help="YYYY-MM-DD; for levels: the as-of day")
    report.add_argument("--recipe", choices=sorted(levels.RECIPES), default="volume")
    report.add_argument("--tool", help="levels for one tool id only")
    report.add_argument("--min-group-size", type=positive_int, default=5)
    report.add_argument("--absolute-hours", type=_hours, default=(10.0, 4.0, 1.0))
    report.add_argument("--format", choices=["json", "csv"], default="json")
    report.set_defaults(func=_report)

    erase = sub.add_parser("erase", help="delete one person's records and revoke their devices")
    erase.add_argument("--login")
    erase.add_argument("--pseudonym", help="hmac:<key id>:<hex>")
    erase.add_argument("--db", help=db_help)
    erase.add_argument("--pseudonym-key-file", type=Path, help=key_help)
    add_json(erase)
    erase.set_defaults(func=_erase)

    audit = sub.add_parser("audit", help="print the audit log (JSON lines)")
    audit.add_argument("--since", type=float, default=0.0, help="epoch seconds")
    audit.add_argument("--db", help=db_help)
    audit.set_defaults(func=_audit)

    purge_cmd = sub.add_parser("purge", help="delete records older than the retention")
    purge_cmd.add_argument("--months", type=positive_int, default=13)
    purge_cmd.add_argument("--db", help=db_help)
    add_json(purge_cmd)
    purge_cmd.set_defaults(func=_purge)
    cli_help.apply(parser, INGEST_EXAMPLES)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one subcommand; 2 with a one-line message on a usage or database error."""
    return run_command(build_parser(), argv, (StorageError, reports.ReportError, KeyConfigError))


if __name__ == "__main__":
    sys.exit(main())
