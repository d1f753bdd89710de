"""Argument types shared by the `aitally` and `aitally-ingest` command lines."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """A whole number >= 1; anything else is one usage line naming the value."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value
