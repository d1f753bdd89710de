"""Codex TUI's thread-title calls: counted from its telemetry, in the thread they name.

The TUI names each thread with a separate model call (docs/clients/codex.md, "Only billed")
made as a conversation of its own: its own `conversation.id`, one turn, one call, written in
no rollout and linked to nothing. Its telemetry (tests/fixtures/otlp/codex/0.171.0/interactive)
carries the same attributes as the thread's (`originator` `codex-tui`, `model`), and shows it
starting a fraction of a second after the thread's first prompt. So, per call (a
`response.completed` with tokens, collectors/otlp/allowlist.py):

- a conversation with a rollout in a Codex home is a thread: the rollout records its calls,
  which are not counted again (`otlp_dropped/in_transcript`);
- a conversation without one, of one turn, is a title call: it is counted in the thread (a
  conversation with a rollout) whose turn started last at or before the title conversation's
  own turn, at most WINDOW earlier. One call goes to one thread, so two TUIs open at once
  (in one Codex home or several) never both count it; the one whose prompt came last wins;
- otherwise (no such thread: its prompt never reached the receiver, or a conversation of
  several turns whose rollout is in a folder the agent does not read) it is counted nowhere,
  and `otlp_dropped/unattributed` says how many: a call in a wrong session is worse than one
  missing.

A thread's rollout exists before its first request (its `session_meta` precedes the prompt),
so it is on disk by the time that call's telemetry is exported. It is looked for in the
`sessions/YYYY/MM/DD/` folders of the day its id was made (Codex's ids are UUIDv7, which begin
with their creation time; the folder is named in local time), not in every day's: 0.2 ms instead
of 52 ms per look in a home of three years of rollouts (20,160 files). Turn starts are kept in the
store (KV_TURNS, written with the batch that brought them), so a restart of the agent between a
prompt and its title call loses nothing.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from aitally.collectors.otlp.allowlist import CODEX_CONVERSATION, CodexFacts
from aitally.core.observation import Usage

# The store kv row that keeps the recent turn starts: [[conversation, unix time], ...].
KV_TURNS: Final = "otlp_codex_turns"
# The longest a title call may start after its thread's prompt (0.1-0.3 s in the recordings).
WINDOW: Final = 60.0
# Bounds on what is kept: turn starts (within WINDOW of the newest), and threads known to
# have a rollout (a cache: forgetting one only means looking on disk again).
MAX_TURNS: Final = 256
MAX_THREADS: Final = 4096
DAY: Final = 86400.0


@dataclass(slots=True)
class Attributed:
    """One request's title calls, each in its thread; what was dropped; the turn starts to keep
    once the request is committed."""

    observations: list[Usage] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    turns: list[tuple[str, float]] = field(default_factory=list)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def state(self) -> dict[str, str]:
        """The kv row to commit with the request."""
        return {KV_TURNS: json.dumps([[c, at] for c, at in self.turns])}


def _load(saved: str | None) -> list[tuple[str, float]]:
    """The turn starts a previous run kept; anything malformed is ignored, not fatal."""
    try:
        rows = json.loads(saved or "[]")
    except ValueError:
        return []
    if not isinstance(rows, list):
        return []
    return [
        (str(row[0]), float(row[1]))
        for row in rows
        if isinstance(row, list)
        and len(row) == 2
        and isinstance(row[0], str)
        and CODEX_CONVERSATION.fullmatch(row[0])
        and isinstance(row[1], int | float)
    ]


def _days(conversation: str) -> list[str] | None:
    """The `YYYY/MM/DD` folders a UUIDv7 conversation's rollout can be in: the local day of
    its creation time, and the days either side (a clock or time zone that differs a little);
    None for an id of another version (any day's folder)."""
    if uuid.UUID(conversation).version != 7:
        return None
    created = int(conversation.replace("-", "")[:12], 16) / 1000  # 48 bits of milliseconds
    return sorted(
        {time.strftime("%Y/%m/%d", time.localtime(created + shift)) for shift in (-DAY, 0, DAY)}
    )


class TitleCallAttribution:
    """Decides, per Codex TUI call from telemetry, whether and in which thread it counts.

    Not thread-safe: the receiver calls it under its commit lock.
    """

    def __init__(self, homes: Sequence[Path], saved: str | None) -> None:
        self.homes = tuple(homes)
        self.turns = _load(saved)
        self._threads: set[str] = set()

    def has_rollout(self, conversation: str) -> bool:
        """Whether a Codex home holds the conversation's rollout (a thread of its own)."""
        if conversation in self._threads:
            return True
        name = f"rollout-*-{conversation}.jsonl"  # a UUID: no glob characters
        days = _days(conversation)
        patterns = (
            [f"sessions/{day}/{name}" for day in days] if days else [f"sessions/*/*/*/{name}"]
        )
        patterns.append(f"archived_sessions/**/{name}")
        for home in self.homes:
            for pattern in patterns:
                if next(iter(home.glob(pattern)), None) is not None:
                    if len(self._threads) >= MAX_THREADS:
                        self._threads.clear()
                    self._threads.add(conversation)
                    return True
        return False

    def attribute(self, facts: CodexFacts) -> Attributed:
        """The request's calls that are title calls, moved to their thread; nothing is kept
        until `keep` (the request may still fail to commit)."""
        out = Attributed(turns=list(dict.fromkeys(self.turns + facts.turns)))  # a batch resent
        for call in facts.calls:
            conversation = call.session_key
            if self.has_rollout(conversation):
                out.drop("in_transcript")
                continue
            own = [at for c, at in out.turns if c == conversation]
            thread = self._thread(out.turns, conversation, own[0] if own else call.at)
            if len(own) > 1 or thread is None:
                out.drop("unattributed")
                continue
            out.observations.append(dataclasses.replace(call, session_key=thread))
        newest = max((at for _, at in out.turns), default=0.0)
        recent = [(c, at) for c, at in out.turns if at >= newest - WINDOW]
        out.turns = sorted(recent, key=lambda t: t[1])[-MAX_TURNS:]
        return out

    def keep(self, attributed: Attributed) -> None:
        """The request was committed: its turn starts count from now on."""
        self.turns = attributed.turns

    def _thread(
        self, turns: list[tuple[str, float]], conversation: str, start: float
    ) -> str | None:
        """The thread whose turn started last at or before `start`, at most WINDOW earlier."""
        candidates = sorted(
            ((at, c) for c, at in turns if c != conversation and 0 <= start - at <= WINDOW),
            reverse=True,
        )
        return next((c for _, c in candidates if self.has_rollout(c)), None)
