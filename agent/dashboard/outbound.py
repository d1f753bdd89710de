"""The "what leaves this machine" page: policy in force, endpoint, next batch, uploads, drops."""

from __future__ import annotations

import json
from typing import Any

from aitally.agent import reports
from aitally.agent.dashboard.layout import Context, h, local_time, page, table
from aitally.agent.table import human_tokens
from aitally.core.store import outbox, uploads
from aitally.core.timerange import iso

LEVELS = {
    "identified": "records carry your login name and hostname",
    "pseudonymous": "records carry keyed hashes of your login and device, so your laptops add "
    "up without analysts seeing your name",
    "anonymous": "records carry no user or device, and times are rounded to the day",
    "aggregate": "only daily totals per tool leave this machine",
}
POLICY_KEYS = (
    ("privacy", "level"),
    ("privacy", "allow_stricter"),
    ("privacy", "send_projects"),
    ("privacy", "org_unit"),
    ("privacy", "org_key"),
    ("upload", "endpoint"),
    ("upload", "otlp_endpoint"),
    ("agent", "paused_allowed"),
)


def next_batch(ctx: Context) -> tuple[dict[str, Any] | None, int, str]:
    """The next request body, from the code `aitally preview --json` and the sender use."""
    if ctx.store is None:
        return None, 0, "nothing has been recorded, so there is nothing to send"
    try:
        from aitally.uploader.preview import next_body
    except ModuleNotFoundError as exc:
        if exc.name is not None and "aitally.uploader.preview".startswith(exc.name):
            return None, 0, "this build of aitally has no uploader, so nothing is sent"
        raise
    body, more = next_body(ctx.cfg, ctx.store, ctx.now)
    return json.loads(body), more, ""


def _policy(ctx: Context) -> str:
    cfg = ctx.cfg
    rows = []
    for section, key in POLICY_KEYS:
        value = cfg.get(section, key)
        if key == "org_key":
            shown = "set" if value else "not set"
        elif value in ("", None):
            shown = "-"
        else:
            shown = json.dumps(value) if not isinstance(value, str) else value
        origin = cfg.origins[section][key]
        managed = " (managed, you cannot change it)" if cfg.is_managed(section, key) else ""
        rows.append([h(f"{section}.{key}"), h(shown), h(origin + managed)])
    level = cfg.get("privacy", "level")
    endpoint = cfg.get("upload", "endpoint")
    where = (
        f"Uploads go to <b>{h(endpoint)}</b>."
        if endpoint
        else "<b>No endpoint is set: nothing leaves this machine.</b>"
    )
    return (
        f"<p>Privacy level <b>{h(level)}</b>: {h(LEVELS.get(level, ''))}. {where} "
        "Prompts, replies, code, file names, window titles and tool arguments are never stored "
        "or sent; records carry only numbers, ids, model names and times.</p>"
        + table(["setting", "value", "origin"], rows)
    )


def _short(value: object) -> str:
    """A long hash cut for the table; the full value is in its tooltip and in the JSON below."""
    text = str(value) if value else "-"
    if len(text) <= 24:
        return h(text)
    return f'<span title="{h(text)}">{h(text[:23])}…</span>'


def _preview_section(ctx: Context) -> str:
    data, more, why = next_batch(ctx)
    if data is None:
        return f"<p class=muted>{h(why)}</p>"
    records = data.get("records") or []
    rows = [
        [
            h(r.get("kind")),
            h(r.get("tool")),
            h(r.get("started_at")),
            h(r.get("ended_at")),
            h(f"{r.get('active_seconds', 0):g}"),
            h(human_tokens(sum(v or 0 for v in (r.get("tokens") or {}).values()))),
            _short(r.get("user")),
            _short(r.get("project")),
        ]
        for r in records
    ]
    lead = (
        ""
        if ctx.cfg.get("upload", "endpoint")
        else "Nothing is sent while no endpoint is set; were one set, this would go first. "
    )
    return (
        f"<p>{lead}{len(records)} records in the next batch, {more} more queued after it. "
        "This is the request body the uploader sends (before gzip), the same JSON "
        "<code>aitally preview --json</code> prints, indented here for reading.</p>"
        + table(
            ["kind", "tool", "start (UTC)", "end (UTC)", "active s", "tokens", "user", "project"],
            rows,
            numeric=(4, 5),
            empty="the next batch is empty",
        )
        + f"<pre id=preview>{h(json.dumps(data, indent=2))}</pre>"
    )


def _queue(ctx: Context) -> str:
    assert ctx.store is not None
    conn = ctx.store.conn
    kinds = outbox.by_kind(conn)
    rows = [
        [h(r["kind"]), str(r["n"]), h(local_time(iso(r["oldest"]))), str(r["retried"] or 0)]
        for r in kinds
    ]
    return table(
        ["kind", "waiting", "oldest", "retried"], rows, numeric=(1, 3), empty="the queue is empty"
    )


def _uploads(ctx: Context) -> str:
    assert ctx.store is not None
    rows = [
        [
            h(local_time(iso(r.at))),
            h(r.status),
            str(r.records),
            h((r.batch_id or "-")[:8]),
            h(r.detail or ""),
        ]
        for r in uploads.recent_requests(ctx.store.conn, 20)
    ]
    return table(
        ["when", "status", "records", "batch", "detail"],
        rows,
        numeric=(2,),
        empty="no upload attempted yet",
    )


def _drops(ctx: Context) -> str:
    assert ctx.store is not None
    store = ctx.store
    rows = [[h("dropped"), h(k), str(v)] for k, v in sorted(store.counters("dropped").items())]
    rows += [
        [h("not recorded (paused)"), h(k), str(v)]
        for k, v in sorted(store.counters("paused_dropped").items())
    ]
    dead = uploads.dead_letters_by_reason(store.conn)
    rows += [[h("refused by the server"), h(reason), str(n)] for reason, n in dead.items()]
    return table(["what", "reason", "count"], rows, numeric=(2,), empty="nothing dropped, ever")


def _pauses(ctx: Context) -> str:
    assert ctx.store is not None
    rows = [
        [
            h(local_time(p["started_at"])),
            h(local_time(p["ends_at"]) if p["ends_at"] else "until resumed"),
            h("now" if p["active"] else local_time(p["ended_at"] or p["ends_at"])),
        ]
        for p in reports.pauses(ctx.store.conn)
    ]
    return (
        "<p class=muted>A pause is itself reported centrally as a pause (start and end only), "
        "so nothing is hidden from either side.</p>"
        + table(["started", "planned end", "ended"], rows, empty="never paused")
    )


def outbound(ctx: Context) -> str:
    body = ["<h2>Policy in force</h2>", _policy(ctx), "<h2>The next upload</h2>"]
    body.append(_preview_section(ctx))
    if ctx.store is None:
        body.append("<p class=muted>No local store yet: nothing has been recorded.</p>")
    else:
        body += [
            "<h2>Waiting to be sent</h2>",
            _queue(ctx),
            "<h2>Last uploads</h2>",
            _uploads(ctx),
            "<h2>Dropped and refused</h2>",
            _drops(ctx),
            "<h2>Pauses</h2>",
            _pauses(ctx),
        ]
    return page(ctx.frame, "outbound", "What leaves this machine", "".join(body))
