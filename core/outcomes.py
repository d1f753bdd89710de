"""Outcome counts (`OUTCOME_KINDS`): how they add up and the one order they are shown and sent in.

A kind absent from a mapping was not recorded (distinct from 0), so sums keep it absent
unless some part records it.
"""

from __future__ import annotations

from collections.abc import Mapping

from aitally.core.wire import OUTCOME_KINDS


def add_outcomes(acc: dict[str, int], counts: Mapping[str, int]) -> None:
    """Adds `counts` to `acc`, kind by kind: a segment's outcomes are the sum of its
    observations', a day's the sum of its segments'."""
    for kind, n in counts.items():
        acc[kind] = acc.get(kind, 0) + n


def in_order(counts: Mapping[str, int]) -> dict[str, int]:
    """The recorded kinds in `OUTCOME_KINDS` order (the wire's `outcomes` object); other keys
    are dropped."""
    return {k: int(counts[k]) for k in OUTCOME_KINDS if k in counts}
