"""Writes the TOML subset aitally's configuration uses (tomllib only reads)."""

from __future__ import annotations

import json
import math
from typing import Any


def value(v: Any) -> str:
    """A TOML value for v."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v!r} has no TOML form here")
        return repr(v)
    if isinstance(v, str):
        # A JSON string is a TOML basic string, but for U+007F (DEL), a control character
        # TOML forbids raw and JSON leaves alone.
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def key(k: str) -> str:
    """A TOML key: bare where it can be, else quoted."""
    bare = k and all(c.isascii() and (c.isalnum() or c in "-_") for c in k)
    return k if bare else json.dumps(k)


def dumps(doc: dict[str, Any]) -> str:
    """Tables of scalars as [section], lists of tables as [[name]]."""
    out: list[str] = []
    for name, table in doc.items():
        if isinstance(table, list):
            for item in table:
                out.append(f"[[{key(name)}]]")
                out.extend(f"{key(k)} = {value(v)}" for k, v in item.items())
                out.append("")
            continue
        out.append(f"[{key(name)}]")
        out.extend(f"{key(k)} = {value(v)}" for k, v in table.items())
        out.append("")
    return "\n".join(out)
