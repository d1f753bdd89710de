"""`python -m aitally.cli_docs OUT`: both programs' completions and man pages, from the parsers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aitally import cli_docs

NAMES = {
    f"{prog}{suffix}"
    for prog in ("aitally", "aitally-ingest")
    for suffix in (".bash", ".fish", ".1")
} | {"_aitally", "_aitally-ingest"}


def test_writes_both_programs_files(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aitally.cli_docs", str(tmp_path / "cli")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (tmp_path / "cli").iterdir()} == NAMES
    assert (
        "complete -F _aitally_ingest aitally-ingest"
        in (tmp_path / "cli" / "aitally-ingest.bash").read_text()
    )
    assert ".TH AITALLY 1" in (tmp_path / "cli" / "aitally.1").read_text()


def test_usage_without_a_folder() -> None:
    assert cli_docs.main([]) == 2
