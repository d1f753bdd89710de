"""`aitally-ingest --version`, and one line naming the fix when the ingest extra is missing
(ingest/entry.py): the missing import is simulated with a None entry in sys.modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aitally.core.cli_args import installed_version
from tests.ingest.conftest import PSEUDONYM_KEYS, ingest_cmd

SHIM = "import sys; sys.modules[{module!r}] = None; from aitally.ingest.entry import main; "
SHIM += "sys.exit(main())"


def without(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """aitally-ingest ARGS in a Python where importing module fails."""
    code = SHIM.format(module=module)
    env = {**os.environ, "AITALLY_INGEST_PSEUDONYM_KEYS": PSEUDONYM_KEYS}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_version() -> None:
    done = subprocess.run(ingest_cmd("--version"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"aitally-ingest {installed_version()}\n"


@pytest.mark.parametrize(
    ("module", "db"),
    [
        ("fastapi", "sqlite"),
        ("uvicorn", "sqlite"),
        ("prometheus_client", "sqlite"),
        # Only a PostgreSQL database needs the pool; nothing listens on port 9.
        ("psycopg_pool", "postgresql://nobody@127.0.0.1:9/none"),
    ],
)
def test_serve_without_the_extra_names_the_fix(module: str, db: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ingest.db'}" if db == "sqlite" else db
    done = without(module, "serve", "--db", url)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "pip install 'aitally[ingest]'" in done.stderr and module in done.stderr
    assert done.stdout == ""


def test_version_without_the_extra() -> None:
    done = without("fastapi", "--version")
    assert (done.returncode, done.stdout) == (0, f"aitally-ingest {installed_version()}\n")
