"""Shared fixtures: every test gets its own data folder and config, never the real ones."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "samples"
TOOL_VARIABLES = {"CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_DIR", "COPILOT_HOME"}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """HOME, AITALLY_DATA_DIR and AITALLY_CONFIG point into tmp; tool and AITALLY_* variables
    are cleared, so no test ever reads or writes the real user's files."""
    for name in list(os.environ):
        if name.startswith(("AITALLY_", "XDG_")) or name in TOOL_VARIABLES:
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    data = tmp_path / "aitally-data"
    monkeypatch.setenv("AITALLY_DATA_DIR", str(data))
    cfg = tmp_path / "aitally-config.toml"
    cfg.write_text("")
    monkeypatch.setenv("AITALLY_CONFIG", str(cfg))
    yield data


def aitally_cmd(*args: str) -> list[str]:
    """The installed console script, run as a real child process."""
    return [str(Path(sys.executable).parent / "aitally"), *args]
