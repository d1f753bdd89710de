"""CLI commands `aitally preview` and `aitally upload`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from aitally.agent import outcomes_view
from aitally.agent.table import render
from aitally.core import config, paths
from aitally.core.cli_output import add_json, emit
from aitally.core.errors import UsageError
from aitally.core.instance_lock import is_held
from aitally.core.store import Store, outbox
from aitally.uploader import sinks
from aitally.uploader.delivery import Delivery, PassResult
from aitally.uploader.preview import next_body


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("preview", help="exactly what the next upload would send")
    p.add_argument(
        "--json", action="store_true", help="the request body, byte for byte (before gzip)"
    )
    p.set_defaults(func=cmd_preview)
    p = sub.add_parser("upload", help="upload what is due now")
    add_json(p)
    p.set_defaults(func=cmd_upload)


def cmd_preview(args: argparse.Namespace) -> int:
    cfg = config.load_default()
    store = Store(paths.store_file())
    try:
        body, more = next_body(cfg, store)
    finally:
        store.close()
    if args.json:
        sys.stdout.buffer.write(body + b"\n")
        sys.stdout.flush()
        return 0
    batch = json.loads(body)
    rows = [
        [
            r["kind"],
            r["tool"],
            r["started_at"],
            r["ended_at"],
            f"{r['active_seconds']:g}",
            str(sum(v or 0 for v in (r["tokens"] or {}).values())),
            outcomes_view.brief(r.get("outcomes") or {}),
            r["user"] or "-",
            r["project"] or "-",
        ]
        for r in batch["records"]
    ]
    head = ["kind", "tool", "start", "end", "active s", "tokens", "outcomes", "user", "project"]
    print(render(head, rows))
    print(
        f"\n{len(rows)} records in the next batch ({len(body)} bytes before gzip), {more} more"
        f" queued; policy {cfg.get('privacy', 'level')}. `aitally preview --json` shows the body."
    )
    return 0


def cmd_upload(args: argparse.Namespace) -> int:
    cfg = config.load_default()
    try:
        targets = sinks.make_sinks(cfg)
    except sinks.NotReady as exc:
        raise UsageError(str(exc)) from None
    store = Store(paths.store_file())
    stop = threading.Event()
    box: list[PassResult] = []

    def work() -> None:
        if not is_held(paths.lock_file()):
            with store.transaction() as conn:
                outbox.release(conn)  # no agent: any claim is a dead uploader's
        box.append(Delivery(cfg, store, targets).run(stop, force=True))

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    worker = threading.Thread(target=work, name="aitally-upload", daemon=True)
    worker.start()
    while worker.is_alive() and not stop.is_set():
        worker.join(0.2)
    if stop.is_set():
        # The request in flight may finish within the grace; the rest stays in the store.
        worker.join(cfg.get("upload", "shutdown_grace"))
        print("aitally: upload interrupted; the rest stays queued", file=sys.stderr)
        return 1
    store.close()
    result = box[0] if box else PassResult("failed", "see the log")
    text = (
        f"upload {result.outcome}: {result.acked} records delivered"
        f" ({result.duplicate} already there), {result.dead} dead-lettered,"
        f" {result.batches} batches" + (f"; {result.detail}" if result.detail else "")
    )
    data = {
        "outcome": result.outcome,
        "delivered": result.acked,
        "duplicate": result.duplicate,
        "dead_lettered": result.dead,
        "batches": result.batches,
        "detail": result.detail,
    }
    emit(args, data, text)
    return 0 if result.outcome in ("done", "idle") else 1
