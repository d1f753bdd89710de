"""Shared fixtures: every test gets its own data folder and config, never the real ones."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "samples"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """AITALLY_DATA_DIR and AITALLY_CONFIG point into tmp; AITALLY_* settings are cleared."""
    for name in list(os.environ):
        if name.startswith("AITALLY_"):
            monkeypatch.delenv(name)
    data = tmp_path / "aitally-data"
    monkeypatch.setenv("AITALLY_DATA_DIR", str(data))
    cfg = tmp_path / "aitally-config.toml"
    cfg.write_text("")
    monkeypatch.setenv("AITALLY_CONFIG", str(cfg))
    yield data


def aitally_cmd(*args: str) -> list[str]:
    """The installed console script, run as a real child process."""
    return [str(Path(sys.executable).parent / "aitally"), *args]
