"""Whether to colour a program's output: the NO_COLOR and FORCE_COLOR conventions, then the tty."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO


def use_colour(stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """True when `stream` (stdout by default) should get ANSI colour.

    The order is CPython's own (3.13 `_colorize.can_colorize`): a non-empty NO_COLOR
    (no-color.org) always wins; a non-empty FORCE_COLOR (force-color.org) colours even a
    pipe or a file; otherwise only a terminal whose TERM is not `dumb` is coloured.
    """
    env = os.environ if environ is None else environ
    out = sys.stdout if stream is None else stream
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return hasattr(out, "isatty") and out.isatty() and env.get("TERM") != "dumb"


def style(text: str, code: str, colour: bool) -> str:
    """`text` wrapped in the SGR `code` (e.g. "1" bold) when `colour`, else unchanged."""
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text
