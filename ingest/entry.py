"""The `aitally-ingest` program: the command line of aitally.ingest.cli, or, when the ingest
extra is not installed, one line naming the fix instead of a traceback.

This module imports nothing outside the standard library and aitally.core.cli_args, so it runs
on an agent-only install.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from aitally.core.cli_args import version_line

PROG = "aitally-ingest"
FIX = "pip install 'aitally[ingest]'"
# The top-level modules of the `ingest` extra (pyproject.toml) and what they pull in.
EXTRA_MODULES = frozenset(
    {
        "fastapi",
        "starlette",
        "pydantic",
        "pydantic_core",
        "uvicorn",
        "psycopg",
        "psycopg_pool",
        "jwt",
        "cryptography",
        "prometheus_client",
    }
)


def missing_extra(exc: ImportError) -> str | None:
    """The module of the ingest extra that exc failed to import, None for any other module."""
    root = (exc.name or "").split(".")[0]
    return root if root in EXTRA_MODULES else None


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `aitally-ingest`; 2 with one line on stderr when the ingest extra is missing."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        from aitally.ingest import cli

        return cli.main(args)
    except ImportError as exc:
        module = missing_extra(exc)
        if module is None:
            raise
        if args == ["--version"]:
            print(version_line(PROG))
            return 0
        print(
            f"{PROG}: {module} is missing: the ingest extra is not installed; {FIX}",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
