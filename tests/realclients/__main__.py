"""`python -m tests.realclients [--tools ...] [--scenarios ...]` (what `make realclients` runs).

Installs the pinned clients into the scratch folder and records the scenarios' fixtures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.realclients.clients import CLIENTS
from tests.realclients.install import install
from tests.realclients.runner import record
from tests.realclients.scenarios import scenarios_for

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "realclients"
# Not under /tmp: Codex refuses to create its helper links under a temporary folder.
DEFAULT_SCRATCH = Path.home() / ".cache" / "aitally-realclients"


def main(argv: list[str] | None = None) -> int:
    """Records the chosen clients' scenarios; 1 if a client could not be installed."""
    parser = argparse.ArgumentParser(prog="python -m tests.realclients", description=__doc__)
    parser.add_argument("--tools", nargs="*", default=list(CLIENTS), choices=list(CLIENTS))
    parser.add_argument("--scenarios", nargs="*", default=None, help="names (default: all)")
    parser.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH)
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    args = parser.parse_args(argv)
    status = 0
    for tool in args.tools:
        client = CLIENTS[tool]
        try:
            install(args.scratch, client)
        except RuntimeError as exc:
            print(f"{tool}: {exc}", file=sys.stderr)
            status = 1
            continue
        for scenario in scenarios_for(tool):
            if args.scenarios is None or scenario.name in args.scenarios:
                print(record(client, scenario, args.scratch, args.fixtures))
    return status


if __name__ == "__main__":
    sys.exit(main())
