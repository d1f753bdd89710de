"""Small helpers the store modules share to build SQL text safely."""

from __future__ import annotations

from collections.abc import Sequence


def placeholders(values: Sequence[object]) -> str:
    """One `?` per value, comma-separated, for an `IN (...)` clause bound to `values`."""
    return ",".join("?" * len(values))
