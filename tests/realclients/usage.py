"""The usage of one billed reply in aitally's wire kinds, drawn from a seeded RNG.

The five kinds are disjoint (docs/wire-protocol.md): `output` excludes `reasoning` and `input`
excludes `cache_read`/`cache_write`. Each API module renders them the way its API reports usage.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

WIRE_KINDS = ("input", "output", "cache_read", "cache_write", "reasoning")


@dataclass(frozen=True)
class Usage:
    """Billed tokens of one reply, by wire kind."""

    input: int
    output: int
    cache_read: int
    cache_write: int
    reasoning: int

    def as_dict(self) -> dict[str, int]:
        """The five kinds as a plain dict (the stand-in log's `wire` field)."""
        return asdict(self)


def draw_usage(rng: random.Random, *, caching: bool, reasoning: bool) -> Usage:
    """A plausible reply's usage: `caching` for APIs that report cache writes (Anthropic),
    `reasoning` for APIs that report reasoning tokens separately (OpenAI, Gemini)."""
    return Usage(
        input=rng.randint(40, 4000),
        output=rng.randint(5, 600),
        cache_read=rng.randint(0, 30000),
        cache_write=rng.randint(0, 3000) if caching else 0,
        reasoning=rng.randint(0, 400) if reasoning else 0,
    )


def add_usage(totals: dict[str, int], wire: dict[str, int]) -> None:
    """Adds one reply's wire kinds into running totals."""
    for kind in WIRE_KINDS:
        totals[kind] = totals.get(kind, 0) + int(wire.get(kind, 0))
