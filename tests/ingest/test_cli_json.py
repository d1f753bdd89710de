"""`--json` on every `aitally-ingest` command that answers in text: one JSON object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aitally.core import cli_help
from aitally.ingest.cli import build_parser


def ingest(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "aitally.ingest.cli", *args, "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert isinstance(data, dict)
    return data


def test_every_command_answers_json(tmp_path: Path) -> None:
    # serve runs the service, audit prints JSON lines, report has --format json
    machine_readable = {"serve", "audit", "report"}
    for name, sub, _ in cli_help.subcommands(build_parser()):
        flags = {f for o in cli_help.options(sub) for f in o.flags}
        assert name in machine_readable or "--json" in flags, name
    db = f"sqlite:///{tmp_path / 'ingest.db'}"
    migrated = ingest("migrate", "--db", db)
    assert migrated["dialect"] == "sqlite" and isinstance(migrated["schema_version"], int)
    assert ingest("devices", "list", "--db", db) == {"devices": []}
    assert ingest("purge", "--months", "13", "--db", db) == {"records": 0, "months": 13}
    keys = tmp_path / "keys"
    keys.write_text("k1:" + "ab" * 32 + "\n")
    keys.chmod(0o600)
    erased = ingest("erase", "--login", "jdoe", "--pseudonym-key-file", str(keys), "--db", db)
    assert erased["records"] == 0 and str(erased["person"]).startswith("hmac:k1:")
