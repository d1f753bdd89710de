"""The colour decision both programs share: NO_COLOR, FORCE_COLOR, then a real terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from aitally.core.terminal import style, use_colour


@pytest.fixture
def tty() -> Iterator[TextIO]:
    """The writing end of a real pseudo-terminal."""
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w")
    yield stream
    stream.close()
    os.close(master)


@pytest.mark.parametrize(
    ("env", "on_tty", "on_pipe"),
    [
        ({}, True, False),
        ({"TERM": "dumb"}, False, False),
        ({"NO_COLOR": "1"}, False, False),
        ({"NO_COLOR": ""}, True, False),  # empty means unset (no-color.org)
        ({"FORCE_COLOR": "1"}, True, True),
        ({"FORCE_COLOR": "0"}, True, True),  # any non-empty value (force-color.org)
        ({"FORCE_COLOR": ""}, True, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
        ({"FORCE_COLOR": "1", "TERM": "dumb"}, True, True),
    ],
)
def test_conventions(env: dict[str, str], on_tty: bool, on_pipe: bool, tty: TextIO) -> None:
    assert use_colour(tty, {"TERM": "xterm", **env}) is on_tty
    assert use_colour(io.StringIO(), {"TERM": "xterm", **env}) is on_pipe


def test_style_wraps_only_when_colouring() -> None:
    assert style("x", "1", True) == "\x1b[1mx\x1b[0m"
    assert style("x", "1", False) == "x"


def test_the_ingest_program_follows_them_too(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ingest.db'}"
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}

    def devices(**extra: str) -> str:
        argv = [sys.executable, "-m", "aitally.ingest.cli", "devices", "list", "--db", db]
        done = subprocess.run(
            argv, capture_output=True, text=True, env={**base, **extra}, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert devices().startswith("device_id")  # a pipe: plain
    assert devices(FORCE_COLOR="1").startswith("\x1b[1mdevice_id")
    assert devices(FORCE_COLOR="1", NO_COLOR="1").startswith("device_id")
