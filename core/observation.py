"""Content-free observations: the only values that flow from collectors to the sessionizer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from aitally.core.wire import TOKEN_KINDS

Role = Literal["session", "daemon", "helper"]
# Kinds of activity: a person's prompt counts as a turn; the others only show use ("visit": a
# page of an AI service opened in a browser).
ActivityKind = Literal["prompt", "reply", "tool", "file", "cpu", "visit"]


# The four kinds a transcript catch-up makes by the hundred thousand are plain (not frozen)
# slotted dataclasses: a frozen one is built through object.__setattr__ per field, 1.0-1.3 us
# against 0.2-0.3 for seven fields, about 7 % of a catch-up's CPU (bench/README.md, File
# collectors). Nothing changes an observation once made; none is hashed.
@dataclass(slots=True)
class Tokens:
    """Token counts of one reply; None means the tool does not record that kind."""

    input: int | None = None
    output: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None
    reasoning: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {k: getattr(self, k) for k in TOKEN_KINDS}

    def total(self) -> int:
        return sum(v for v in self.as_dict().values() if v)


@dataclass(frozen=True, slots=True)
class ProcessSeen:
    """A process of a tool is alive; emitted on every scan while it lives."""

    tool: str
    pid: int
    create_time: float
    at: float
    surface: str = "cli"
    role: Role = "session"
    # CPU seconds burnt since the previous scan by the process and its folded helpers.
    cpu_delta: float = 0.0
    # Seconds since the previous scan on the monotonic clock (0 on first sight).
    interval: float = 0.0
    busy: bool = False


@dataclass(frozen=True, slots=True)
class ProcessGone:
    """A previously seen tool process has exited."""

    tool: str
    pid: int
    create_time: float
    at: float


@dataclass(frozen=True, slots=True)
class ProcessLink:
    """A live process belongs to a tool's own session (e.g. Claude Code sessions/<pid>.json)."""

    tool: str
    pid: int
    tool_session_id: str
    at: float


@dataclass(slots=True)
class Activity:
    """Evidence of use of a tool session at a moment."""

    tool: str
    session_key: str
    at: float
    kind: ActivityKind = "file"
    signal: str = "transcript"
    surface: str | None = None
    tool_version: str | None = None


@dataclass(slots=True)
class Usage:
    """Tokens of one model reply; dedup_key is the tool's own id so re-reads count once.

    call_id is the API request id of the billed call when the source carries it (Claude
    Code's transcript `requestId` and its telemetry's `request_id`): the same call seen by
    two signals is counted once, by whichever came first (core/store/sessions.py claim_call).

    merge: the reply under dedup_key is seen in several places with figures that only grow
    (a Claude Code subagent's last reply: a streaming placeholder in its own file, complete
    in its parent's tool result); whatever the order, only what exceeds the largest figures
    counted so far is added (core/store/sessions.py grow_usage).
    """

    tool: str
    session_key: str
    at: float
    model: str | None
    tokens: Tokens
    dedup_key: str | None = None
    signal: str = "transcript"
    surface: str | None = None
    tool_version: str | None = None
    call_id: str | None = None
    merge: bool = False


@dataclass(slots=True)
class OutcomeCounts:
    """Content-free counts of what a use produced at a moment (`OUTCOME_KINDS`, e.g. one edit
    proposed and accepted with its lines added and removed); kinds the tool does not record
    are absent, never zero. dedup_key is the tool's own id of the call (a tool-use or
    tool-call id) so that re-read or copied history counts once, as for `Usage`.

    tool_wide: the counts belong to the tool, not to one of its sessions (Cursor's daily line
    counts and scored commits): they join the tool's segment in use at `at` if there is one,
    else the session `session_key` (one per day) with no active time (docs/architecture.md).
    """

    tool: str
    session_key: str
    at: float
    counts: Mapping[str, int]
    dedup_key: str | None = None
    signal: str = "transcript"
    tool_wide: bool = False


Observation = ProcessSeen | ProcessGone | ProcessLink | Activity | Usage | OutcomeCounts


@dataclass(slots=True)
class ParseStats:
    """What an adapter skipped, by reason; surfaced in `aitally status`."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str, n: int = 1) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + n
