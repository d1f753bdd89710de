"""Answers to structured-output requests: a JSON value that satisfies the requested schema.

Clients ask for JSON in side calls (Gemini CLI's model router and next-speaker check, Codex's
thread title); a scripted value of the right shape keeps them on their normal path.
"""

from __future__ import annotations

from typing import Any


def value_for_schema(schema: dict[str, Any]) -> Any:
    """A value satisfying a (simple) JSON schema: first enum value, else a scripted filler."""
    if schema.get("enum"):
        return schema["enum"][0]
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: value_for_schema(sub) for key, sub in props.items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    return "scripted"
