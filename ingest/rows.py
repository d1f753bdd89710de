"""What storage hands back: named rows, read by attribute (aitally.ingest.storage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


class Stored(NamedTuple):
    """What storing one batch did."""

    accepted: int
    """records inserted now"""
    duplicate: int
    """records already stored (or repeated within the batch), left unchanged"""
    taken: list[str]
    """record ids another device sent first: refused, never merged"""


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """A device's upload counters and the health figures its agent sent last."""

    batches: int
    accepted: int
    duplicate: int
    rejected: int
    queue_depth: int | None
    dead_letter: int | None
    dropped: dict[str, int]
    parse_errors: dict[str, int]


@dataclass(frozen=True, slots=True)
class Device:
    """One enrolled device, as the admin lists it; never its token nor the token's hash."""

    device_id: str
    label: str | None
    agent_version: str | None
    os: str | None
    enrolled_at: float
    last_seen_at: float | None
    revoked_at: float | None
    revoked: bool
    proof: str | None
    """"asserted" or "oidc"; None for devices enrolled before proofs were recorded"""
    health: DeviceHealth | None
    """None until the device has sent a batch"""


class UsageClass(NamedTuple):
    """The people of one day (and tool) who used the same set of tools (or models), and how
    many they are (storage_usage)."""

    day: str
    tool: str
    """'' for classes by tool"""
    names: frozenset[str]
    """the tools, or the tool's models, they used that day"""
    people: int


class UsageCell(NamedTuple):
    """One row of the usage report before rounding: distinct people and sums of a period and
    a shown name (a tool, (other) or (all))."""

    period: str
    name: str
    people: int
    active_seconds: float
    sessions: int
    turns: int
    tok_input: int
    tok_output: int
    tok_cache_read: int
    tok_cache_write: int
    tok_reasoning: int


class ModelCell(NamedTuple):
    """One row of the usage report's models: a period, tool and shown model name."""

    period: str
    tool: str
    name: str
    people: int
    tok_input: int
    tok_output: int
    tok_cache_read: int
    tok_cache_write: int
    tok_reasoning: int


class AuditEntry(NamedTuple):
    """One line of the append-only audit log: who did what, when."""

    at: float
    actor: str
    action: str
    detail: dict[str, Any]


class Bucket(NamedTuple):
    """A report period cut at ISO week ends: the days of one period within one ISO week."""

    period: str
    """the period's first day"""
    week: str
    """the ISO week's Monday"""
    first_day: str
    last_day: str


FIGURE_SUMS = (
    "acceptance_rate",
    "lines_per_active_hour",
    "kept_change_share",
    "failure_rate",
    "commits_with_ai_per_person_week",
)
"""The effectiveness figures, in the order of OutcomeCell.sums (storage_outcomes)."""


class OutcomeItem(NamedTuple):
    """Where one person counts in the effectiveness report of a period: a tool and org unit
    with active use, and there the figures they contribute to."""

    tool: str
    org_unit: str | None
    figures: frozenset[str]
    """FIGURE_SUMS names whose denominator their rows make above 0"""
    commit_weeks: frozenset[str]
    """ISO weeks (Mondays) in which an active record of theirs carried commits_with_ai"""


class OutcomeClass(NamedTuple):
    """The people of one period with the same effectiveness items, and how many they are."""

    period: str
    items: frozenset[OutcomeItem]
    people: int


class OutcomeCell(NamedTuple):
    """The sums of one period, tool and org unit over the rows of people with active use."""

    period: str
    tool: str
    org_unit: str | None
    sums: tuple[float, ...]
    """per FIGURE_SUMS name, its numerator then its denominator, summed over the rows that
    contribute to it (the last denominator counts rows, not person-weeks)"""


class PersonFigures(NamedTuple):
    """One person's figures behind the levels recipes, over the last 12 and 4 full weeks."""

    person: str
    active_weeks: int
    """ISO weeks with active use, of the 12"""
    volume: float
    """active seconds of the 4 weeks"""
    active: bool
    """any active use in the 4 weeks"""
    kept: bool
    """any record of the 4 weeks with an accepted edit or accepted lines"""
    agentic_tools: int
    """tools with a multi-step change that reached a commit in the 4 weeks (rollups.AGENTIC)"""


class SeenIn(NamedTuple):
    """How many of a person's rollup rows (days and tools) carry one org unit."""

    person: str
    org_unit: str | None
    rows: int


class PeopleClass(NamedTuple):
    """The people of one period with the same adoption profile, and how many they are."""

    period: str
    cells: frozenset[tuple[str, str | None]]
    """(tool, org unit) of every cell they count in (active in the period)"""
    engaged_tools: frozenset[str]
    """tools they were active on on 2+ days of the 28 up to the period's end"""
    engaged: bool
    """active (on any tool) on 2+ days of those 28"""
    people: int


class PeriodKey(NamedTuple):
    """Which cached answer: a report (levels.<recipe> for levels) over one period, at one
    minimum group size and version (aitally.ingest.report_cache)."""

    report: str
    granularity: str
    period: str
    k: int
    version: str


class CachedPeriod(NamedTuple):
    """One period's answer as the report cache keeps it."""

    key: PeriodKey
    first_day: str
    """the first day the answer reads (adoption: its engaged window's)"""
    last_day: str
    as_of: float
    """epoch seconds: the answer shows the database as it stood then"""
    body: str
    """the one-period answer, JSON (empty when listed without it)"""
