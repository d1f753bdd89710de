"""How commands of both programs answer: a line for people, or with `--json` one JSON object."""

from __future__ import annotations

import argparse
import json
from typing import Any

JSON_HELP = "print one JSON object instead of text"


def add_json(p: argparse.ArgumentParser) -> None:
    """Adds the `--json` flag every command has."""
    p.add_argument("--json", action="store_true", help=JSON_HELP)


def emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """Prints `data` as JSON under `--json`, else `text`."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(text)
