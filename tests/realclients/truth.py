"""The true figures of a recorded scenario (`truth.json`), computed from the stand-in's log.

Each billed reply belongs to a session: the one its request named (Claude Code sends
`x-claude-code-session-id`, Codex `session_id`), else the session of the step that was running
when it was billed. Turns are the prompts the person typed in that session. A reply whose id
appears in no file the client wrote is only billed (a title, classifier or summary call, say);
for a client that writes no reply ids at all that cannot be told from ids, and `only_billed` is
null.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.realclients.usage import WIRE_KINDS, add_usage

# Request headers naming the client's session, in order of preference.
SESSION_HINTS = ("x-claude-code-session-id", "session_id", "conversation_id", "x-session-id")


@dataclass
class StepRecord:
    """What one step of a scenario did: its phase label, the session it ran in, the session it
    resumed or forked (`parent`, with `relation` "resume" or "fork"), and the prompts typed."""

    phase: str
    session: str
    prompts: int
    parent: str | None = None
    relation: str = "new"
    commands: list[str] = field(default_factory=list)


def session_of(entry: dict[str, Any], by_phase: dict[str, str], known: set[str]) -> str:
    """The session a logged reply belongs to."""
    headers = entry.get("headers") or {}
    for name in SESSION_HINTS:
        value = str(headers.get(name) or "")
        if value in known:
            return value
    return by_phase.get(str(entry.get("phase")), "")


def _zero() -> dict[str, int]:
    return dict.fromkeys(WIRE_KINDS, 0)


def compute_truth(
    log: list[dict[str, Any]], steps: list[StepRecord], written_text: str
) -> dict[str, Any]:
    """Per session: billed tokens by kind, per model, replies, turns, relation to a parent, and
    the replies that are only billed (ids absent from `written_text`, the client's files)."""
    by_phase = {s.phase: s.session for s in steps}
    known = {s.session for s in steps}
    records_ids = any(str(e.get("id")) in written_text for e in log if e.get("id"))
    sessions: dict[str, dict[str, Any]] = {}
    for step in steps:
        rec = sessions.setdefault(
            step.session,
            {
                "turns": 0,
                "parent": step.parent,
                "relation": step.relation,
                "phases": [],
                "billed": _zero(),
                "models": {},
                "replies": 0,
                "recorded": _zero(),
                "only_billed": [] if records_ids else None,
            },
        )
        rec["turns"] += step.prompts
        rec["phases"].append(step.phase)
    unattributed: list[int] = []
    for entry in log:
        sid = session_of(entry, by_phase, known)
        if sid not in sessions:
            unattributed.append(int(entry["seq"]))
            continue
        rec = sessions[sid]
        wire = entry["wire"]
        rec["replies"] += 1
        add_usage(rec["billed"], wire)
        add_usage(rec["models"].setdefault(str(entry["model"]), _zero()), wire)
        if records_ids:
            if str(entry["id"]) in written_text:
                add_usage(rec["recorded"], wire)
            else:
                rec["only_billed"].append(entry["id"])
    if not records_ids:
        for rec in sessions.values():
            rec["recorded"] = None
    return {"sessions": sessions, "unattributed": unattributed, "records_reply_ids": records_ids}
